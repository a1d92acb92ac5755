"""Every expected failure of the `kefu` command, run as a user runs it (a subprocess):
a non-zero exit, one line on stderr naming what and where, the details in a log file
whose path the line gives, no traceback; read commands never create a warehouse."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kefu.paths import PROJECT_DIR

MESSAGE_HEADER = "message_id,shop_id,buyer_id,agent_id,sender_role,sent_at\n"


def kefu(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}
    env.pop("KEFU_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "kefu.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def one_line_failure(result: subprocess.CompletedProcess, status: int = 1) -> str:
    """The single stderr line, after checking the exit status and the absence of a traceback."""
    assert result.returncode == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def log_of(line: str) -> str:
    match = re.search(r"\((?:details|.*log): (\S+)\)$", line)
    assert match, line
    return Path(match.group(1)).read_text(encoding="utf-8")


def test_check_on_a_missing_warehouse_neither_creates_it_nor_repeats_itself(tmp_path):
    db = tmp_path / "nope.duckdb"
    line = one_line_failure(kefu("check", "--db", str(db), cwd=tmp_path))
    assert line.startswith("kefu check: warehouse ") and str(db) in line
    assert "not found" in log_of(line)
    assert not db.exists()


def test_build_with_a_mistyped_db_does_not_create_an_empty_warehouse(tmp_path):
    db = tmp_path / "typo" / "warehuose.duckdb"
    line = one_line_failure(kefu("build", "--db", str(db), cwd=tmp_path))
    assert str(db) in line and "not found" in line
    assert not db.exists() and not db.parent.exists()


def test_bad_date_is_one_usage_line(tmp_path):
    line = one_line_failure(
        kefu("build", "--db", str(tmp_path / "w.duckdb"), "--start", "2026-13-01", cwd=tmp_path),
        status=2,
    )
    assert "--start" in line and "2026-13-01" in line
    assert "2026-13-01" in log_of(line)


def test_load_from_a_missing_landing_zone_creates_nothing(tmp_path):
    db = tmp_path / "w.duckdb"
    landing = tmp_path / "landnig"
    line = one_line_failure(kefu("load", "--db", str(db), "--landing", str(landing), cwd=tmp_path))
    assert f"landing zone {landing} not found" in line
    assert not db.exists()


def test_demo_into_a_non_empty_folder(tmp_path):
    landing = tmp_path / "mine"
    landing.mkdir()
    (landing / "notes.txt").write_text("keep me", encoding="utf-8")
    db = tmp_path / "w.duckdb"
    line = one_line_failure(kefu("demo", "--db", str(db), "--landing", str(landing), cwd=tmp_path))
    assert str(landing) in line and "not empty" in line
    assert (landing / "notes.txt").read_text(encoding="utf-8") == "keep me"


@pytest.fixture(scope="module")
def quarantined(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """A load whose only messages file has every row quarantined (unknown roles)."""
    work = tmp_path_factory.mktemp("quarantined")
    messages = work / "landing" / "messages"
    messages.mkdir(parents=True)
    (messages / "chat.csv").write_text(
        MESSAGE_HEADER + "m1,s,b,a,wizard,2026-05-01 10:00:00\nm2,s,b,a,buyer,yesterday\n",
        encoding="utf-8",
    )
    db = work / "w.duckdb"
    return db, kefu("load", "--db", str(db), "--landing", str(work / "landing"), cwd=work)


def test_a_file_with_every_row_quarantined_fails_the_load(quarantined):
    _, result = quarantined
    line = one_line_failure(result)
    assert "every row quarantined" in line and "messages/chat.csv" in line and "2 rows" in line


def test_build_with_nothing_to_build(quarantined):
    db, _ = quarantined  # the warehouse exists, holding no message and no order
    line = one_line_failure(kefu("build", "--db", str(db), cwd=db.parent))
    assert "nothing to build" in line and str(db) in line


def test_a_locked_warehouse(quarantined):
    db, _ = quarantined
    with duckdb.connect(str(db)):  # another process writes to it
        line = one_line_failure(kefu("check", "--db", str(db), cwd=db.parent))
    assert f"warehouse {db} is in use by another process" in line
    assert "lock" in log_of(line)


def test_help_does_not_cite_the_contract(tmp_path):
    result = kefu("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "§" not in result.stdout and "contract" not in result.stdout


def test_the_command_leaves_the_environment_as_it_found_it(tmp_path):
    # dbt's console settings hold for the command only: a Dagster dbt subprocess started
    # later in the same process reads dbt's console output.
    from kefu.cli import main

    before = dict(os.environ)
    assert main(["check", "--db", str(tmp_path / "nope.duckdb")]) == 1
    assert dict(os.environ) == before
