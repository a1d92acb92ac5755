"""Which files of the landing zone a load takes, in which order, and which it refuses.

One sub-folder per entity (`messages/`, `orders/`, ...), files at any depth below it, file
names carry no meaning. Entities load in `ENTITY_ORDER`, the files of one entity in the order
of their path inside the entity folder. Hidden files and folders (name starting with ".") and
Excel's lock files ("~$name.xlsx") are ignored with a note; every other file that is not an
export of a known entity in an accepted format is rejected, so that nothing is skipped
silently (a typo like `message/` fails the load instead of losing a day of chats).

The walk never follows a symbolic link out of the zone: a link whose target lies outside
it, a dangling link, a link to a folder, a folder that cannot be listed, a name that is not
valid UTF-8 and anything that is not a regular file (fifo, socket, device) are refused
with a report line, without opening them. A link to a file inside the zone is read like
the file (its content is then loaded once, by content hash). A folder named like a file
(`messages/day1.csv/`) gets a note line and its files load as usual.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from kefu.schema import ENTITY_ORDER

FORMATS: dict[str, str] = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".jsonl": "jsonl"}
UNKNOWN_ENTITY = "unknown"


@dataclass(frozen=True)
class LandingFile:
    """A file found in the landing zone."""

    path: Path
    relative: str  # POSIX path inside the landing zone: what reports and raw tables show
    entity: str  # entity folder, or UNKNOWN_ENTITY
    file_format: str | None  # csv | xlsx | parquet | jsonl, None when not accepted
    problem: str | None = None  # why it is refused, decided from its place and name alone
    openable: bool = True  # False: refused by the walk, never opened (links out, fifos, ...)

    @property
    def name(self) -> str:
        return self.relative.rsplit("/", 1)[-1]

    @property
    def within_entity(self) -> PurePosixPath:
        """The path inside the entity folder (what a mapping's `folders` and `files` see)."""
        parts = PurePosixPath(self.relative).parts
        return PurePosixPath(*parts[1:]) if len(parts) > 1 else PurePosixPath(self.relative)


@dataclass(frozen=True)
class LandingScan:
    """The files one load takes (in load order) and the ones it ignores."""

    files: list[LandingFile]
    ignored: list[str]
    notes: list[str] = field(default_factory=list)  # "path: what is odd about it", still loaded


MAPPINGS_FOLDER = "mappings"  # the user's column mappings (kefu.loading.mappings), not data


def is_ignored(relative: Path) -> bool:
    """Hidden files or folders, Excel lock files (~$...) and the `mappings/` folder."""
    return _ignored_parts(relative.parts)


def _ignored_parts(parts: tuple[str, ...]) -> bool:
    if parts and parts[0] == MAPPINGS_FOLDER:
        return True
    return any(part.startswith((".", "~$")) for part in parts)


def scan_landing(landing_dir: Path) -> LandingScan:
    """Every file below `landing_dir`, classified and in load order."""
    walk = _Walk(landing_dir)
    walk.visit(landing_dir)
    by_entity: dict[str, list[LandingFile]] = {entity: [] for entity in ENTITY_ORDER}
    misplaced: list[LandingFile] = []
    for landing_file in walk.found:
        if landing_file.entity in by_entity and landing_file.problem is None:
            by_entity[landing_file.entity].append(landing_file)
        else:
            misplaced.append(landing_file)
    ordered = [f for entity in ENTITY_ORDER for f in sorted(by_entity[entity], key=_path_key)]
    return LandingScan(
        ordered + sorted(misplaced, key=_path_key), sorted(walk.ignored), sorted(walk.notes)
    )


class _Walk:
    """A walk of the landing zone that follows no link and reports everything odd."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.found: list[LandingFile] = []
        self.ignored: list[str] = []
        self.notes: list[str] = []

    def visit(self, folder: Path, parts: tuple[str, ...] = ()) -> None:
        """`folder`, whose path inside the zone is `parts` (its names, one per level: kept
        as strings down the walk: pathlib's relative path of each entry cost half the
        scan, 0.02 s of 0.047 s on a year of daily files)."""
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError as exc:
            self.refuse(folder, f"folder cannot be listed: {exc.strerror or exc}")
            return
        for entry in entries:
            self.visit_entry(Path(entry.path), entry, (*parts, entry.name))

    def visit_entry(self, path: Path, entry: os.DirEntry[str], parts: tuple[str, ...]) -> None:
        relative = "/".join(parts)
        if _ignored_parts(parts):
            self.ignored.append(_text(relative))
        elif not _is_utf8(relative):
            self.refuse(path, "file name is not valid UTF-8 (rename it)")
        elif entry.is_symlink():
            self.visit_link(path)
        elif entry.is_dir(follow_symlinks=False):
            if path.suffix.lower() in FORMATS:
                self.notes.append(f"{relative}: a folder named like a file; its files are loaded")
            self.visit(path, parts)
        elif entry.is_file(follow_symlinks=False):
            self.found.append(classify(path, parts))
        else:
            self.refuse(path, "not a regular file (fifo, socket or device): not read")

    def visit_link(self, path: Path) -> None:
        target = Path(os.path.realpath(path))
        if not target.exists():
            self.refuse(path, "dangling symbolic link (its target does not exist)")
        elif not target.is_relative_to(self.real_root):
            self.refuse(path, "symbolic link pointing outside the landing zone: refused, not read")
        elif target.is_dir():
            self.refuse(path, "symbolic link to a folder: not followed")
        elif not target.is_file():
            self.refuse(path, "symbolic link to something that is not a regular file: not read")
        else:
            self.found.append(classify(path, path.relative_to(self.root).parts))

    def refuse(self, path: Path, problem: str) -> None:
        relative = path.relative_to(self.root)
        rel = _text(relative.as_posix())
        entity = relative.parts[0].lower() if len(relative.parts) > 1 else UNKNOWN_ENTITY
        if entity not in ENTITY_ORDER:
            entity = UNKNOWN_ENTITY
        file_format = FORMATS.get(path.suffix.lower())
        self.found.append(LandingFile(path, rel, entity, file_format, problem, openable=False))


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(text: str) -> str:
    """A path as printable UTF-8 text (undecodable bytes of a name shown as U+FFFD)."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def classify(path: Path, parts: tuple[str, ...]) -> LandingFile:
    """The entity and format of one file (`parts`: its path inside the zone, one name per
    level), or the reason it cannot be loaded."""
    rel = "/".join(parts)
    file_format = FORMATS.get(path.suffix.lower())
    if len(parts) < 2:
        problem = f"not inside an entity folder (expected one of: {', '.join(ENTITY_ORDER)})"
        return LandingFile(path, rel, UNKNOWN_ENTITY, file_format, problem)
    folder = parts[0].lower()
    if folder not in ENTITY_ORDER:
        problem = f"unknown entity folder {parts[0]!r} (expected one of: {', '.join(ENTITY_ORDER)})"
        return LandingFile(path, rel, UNKNOWN_ENTITY, file_format, problem)
    if file_format is None:
        problem = (
            f"unsupported file type {path.suffix or '(none)'!r} (accepted: {', '.join(FORMATS)})"
        )
        return LandingFile(path, rel, folder, None, problem)
    return LandingFile(path, rel, folder, file_format)


def _path_key(landing_file: LandingFile) -> str:
    return landing_file.relative
