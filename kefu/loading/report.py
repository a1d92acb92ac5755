"""What one `kefu load` did, file by file."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePosixPath


class Outcome(StrEnum):
    LOADED = "loaded"
    SKIPPED = "skipped (already loaded)"
    REJECTED = "rejected"
    IGNORED = "ignored (hidden or lock file)"
    NOTED = "noted"


@dataclass
class FileResult:
    """The outcome of one landing file."""

    relative_path: str  # inside the landing zone
    entity: str | None
    outcome: Outcome
    file_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    message: str | None = None  # why a file was rejected

    @property
    def name(self) -> str:
        return PurePosixPath(self.relative_path).name

    def line(self) -> str:
        text = f"{self.relative_path}: {self.entity or '-'}, {self.outcome}"
        if self.outcome is Outcome.LOADED:
            text += (
                f", rows read {self.rows_read} / loaded {self.rows_loaded}"
                f" / quarantined {self.rows_quarantined} / duplicate {self.rows_duplicate}"
            )
        if self.message:
            text += f": {self.message}"
        return text


@dataclass
class LoadReport:
    """Every file one load saw, in load order."""

    load_run_id: int
    files: list[FileResult] = field(default_factory=list)

    @property
    def rejected(self) -> list[FileResult]:
        return self._with(Outcome.REJECTED)

    @property
    def loaded(self) -> list[FileResult]:
        return self._with(Outcome.LOADED)

    @property
    def skipped(self) -> list[FileResult]:
        return self._with(Outcome.SKIPPED)

    def _with(self, outcome: Outcome) -> list[FileResult]:
        return [result for result in self.files if result.outcome is outcome]

    def file(self, path_or_name: str) -> FileResult:
        """The result of the file with this landing path (or, when unique, this name)."""
        matches = [
            result for result in self.files if path_or_name in (result.relative_path, result.name)
        ]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} files match {path_or_name!r}")
        return matches[0]

    def totals(self) -> dict[str, int]:
        loaded = self.loaded
        return {
            "rows_read": sum(result.rows_read for result in loaded),
            "rows_loaded": sum(result.rows_loaded for result in loaded),
            "rows_quarantined": sum(result.rows_quarantined for result in loaded),
            "rows_duplicate": sum(result.rows_duplicate for result in loaded),
        }

    def summary(self) -> str:
        """One line per file, then a total line."""
        totals = self.totals()
        lines = [result.line() for result in self.files]
        lines.append(
            f"load run {self.load_run_id}: {len(self.loaded)} loaded, "
            f"{len(self.skipped)} skipped, {len(self.rejected)} rejected; rows loaded "
            f"{totals['rows_loaded']}, quarantined {totals['rows_quarantined']}, "
            f"duplicate {totals['rows_duplicate']}"
        )
        return "\n".join(lines)

    def reason(self) -> str:
        """One line naming the rejected file(s) and why ('' when none was rejected)."""
        rejected = self.rejected
        if not rejected:
            return ""
        parts = "; ".join(
            f"{result.relative_path} ({' '.join((result.message or '').split())})"
            for result in rejected
        )
        plural = "s" if len(rejected) > 1 else ""
        return f"{len(rejected)} file{plural} rejected: {parts}"
