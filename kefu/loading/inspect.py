"""`kefu inspect FILE`: what a load would make of one export, without writing anything.

It runs the loader's own steps on the file (kefu.loading.readers reads it, the mapping is
chosen as a load would, kefu.loading.transform types and checks every value) in an
in-memory DuckDB database and a temporary folder: no warehouse is opened or created,
nothing is registered, the landing zone is not touched. It reports the detected encoding
and delimiter, the header row, which header maps to which column (and for each required
column that is missing, the mapping line that would fix it), the first rows as they would
load and the rows that would be quarantined, with the reason.

What it cannot know without the warehouse: shop timezones and rulesets other than the
defaults (from shops/ files loaded before), and duplicates of rows loaded before.
"""

from __future__ import annotations

import difflib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import duckdb
import yaml

from kefu.loading.bounds import DEFAULT_RULESET, read_bounds, today_utc
from kefu.loading.entities import DEFAULT_TIMEZONE, ENTITIES, Entity, Kind, normalise_header
from kefu.loading.landing import FORMATS, LandingFile
from kefu.loading.mappings import Mapping, MappingError, load_mappings
from kefu.loading.readers import FileRejected, Source, fingerprint, read_source
from kefu.loading.run import mark_encoding_errors, prepare_line_fix, quarantine_conflicts
from kefu.loading.transform import (
    CLEAN,
    CleanPlan,
    build_clean,
    header_matches,
    install_macros,
    missing_columns,
)
from kefu.schema import create_raw_schema

SHOWN_CHARS = 24  # a value longer than this is cut in the listing


class InspectError(Exception):
    """The file cannot be inspected at all (not found, entity unknown, bad mapping)."""


@dataclass
class Inspection:
    """What `inspect_file` found; `lines` is the report, `rejection` why a load would
    reject the file (None: it would load)."""

    lines: list[str] = field(default_factory=list)
    rejection: str | None = None
    rows_read: int = 0
    rows_good: int = 0
    rows_quarantined: int = 0

    def add(self, line: str = "") -> None:
        self.lines.append(line)

    def text(self) -> str:
        return "\n".join(self.lines)


def inspect_file(
    path: Path, entity_name: str | None = None, mappings_dir: Path | None = None, rows: int = 5
) -> Inspection:
    """Read, map and check one file as `kefu load` would; write nothing."""
    if not path.is_file():
        raise InspectError(f"{path}: not a file")
    entity, within, landing_dir = _place(path, entity_name)
    try:
        mappings = load_mappings(landing_dir, mappings_dir)
    except MappingError as exc:
        raise InspectError(f"mapping {exc}") from exc
    mapping = mappings.for_file(entity.name, within)
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise InspectError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r} "
            f"(accepted: {', '.join(FORMATS)})"
        )
    landing_file = LandingFile(path, f"{entity.name}/{within.as_posix()}", entity.name, file_format)
    result = Inspection()
    result.add(f"file:      {path}")
    result.add(f"entity:    {entity.name}   format: {file_format}")
    result.add(f"mapping:   {mapping.name} ({mapping.origin})")
    with tempfile.TemporaryDirectory(prefix="kefu-inspect-") as workdir:
        con = duckdb.connect()  # in memory: nothing is written
        try:
            con.execute("set enable_progress_bar = false")
            create_raw_schema(con)
            install_macros(con)
            _inspect(con, landing_file, entity, mapping, Path(workdir), rows, result)
        except FileRejected as exc:
            result.rejection = str(exc)
        finally:
            con.close()
    if result.rejection:
        result.add(f"would be REJECTED: {result.rejection}")
    else:
        result.add(
            f"would load {result.rows_good} of {result.rows_read} rows, "
            f"quarantine {result.rows_quarantined}"
        )
    return result


