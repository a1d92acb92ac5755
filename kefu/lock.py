"""One writer at a time: an advisory lock file beside the warehouse.

Every command that writes the warehouse (load, build, check, run-nightly, the Dagster
steps) holds `<warehouse>.lock` (fcntl.flock, released by the kernel when the process
dies, even on kill -9). A second writer waits up to the lock timeout (`--lock-timeout`,
env KEFU_LOCK_TIMEOUT, default one hour), printing one line naming the holder (pid,
command, since when), then gives up with LockTimeout. Re-entrant within a process: a
nightly that holds the lock calls load and build, which ask for it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

DEFAULT_TIMEOUT_S = 3600.0
POLL_S = 0.2
HOLDER_GRACE_S = 2.0  # how long a waiter waits for the holder to write its name

_held: dict[Path, int] = {}  # lock path -> depth, in this process
_guard = threading.Lock()


class LockTimeout(RuntimeError):
    """The warehouse lock stayed taken for the whole timeout."""


def lock_path(db_path: Path) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".lock")


def resolve_timeout(value: float | str | None = None) -> float:
    """Seconds to wait: the argument, else env KEFU_LOCK_TIMEOUT, else one hour."""
    raw = value if value is not None else os.environ.get("KEFU_LOCK_TIMEOUT")
    if raw is None or raw == "":
        return DEFAULT_TIMEOUT_S
    try:
        seconds = float(raw)
    except ValueError as exc:
        raise ValueError(f"lock timeout is not a number of seconds: {raw!r}") from exc
    if seconds < 0:
        raise ValueError(f"lock timeout must be >= 0 seconds, got {raw!r}")
    return seconds


def holder(db_path: Path) -> str:
    """Who holds the lock, as its holder wrote it ('' when nobody wrote anything)."""
    try:
        return lock_path(db_path).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _try_lock(handle) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@contextlib.contextmanager
def warehouse_lock(
    db_path: Path,
    command: str,
    timeout: float | str | None = None,
    notify: Callable[[str], None] = _say,
) -> Iterator[None]:
    """Hold the warehouse's writer lock for the duration (waiting up to `timeout` s)."""
    path = lock_path(Path(db_path).resolve())
    with _guard:
        if _held.get(path):
            _held[path] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[path] -= 1
        return

    seconds = resolve_timeout(timeout)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held across the yield)
    try:
        _acquire(handle, path, seconds, notify)
        handle.seek(0)
        handle.truncate()
        since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        handle.write(f"pid {os.getpid()} ({command}) since {since}\n")
        handle.flush()
        with _guard:
            _held[path] = 1
        try:
            yield
        finally:
            with _guard:
                _held.pop(path, None)
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


def _acquire(handle, path: Path, seconds: float, notify: Callable[[str], None]) -> None:
    if _try_lock(handle):
        return
    deadline = time.monotonic() + seconds
    # The holder writes its name just after taking the lock: a waiter that came in
    # between would read an empty file, so it gives the holder a moment to write.
    named_by = min(deadline, time.monotonic() + HOLDER_GRACE_S)
    who = path.read_text(encoding="utf-8").strip()
    while not who and time.monotonic() < named_by:
        time.sleep(POLL_S / 4)
        if _try_lock(handle):
            return
        who = path.read_text(encoding="utf-8").strip()
    who = who or "another process"
    notify(f"kefu: waiting up to {seconds:g} s for the warehouse lock {path}, held by {who}")
    while time.monotonic() < deadline:
        time.sleep(POLL_S)
        if _try_lock(handle):
            return
    who = path.read_text(encoding="utf-8").strip() or "another process"
    raise LockTimeout(
        f"the warehouse {path.with_suffix('')} is still locked by {who} after {seconds:g} s"
        " (another kefu writer is running; retry later or raise --lock-timeout)"
    )
