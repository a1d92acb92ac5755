"""Column mappings as data: which header of an export is which contract column.

A mapping is a YAML file (see docs/mappings.md) for one entity: header -> column(s),
constants (a column every row of the file gets, e.g. the shop of a Taobao order report),
value maps (the export's words -> the contract's, per column), extra time formats
(`%Y/%m/%d %H:%M`), and which files it applies to: file-name patterns (`files`, matched
against the file NAME only, with fnmatch; files are always opened by their exact path)
and/or sub-folder names inside the entity folder (`folders`).

Where mappings come from, first match wins:
1. the user's own: `<landing>/mappings/*.yaml`, then `--mappings DIR` (files in name order);
2. the shipped ones: `kefu/mappings/*.yaml`;
3. the entity's default mapping (`kefu/mappings/default_<entity>.yaml`): the built-in
   aliases. Every mapping extends its entity's default (or the mapping named in `extends`,
   which itself extends the default), so the built-in aliases are one list in one place.
A user mapping with neither `files` nor `folders` applies to every file of its entity.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import yaml

from kefu.loading.entities import ENTITIES, Entity, normalise_header

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "mappings"
LANDING_MAPPINGS = "mappings"  # the folder of user mappings inside the landing zone
_KEYS = {
    "name",
    "entity",
    "default",
    "extends",
    "description",
    "sources",
    "files",
    "folders",
    "columns",
    "constants",
    "values",
    "time_formats",
    "derived_ids",
}


class MappingError(Exception):
    """A mapping file that cannot be used: the message names the file and the reason."""


@dataclass(frozen=True)
class Mapping:
    """One mapping, merged with what it extends (see `MappingSet.resolve`)."""

    name: str
    entity: str
    origin: str  # the file it was read from (shown in messages)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # normalised header ->
    headers: dict[str, str] = field(default_factory=dict)  # normalised header -> as written
    unconfirmed: frozenset[str] = frozenset()  # normalised headers marked unconfirmed
    specific: frozenset[str] = frozenset()  # normalised headers not from the default mapping
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> word -> value
    time_formats: tuple[str, ...] = ()
    derived_ids: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id <- columns
    files: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()
    extends: str | None = None
    is_default: bool = False
    is_user: bool = False

    def lookup(self) -> dict[str, tuple[str, ...]]:
        """Normalised header -> columns, the contract's own column names included."""
        found = {column.name: (column.name,) for column in ENTITIES[self.entity].columns}
        found.update(self.columns)
        return found

    def label(self, column: str) -> str:
        """The column with its first header in this mapping, for messages: "sent_at (发送时间)"."""
        for header, columns in self.columns.items():
            if column in columns and header != column:
                return f"{column} ({self.headers[header]})"
        return column

    def applies_to(self, relative_in_entity: PurePosixPath) -> bool:
        """Does this mapping apply to the file at this path inside its entity folder?"""
        if self.is_default:
            return False
        if not self.files and not self.folders:
            return self.is_user
        name = relative_in_entity.name
        if any(fnmatch.fnmatch(name, pattern) for pattern in self.files):
            return True
        folders = {part.lower() for part in relative_in_entity.parts[:-1]}
        return any(folder.lower() in folders for folder in self.folders)


