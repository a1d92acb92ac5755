"""One writer at a time: a second writer waits for the warehouse lock, says who holds it,
and gives up after its timeout with one line, no traceback. No dbt here: the holder is a
plain process holding the lock; the waiter is the real `kefu load`."""

from __future__ import annotations

import datetime as dt
import fcntl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kefu.cli import main
from kefu.lock import holder, lock_path, resolve_timeout, warehouse_lock
from tests.landing import write_landing

D = dt.date

HOLD = """
import sys, time
from pathlib import Path
from kefu.lock import warehouse_lock
with warehouse_lock(Path(sys.argv[1]), "kefu build", 5):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold(db_path: Path, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db_path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_writer_times_out_with_one_line_naming_the_holder(tmp_path, capsys):
    db_path = tmp_path / "w.duckdb"
    landing = write_landing(tmp_path / "landing", [D(2026, 5, 1)])
    process = _hold(db_path, 30)
    try:
        started = time.monotonic()
        status = main(
            ["load", "--db", str(db_path), "--landing", str(landing), "--lock-timeout", "1"]
        )
        waited = time.monotonic() - started
    finally:
        process.kill()
        process.wait()
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert 1 <= waited < 10
    assert len(err) == 2, err  # the waiting line, then the one-line reason
    assert err[0].startswith("kefu: waiting up to 1 s for the warehouse lock")
    assert f"pid {process.pid} (kefu build) since " in err[0]
    assert err[1].startswith("kefu load: the warehouse")
    assert f"pid {process.pid} (kefu build)" in err[1]
    assert "Traceback" not in "\n".join(err)
    assert not db_path.exists()  # the load never touched the warehouse


def test_a_second_writer_waits_then_runs(tmp_path, capsys):
    db_path = tmp_path / "w.duckdb"
    landing = write_landing(tmp_path / "landing", [D(2026, 5, 1)])
    process = _hold(db_path, 1.5)
    status = main(["load", "--db", str(db_path), "--landing", str(landing), "--lock-timeout", "60"])
    process.wait()
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "waiting up to 60 s" in captured.err
    assert "5 loaded" in captured.out
    assert holder(db_path) == ""  # released: nobody named any more


def test_the_lock_is_reentrant_in_a_process_and_released_after(tmp_path):
    db_path = tmp_path / "w.duckdb"
    with warehouse_lock(db_path, "kefu run-nightly", 0):
        assert "(kefu run-nightly)" in holder(db_path)
        with warehouse_lock(db_path, "kefu load", 0):  # the nightly's own load
            assert "(kefu run-nightly)" in holder(db_path)
    assert lock_path(db_path).exists() and holder(db_path) == ""
    with warehouse_lock(db_path, "kefu load", 0):  # free again
        pass


def test_a_killed_holder_frees_the_lock(tmp_path):
    db_path = tmp_path / "w.duckdb"
    process = _hold(db_path, 60)
    process.kill()  # SIGKILL: no cleanup code runs
    process.wait()
    with warehouse_lock(db_path, "kefu load", 0):
        assert "(kefu load)" in holder(db_path)


def test_lock_timeout_comes_from_the_environment_and_is_checked(monkeypatch, capsys):
    monkeypatch.setenv("KEFU_LOCK_TIMEOUT", "12.5")
    assert resolve_timeout() == 12.5
    assert resolve_timeout("3") == 3.0
    monkeypatch.delenv("KEFU_LOCK_TIMEOUT")
    assert resolve_timeout() == 3600.0
    with pytest.raises(ValueError, match="not a number"):
        resolve_timeout("soon")
    assert main(["check", "--lock-timeout", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1  # one line: the reason, then where the details are
    assert err[0].startswith("kefu check: lock timeout must be >= 0 seconds, got '-1' (details: ")


def test_a_waiter_names_a_holder_that_writes_its_name_just_after_locking(tmp_path):
    """A waiter that comes in between the holder's lock and its name (seen under load:
    'held by another process') waits a moment for the name."""
    db = tmp_path / "w.duckdb"
    holder_file = open(lock_path(db), "a+", encoding="utf-8")  # noqa: SIM115
    fcntl.flock(holder_file.fileno(), fcntl.LOCK_EX)

    def name_then_release() -> None:
        time.sleep(0.5)
        holder_file.write("pid 4242 (kefu run-nightly) since now\n")
        holder_file.flush()
        time.sleep(0.5)
        fcntl.flock(holder_file.fileno(), fcntl.LOCK_UN)

    thread = threading.Thread(target=name_then_release)
    thread.start()
    lines: list[str] = []
    try:
        with warehouse_lock(db, "kefu load", timeout=10, notify=lines.append):
            pass
    finally:
        thread.join()
        holder_file.close()
    assert len(lines) == 1 and "held by pid 4242 (kefu run-nightly)" in lines[0], lines
