"""`kefu run-nightly` end to end over a tiny hand-made landing zone: the first night
builds everything and publishes; the next night rebuilds only its refresh window (a mart
row of an older day is left untouched); late data widens the window; a rejected file
still lets the good data through but fails the night."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from kefu.cli import main
from kefu.loader import load_landing
from kefu.nightly import Publication, plan_build, publish, run_nightly
from kefu.windows import FULL_BUILD
from tests.landing import MESSAGE_HEADER, write_csv, write_day, write_landing

D = dt.date
SENTINEL = "untouched-by-the-window-build"


def _rows(db_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db_path)) as con:
        return con.execute(sql).fetchall()


def _publication(db_path: Path) -> dict | None:
    with duckdb.connect(str(db_path)) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        if "publication" not in tables:
            return None
        cursor = con.execute("select * from marts.publication")
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    assert len(rows) == 1
    return dict(zip(names, rows[0], strict=True))


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Night 1 over 05-01…05-03; then a day-05-01 and a day-05-02 mart row are marked;
    night 2 brings 05-06 (window 05-02…05-06) and one unreadable file."""
    root = tmp_path_factory.mktemp("nightly")
    db_path = root / "warehouse.duckdb"
    landing = write_landing(root / "landing", [D(2026, 5, 1), D(2026, 5, 2), D(2026, 5, 3)])

    first = run_nightly(db_path, landing)
    first_publication = _publication(db_path)
    first_days = _rows(db_path, "select distinct biz_date from marts.shop_daily_kpis order by 1")
    rounds_day1_before = _rows(
        db_path, "select * from marts.fct_rounds where biz_date = date '2026-05-01' order by all"
    )
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "update marts.agent_daily_kpis set agent_name = ?"
            " where biz_date in (date '2026-05-01', date '2026-05-02')",
            [SENTINEL],
        )

    write_day(landing, D(2026, 5, 6))
    write_csv(landing / "messages" / "broken.csv", ["message_id", "shop_id"], [["x", "s1"]])
    second = run_nightly(db_path, landing)
    return {
        "db": db_path,
        "landing": landing,
        "first": first,
        "first_publication": first_publication,
        "first_days": [day for (day,) in first_days],
        "second": second,
        "second_publication": _publication(db_path),
        "rounds_day1_before": rounds_day1_before,
    }


@pytest.mark.slow
def test_first_night_builds_everything(nights):
    first = nights["first"]
    assert first.plan.window == FULL_BUILD
    assert first.plan.as_of == D(2026, 5, 3)
    assert first.checks is not None
    assert nights["first_days"] == [D(2026, 5, 1), D(2026, 5, 2), D(2026, 5, 3)]


@pytest.mark.slow
def test_first_night_publishes_when_its_checks_pass(nights):
    first = nights["first"]
    assert first.success, first.reason()
    publication = nights["first_publication"]
    assert publication["as_of_date"] == D(2026, 5, 3)
    assert publication["is_full_build"] is True
    assert (publication["window_start"], publication["window_end"]) == (None, None)
    assert publication["checks_passed"] is True
    assert publication["files_loaded_cnt"] == 9


@pytest.mark.slow
def test_second_night_rebuilds_only_its_window(nights):
    second = nights["second"]
    assert second.plan.as_of == D(2026, 5, 6)
    assert second.plan.window == (D(2026, 5, 2), D(2026, 5, 6))
    names = dict(
        _rows(
            nights["db"],
            "select biz_date, string_agg(distinct agent_name, ',' order by agent_name)"
            " from marts.agent_daily_kpis group by biz_date",
        )
    )
    assert names[D(2026, 5, 1)] == SENTINEL  # outside the window: not rewritten
    assert names[D(2026, 5, 2)] == "Alice,Bob"  # inside the window: rebuilt
    assert names[D(2026, 5, 6)] == "Alice,Bob"  # the new day
    rounds_day1_after = _rows(
        nights["db"],
        "select * from marts.fct_rounds where biz_date = date '2026-05-01' order by all",
    )
    assert rounds_day1_after == nights["rounds_day1_before"]