class MappingSet:
    """Every mapping a load or an inspect can use."""

    def __init__(self, mappings: list[Mapping]) -> None:
        self.by_name: dict[str, Mapping] = {}
        for mapping in mappings:  # a user mapping replaces a shipped one of the same name
            self.by_name[mapping.name] = mapping
        user = [m.name for m in mappings if m.is_user]
        shipped = [m.name for m in mappings if not m.is_user and not m.is_default]
        self.order = list(dict.fromkeys(user + [name for name in shipped if name not in user]))
        for entity in ENTITIES:
            if f"default_{entity}" not in self.by_name:
                self.by_name[f"default_{entity}"] = Mapping(
                    f"default_{entity}", entity, "(built in)", is_default=True
                )
        for name in self.by_name:
            self.resolve(name)  # fail early on a bad `extends`

    def default(self, entity: str) -> Mapping:
        return self.by_name[f"default_{entity}"]

    def resolve(self, name: str, seen: tuple[str, ...] = ()) -> Mapping:
        """The mapping merged over what it extends (its entity's default at the root)."""
        mapping = self.by_name[name]
        if mapping.is_default:
            return mapping
        parent_name = mapping.extends or f"default_{mapping.entity}"
        if parent_name in seen or parent_name == name:
            raise MappingError(f"{mapping.origin}: `extends` goes round in a circle ({name})")
        parent = self.by_name.get(parent_name)
        if parent is None:
            raise MappingError(f"{mapping.origin}: extends {parent_name!r}, no such mapping")
        if parent.entity != mapping.entity:
            raise MappingError(
                f"{mapping.origin}: extends {parent_name!r}, a mapping of {parent.entity}, "
                f"not {mapping.entity}"
            )
        base = self.resolve(parent_name, (*seen, name))
        values = {column: dict(words) for column, words in base.values.items()}
        for column, words in mapping.values.items():
            values.setdefault(column, {}).update(words)
        return replace(
            mapping,
            columns={**base.columns, **mapping.columns},
            headers={**base.headers, **mapping.headers},
            unconfirmed=base.unconfirmed | mapping.unconfirmed,
            specific=base.specific | frozenset(mapping.columns),
            constants={**base.constants, **mapping.constants},
            values=values,
            time_formats=(*mapping.time_formats, *base.time_formats),
            derived_ids={**base.derived_ids, **mapping.derived_ids},
            files=mapping.files or (() if base.is_default else base.files),
            folders=mapping.folders or (() if base.is_default else base.folders),
        )

    def for_file(self, entity: str, relative_in_entity: PurePosixPath) -> Mapping:
        """The mapping of a file: the first user or shipped mapping that applies, else the
        entity's default."""
        for name in self.order:
            mapping = self.resolve(name)
            if mapping.entity == entity and mapping.applies_to(relative_in_entity):
                return mapping
        return self.default(entity)


# Reading -----------------------------------------------------------------------------------


def load_mappings(landing_dir: Path | None = None, extra_dir: Path | None = None) -> MappingSet:
    """The shipped mappings, then the landing zone's `mappings/`, then `extra_dir`."""
    mappings = [read_mapping(path, is_user=False) for path in _yaml_files(SHIPPED_DIR)]
    user_dirs = []
    if landing_dir is not None and (landing_dir / LANDING_MAPPINGS).is_dir():
        user_dirs.append(landing_dir / LANDING_MAPPINGS)
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise MappingError(f"{extra_dir}: mappings folder not found")
        user_dirs.append(extra_dir)
    for folder in user_dirs:
        mappings += [read_mapping(path, is_user=True) for path in _yaml_files(folder)]
    return MappingSet(mappings)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in (".yaml", ".yml")
        and path.is_file()
        and not path.name.startswith(".")
    )