def _place(path: Path, entity_name: str | None) -> tuple[Entity, PurePosixPath, Path | None]:
    """The entity, the path inside its folder and the landing zone (the entity folder's
    parent) of a file: from --entity, else from the nearest folder named like an entity."""
    resolved = path.resolve()
    for folder in resolved.parents:
        if folder.name.lower() in ENTITIES and (entity_name in (None, folder.name.lower())):
            within = PurePosixPath(resolved.relative_to(folder).as_posix())
            return ENTITIES[folder.name.lower()], within, folder.parent
    if entity_name is None:
        raise InspectError(
            f"{path}: cannot tell the entity from the folder: pass --entity "
            f"(one of {', '.join(ENTITIES)})"
        )
    if entity_name not in ENTITIES:
        raise InspectError(f"unknown entity {entity_name!r} (one of {', '.join(ENTITIES)})")
    return ENTITIES[entity_name], PurePosixPath(path.name), None


def _inspect(
    con: duckdb.DuckDBPyConnection,
    landing_file: LandingFile,
    entity: Entity,
    mapping: Mapping,
    workdir: Path,
    rows: int,
    result: Inspection,
) -> None:
    fp = fingerprint(landing_file)
    source = read_source(con, landing_file, fp, workdir)
    result.rows_read = source.rows
    encoding = source.encoding or fp.encoding
    result.add(f"encoding:  {encoding or 'binary (' + (landing_file.file_format or '') + ')'}")
    if landing_file.file_format == "csv":
        result.add(f"delimiter: {_delimiter(source)}")
    result.add(
        f"header:    {'line 1' if landing_file.file_format in ('csv', 'xlsx') else 'keys'}, "
        f"{len(source.headers)} columns; {source.rows} data rows"
    )
    if source.bad_lines:
        result.add(f"           {len(source.bad_lines)} lines do not decode as {encoding}")
    result.add("")
    found, unmatched = header_matches(entity, source.headers, mapping)
    _columns_report(entity, mapping, source, found, result)
    missing = missing_columns(entity, found, mapping)
    if missing:
        _missing_report(entity, mapping, source, missing, unmatched, result)
        plural = "s" if len(missing) > 1 else ""
        labels = ", ".join(mapping.label(name) for name in missing)
        raise FileRejected(f"missing required column{plural}: {labels}")
    bounds = read_bounds()
    plan = CleanPlan(
        entity=entity,
        mapping=mapping,
        columns=found,
        headers=source.headers,
        line_sql=source.line_sql,
        timezones={},
        load_day=today_utc(),
        bounds=bounds[DEFAULT_RULESET],
    )
    build_clean(con, plan)
    mark_encoding_errors(con, source)
    quarantine_conflicts(con, entity, landing_file)
    prepare_line_fix(con, landing_file, source)
    _rows_report(con, entity, rows, result)


def _delimiter(source: Source) -> str:
    """The loader reads CSV with commas; say so, and warn when the header looks otherwise."""
    if len(source.headers) == 1 and source.text_path is not None:
        first = source.text_path.read_text(encoding="utf-8-sig", errors="replace")[:2000]
        first_line = first.splitlines()[0] if first else ""
        for name, char in (("tab", "\t"), ("semicolon", ";"), ("|", "|")):
            if first_line.count(char) >= 1:
                return (
                    f"comma expected, but the header has {name}s: save the file as CSV "
                    "(comma-separated)"
                )
    return "comma"


def _columns_report(
    entity: Entity,
    mapping: Mapping,
    source: Source,
    found: dict[str, int],
    result: Inspection,
) -> None:
    result.add("columns (header -> contract column):")
    by_index: dict[int, list[str]] = {}
    for column, index in found.items():
        by_index.setdefault(index, []).append(column)
    for index, header in enumerate(source.headers):
        columns = by_index.get(index)
        shown = header.replace("\ufeff", "").strip() or f"(column {index + 1}, no header)"
        if columns:
            note = "   (unconfirmed in this mapping)"
            note = note if normalise_header(header) in mapping.unconfirmed else ""
            result.add(f"  {shown} -> {', '.join(columns)}{note}")
        else:
            result.add(f"  {shown} -> (not used)")
    for column, value in mapping.constants.items():
        result.add(f"  (constant) -> {column} = {value!r}")
    for column, sources in mapping.derived_ids.items():
        if column not in found:
            result.add(f"  (derived) -> {column} = hash of {', '.join(sources)}")
    optional = [
        column.name
        for column in entity.columns
        if not column.required and column.name not in found and column.name not in mapping.constants
    ]
    if optional:
        result.add(f"  optional columns not in the file: {', '.join(optional)}")