@pytest.mark.slow
def test_a_rejected_file_fails_the_night_but_the_good_files_are_built_and_checked(nights):
    second = nights["second"]
    assert not second.success
    assert "messages/broken.csv" in second.reason()
    assert second.checks is not None
    days = _rows(nights["db"], "select max(biz_date) from marts.shop_daily_kpis")
    assert days == [(D(2026, 5, 6),)]


@pytest.mark.slow
def test_second_night_publishes_its_window_when_its_checks_pass(nights):
    second = nights["second"]
    assert second.checks.success, second.checks.reason()
    publication = nights["second_publication"]
    assert publication["as_of_date"] == D(2026, 5, 6)
    assert (publication["window_start"], publication["window_end"]) == (
        D(2026, 5, 2),
        D(2026, 5, 6),
    )
    assert publication["files_rejected_cnt"] == 1
    assert publication["files_loaded_cnt"] == 2


@pytest.mark.slow
def test_late_data_widens_the_window_back_to_its_day(nights, tmp_path):
    """Plan only (no build): a copy of the warehouse receives a file of 04-28."""
    with duckdb.connect(str(nights["db"])) as con:
        con.execute("checkpoint")  # everything in the file, nothing left in its WAL
    db_path = tmp_path / "copy.duckdb"
    db_path.write_bytes(nights["db"].read_bytes())
    landing = tmp_path / "late"
    rows = [
        ["late1", "s1", "b9", "a1", "buyer", "2026-04-28 09:00:00", "text", "还在吗"],
        ["late2", "s1", "b9", "a1", "agent", "2026-04-28 09:00:20", "text", "在"],
    ]
    write_csv(landing / "messages" / "late.csv", MESSAGE_HEADER, rows)
    report = load_landing(db_path, landing)
    plan = plan_build(db_path, [r.file_id for r in report.loaded], None)
    assert plan.earliest_new_date == D(2026, 4, 28)
    assert plan.window == (D(2026, 4, 28), D(2026, 5, 6))


def test_nightly_without_data_fails_with_a_reason(tmp_path, capsys):
    (tmp_path / "landing").mkdir()
    code = main(
        ["run-nightly", "--db", str(tmp_path / "w.duckdb"), "--landing", str(tmp_path / "landing")]
    )
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("kefu run-nightly: no messages or orders")
    assert len(err.splitlines()) == 1


def _publication_row(as_of: dt.date, **changes) -> Publication:
    values = {
        "as_of_date": as_of,
        "window_start": as_of - dt.timedelta(days=4),
        "window_end": as_of,
        "is_full_build": False,
        "checks_passed": True,
        "critical_failed_cnt": 0,
        "warning_failed_cnt": 1,
        "load_run_id": 3,
        "files_loaded_cnt": 2,
        "files_skipped_cnt": 7,
        "files_rejected_cnt": 0,
        "rows_loaded_cnt": 10,
        "rows_quarantined_cnt": 1,
        "rows_duplicate_cnt": 0,
    }
    return Publication(**{**values, **changes})


def test_publish_replaces_the_single_publication_row(tmp_path):
    db_path = tmp_path / "w.duckdb"
    publish(db_path, _publication_row(D(2026, 5, 5)))
    publish(db_path, _publication_row(D(2026, 5, 6), files_rejected_cnt=1))
    row = _publication(db_path)
    assert row["as_of_date"] == D(2026, 5, 6)
    assert (row["window_start"], row["window_end"]) == (D(2026, 5, 2), D(2026, 5, 6))
    assert row["files_rejected_cnt"] == 1
    types = _rows(
        db_path, "select data_type from information_schema.columns where table_name = 'publication'"
    )
    assert not [t for (t,) in types if "TIME" in t]  # no wall-clock timestamps