def read_mapping(path: Path, is_user: bool) -> Mapping:
    """One mapping file, checked; MappingError names the file and what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MappingError(f"{path}: cannot be read as YAML: {reason}") from exc
    return parse_mapping(data, str(path), is_user)


def parse_mapping(data: object, origin: str, is_user: bool) -> Mapping:
    if not isinstance(data, dict):
        raise MappingError(f"{origin}: a mapping file is a YAML object (key: value lines)")
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise MappingError(
            f"{origin}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})"
        )
    entity_name = _text(data.get("entity"), origin, "entity")
    if entity_name not in ENTITIES:
        raise MappingError(f"{origin}: entity {entity_name!r} is not one of {', '.join(ENTITIES)}")
    entity = ENTITIES[entity_name]
    name = _text(data.get("name", Path(origin).stem), origin, "name")
    columns, headers, unconfirmed = _columns(data.get("columns") or {}, entity, origin)
    return Mapping(
        name=name,
        entity=entity_name,
        origin=origin,
        columns=columns,
        headers=headers,
        unconfirmed=frozenset(unconfirmed),
        constants=_constants(data.get("constants") or {}, entity, origin),
        values=_values(data.get("values") or {}, entity, origin),
        time_formats=tuple(_texts(data.get("time_formats"), origin, "time_formats")),
        derived_ids=_derived_ids(data.get("derived_ids") or {}, entity, origin),
        files=tuple(_texts(data.get("files"), origin, "files")),
        folders=tuple(_texts(data.get("folders"), origin, "folders")),
        extends=_text(data["extends"], origin, "extends") if data.get("extends") else None,
        is_default=bool(data.get("default")) and not is_user,
        is_user=is_user,
    )


def _text(value: object, origin: str, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or value == "":
        raise MappingError(f"{origin}: `{key}` must be a text value")
    return str(value)


def _texts(value: object, origin: str, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise MappingError(f"{origin}: `{key}` must be a text or a list of texts")
    return [_text(item, origin, key) for item in value]


def _check_column(entity: Entity, column: str, origin: str, where: str) -> str:
    names = [c.name for c in entity.columns]
    if column not in names:
        raise MappingError(
            f"{origin}: {where}: {column!r} is not a column of {entity.name} "
            f"(columns: {', '.join(names)})"
        )
    return column


def _columns(
    raw: object, entity: Entity, origin: str
) -> tuple[dict[str, tuple[str, ...]], dict[str, str], set[str]]:
    """`columns:` entries: `header: column`, `header: [column, column]` or
    `header: {column: column_or_list, unconfirmed: true}`."""
    if not isinstance(raw, dict):
        raise MappingError(f"{origin}: `columns` must be `header: column` lines")
    columns: dict[str, tuple[str, ...]] = {}
    headers: dict[str, str] = {}
    unconfirmed: set[str] = set()
    for header, target in raw.items():
        where = f"columns: {header}"
        key = normalise_header(str(header))
        if isinstance(target, dict):
            extra = set(map(str, target)) - {"column", "unconfirmed", "note"}
            if extra:
                raise MappingError(f"{origin}: {where}: unknown key {sorted(extra)[0]!r}")
            if target.get("unconfirmed"):
                unconfirmed.add(key)
            target = target.get("column")
        names = _texts(target, origin, where)
        if not names:
            raise MappingError(f"{origin}: {where}: names no column")
        columns[key] = tuple(_check_column(entity, n, origin, where) for n in names)
        headers[key] = str(header)
    return columns, headers, unconfirmed


def _constants(raw: object, entity: Entity, origin: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise MappingError(f"{origin}: `constants` must be `column: value` lines")
    return {
        _check_column(entity, str(column), origin, "constants"): _text(value, origin, column)
        for column, value in raw.items()
    }


def _values(raw: object, entity: Entity, origin: str) -> dict[str, dict[str, str]]:
    if not isinstance(raw, dict):
        raise MappingError(f"{origin}: `values` must be `column: {{word: value}}` lines")
    found: dict[str, dict[str, str]] = {}
    for column, words in raw.items():
        _check_column(entity, str(column), origin, "values")
        if not isinstance(words, dict):
            raise MappingError(f"{origin}: values: {column}: must be `word: value` lines")
        found[str(column)] = {
            str(word).strip(): _text(value, origin, f"values: {column}: {word}")
            for word, value in words.items()
        }
    return found


def _derived_ids(raw: object, entity: Entity, origin: str) -> dict[str, tuple[str, ...]]:
    """`derived_ids: {message_id: [shop_id, buyer_id, sent_at, content]}`: an export without
    an id column gets one made of those columns' values (the same row gives the same id in
    every export, so re-exported rows are still duplicates)."""
    if not isinstance(raw, dict):
        raise MappingError(f"{origin}: `derived_ids` must be `column: [columns]` lines")
    found: dict[str, tuple[str, ...]] = {}
    for column, sources in raw.items():
        name = _check_column(entity, str(column), origin, "derived_ids")
        names = _texts(sources, origin, f"derived_ids: {column}")
        if not names or name in names:
            raise MappingError(
                f"{origin}: derived_ids: {column}: list the other columns it is made of"
            )
        found[name] = tuple(_check_column(entity, n, origin, "derived_ids") for n in names)
    return found
