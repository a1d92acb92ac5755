"""Which files of the landing zone a load takes, in which order, and which it refuses.

One sub-folder per entity (`messages/`, `orders/`, ...), files at any depth below it, file
names carry no meaning. Entities load in `ENTITY_ORDER`, the files of one entity in the order
of their path inside the entity folder. Hidden files and folders (name starting with ".") and
Excel's lock files ("~$name.xlsx") are ignored with a note; every other file that is not an
export of a known entity in an accepted format is rejected, so that nothing is skipped
silently (a typo like `message/` fails the load instead of losing a day of chats).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class LandingScan:
    """The files one load takes (in load order) and the ones it ignores."""

    files: list[LandingFile]
    ignored: list[str]


def is_ignored(relative: Path) -> bool:
    """Hidden files or folders, and Excel lock files (~$...)."""
    return any(part.startswith((".", "~$")) for part in relative.parts)


def scan_landing(landing_dir: Path) -> LandingScan:
    """Every file below `landing_dir`, classified and in load order."""
    by_entity: dict[str, list[LandingFile]] = {entity: [] for entity in ENTITY_ORDER}
    misplaced: list[LandingFile] = []
    ignored: list[str] = []
    for path in sorted(p for p in landing_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(landing_dir)
        if is_ignored(relative):
            ignored.append(relative.as_posix())
            continue
        landing_file = classify(path, relative)
        if landing_file.entity in by_entity:
            by_entity[landing_file.entity].append(landing_file)
        else:
            misplaced.append(landing_file)
    ordered = [f for entity in ENTITY_ORDER for f in sorted(by_entity[entity], key=_path_key)]
    return LandingScan(ordered + sorted(misplaced, key=_path_key), ignored)


def classify(path: Path, relative: Path) -> LandingFile:
    """The entity and format of one file, or the reason it cannot be loaded."""
    rel = relative.as_posix()
    file_format = FORMATS.get(path.suffix.lower())
    if len(relative.parts) < 2:
        problem = f"not inside an entity folder (expected one of: {', '.join(ENTITY_ORDER)})"
        return LandingFile(path, rel, UNKNOWN_ENTITY, file_format, problem)
    folder = relative.parts[0].lower()
    if folder not in ENTITY_ORDER:
        problem = (
            f"unknown entity folder {relative.parts[0]!r} "
            f"(expected one of: {', '.join(ENTITY_ORDER)})"
        )
        return LandingFile(path, rel, UNKNOWN_ENTITY, file_format, problem)
    if file_format is None:
        problem = (
            f"unsupported file type {path.suffix or '(none)'!r} (accepted: {', '.join(FORMATS)})"
        )
        return LandingFile(path, rel, folder, None, problem)
    return LandingFile(path, rel, folder, file_format)


def _path_key(landing_file: LandingFile) -> str:
    return landing_file.relative