def _missing_report(
    entity: Entity,
    mapping: Mapping,
    source: Source,
    missing: list[str],
    unmatched: list[int],
    result: Inspection,
) -> None:
    result.add("")
    result.add("missing required columns, and the mapping line that would fix each:")
    spare = [source.headers[i].replace("\ufeff", "").strip() for i in unmatched]
    spare = [header for header in spare if header]
    for column in missing:
        result.add(f"  {mapping.label(column)}:")
        for fix in _fixes(entity, mapping, column, spare):
            result.add(f"      {fix}")
    result.add(
        f"  put the line in a mapping file (with `entity: {entity.name}`, and "
        f"`extends: {mapping.name}` to keep this mapping's columns) in <landing>/mappings/ "
        "or a --mappings folder; see docs/mappings.md"
    )


def _fixes(entity: Entity, mapping: Mapping, column: str, spare: list[str]) -> list[str]:
    """Mapping lines that would give the column: the closest unused header, a constant for
    the shop, a derived id for an id the export does not have."""
    fixes: list[str] = []
    guess = _closest_header(mapping, column, spare)
    header = guess or "YOUR HEADER"
    fixes.append(f"columns: {_flow({header: column})}")
    if guess is None and spare:
        fixes[-1] += f"   (headers not used yet: {', '.join(spare[:8])})"
    if column == entity.shop_column or column == "agent_id":
        constant = f"constants: {_flow({column: 'YOUR_' + column.upper()})}"
        fixes.insert(0 if guess is None else 1, constant)  # exports rarely name the shop
    kind = next(c.kind for c in entity.columns if c.name == column)
    if kind is Kind.ID and column.endswith(("message_id", "rating_id")):
        others = [c.name for c in entity.columns if c.required and c.name != column]
        fixes.append(f"derived_ids: {_flow({column: others})}")
    return [f"or  {fix}" if n else fix for n, fix in enumerate(fixes)]


def _closest_header(mapping: Mapping, column: str, spare: list[str]) -> str | None:
    """The unused header most like one of the column's known names (same words,
    e.g. 订单号码 ~ 订单号), if any is close."""
    known = [mapping.headers.get(h, h) for h, cols in mapping.lookup().items() if column in cols]
    best: tuple[float, str] | None = None
    for header in spare:
        for name in known:
            ratio = difflib.SequenceMatcher(None, header.lower(), name.lower()).ratio()
            if ratio >= 0.6 and (best is None or ratio > best[0]):
                best = (ratio, header)
    return best[1] if best else None


def _flow(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()


def _rows_report(
    con: duckdb.DuckDBPyConnection, entity: Entity, rows: int, result: Inspection
) -> None:
    names = [column.name for column in entity.columns]
    result.rows_good = con.execute(f"select count(*) from {CLEAN} where not _bad").fetchone()[0]
    result.rows_quarantined = con.execute(f"select count(*) from {CLEAN} where _bad").fetchone()[0]
    result.add("")
    result.add(f"first rows as they would load (timezone {DEFAULT_TIMEZONE} unless a shop says):")
    good = con.execute(
        f"select _line, {', '.join(names)} from {CLEAN} where not _bad order by _line limit ?",
        [rows],
    ).fetchall()
    for row in good:
        values = "  ".join(
            f"{name}={_shown(value)}" for name, value in zip(names, row[1:], strict=True)
        )
        result.add(f"  line {row[0]}: {values}")
    if not good:
        result.add("  (none)")
    result.add("")
    result.add(f"rows that would be quarantined ({result.rows_quarantined}):")
    bad = con.execute(
        f"""
        select coalesce(_line_fix.line, bad._line), bad.error.column_name, bad.error.reason
        from (select _line, unnest(_errors) as error from {CLEAN} where _bad) as bad
        left join _line_fix on _line_fix.record_line = bad._line
        order by 1, 2
        limit 20
        """
    ).fetchall()
    for line, column, reason in bad:
        result.add(f"  line {line}: {column}: {reason}")
    if not bad:
        result.add("  (none)")
    result.add("")


def _shown(value: object) -> str:
    if value is None:
        return "∅"
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS] + "…"
