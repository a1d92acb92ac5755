"""Progress of long steps (files and rows loaded, dbt nodes built out of total, elapsed time)
for the `kefu` command, at three levels: quiet (nothing), normal, verbose (every file and
node). The command installs one `Progress`; the loader and the dbt runner report to
whatever is installed (nothing when the code runs from Dagster or a test).

On a terminal a step's progress rewrites one line; into a file or a pipe it prints a line
at every quarter of the step, so a transcript stays short. No colour codes are written.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

QUIET, NORMAL, VERBOSE = 0, 1, 2


class Progress:
    """Where the command's progress and result lines go."""

    def __init__(
        self,
        level: int = NORMAL,
        stream: TextIO | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.level = level
        self.stream = stream or sys.stdout
        self.is_terminal = self.stream.isatty()
        self.started = time.monotonic()
        self._log = log or (lambda _line: None)
        self._open_line = False  # a terminal line being rewritten
        self._quarter: dict[str, int] = {}

    def elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.0f} s"

    def say(self, text: str, level: int = NORMAL) -> None:
        """Print a line at `level` or above (always written to the log)."""
        for line in text.splitlines():
            self._log(line)
        if self.level >= level:
            self._end_line()
            print(text, file=self.stream, flush=True)

    def step(self, name: str, done: int, total: int, detail: str = "") -> None:
        """`done` of `total` units of step `name` are done."""
        text = f"{name}: {done}/{total}{', ' + detail if detail else ''} ({self.elapsed()})"
        if self.level >= VERBOSE:
            self.say(text, VERBOSE)
            return
        if self.level < NORMAL:
            return
        if self.is_terminal:
            print(f"\r{text}\033[K", end="", file=self.stream, flush=True)
            self._open_line = True
            if done >= total:
                self._end_line()
            return
        quarter = 4 * done // max(total, 1)
        if quarter > self._quarter.get(name, 0) or done == 1:
            self._quarter[name] = max(quarter, self._quarter.get(name, 0))
            self.say(text)

    def _end_line(self) -> None:
        if self._open_line:
            print(file=self.stream, flush=True)
            self._open_line = False


_current: Progress | None = None


def install(progress: Progress | None) -> None:
    """Make `progress` the receiver of the loader's and dbt's progress (None: nobody)."""
    global _current
    _current = progress


def current() -> Progress | None:
    return _current


def file_loaded(index: int, total: int, path: str, rows: int) -> None:
    """The loader finished file `index` of `total` (rows: rows loaded so far)."""
    if _current is not None:
        _current.step("load", index, total, f"{rows:,} rows, last {path}")


def dbt_callbacks() -> list[Callable[[Any], None]]:
    """Callbacks for dbtRunner: each finished node advances the 'build' step."""
    if _current is None:
        return []
    progress = _current

    def on_event(event: Any) -> None:
        name = event.info.name
        if not name.endswith("Result") or not name.startswith("Log"):
            return
        data = event.data
        total = getattr(data, "total", 0) or getattr(data, "num_models", 0)
        index = getattr(data, "index", 0)
        if index and total:
            progress.step("build", index, total, "dbt nodes")

    return [on_event]
