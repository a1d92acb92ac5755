"""The publication's copy of a window night (kefu.publish): which rows a refresh copies
again, and the Parquet files it writes again. Small hand-made marts, no dbt."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from kefu.publish import Refresh, _mart_months, publish_marts

D = dt.date


def _warehouse(path: Path) -> Path:
    """Three marts: a per-day one, an order-level one (ORDER_MARTS) and one without a
    date column."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.daily (shop_id varchar, biz_date date, v integer)")
        con.execute(
            "insert into marts.daily values"
            " ('s1', date '2026-04-20', 1), ('s1', date '2026-05-03', 2), ('s1', null, 3)"
        )
        con.execute(
            "create table marts.fct_order_credits (shop_id varchar, order_id varchar,"
            " created_date date, paid_date date, credited_agent_id varchar)"
        )
        con.execute(
            "insert into marts.fct_order_credits values"
            " ('s1', 'o1', date '2026-04-01', date '2026-04-02', 'A'),"
            " ('s1', 'o2', date '2026-04-01', null, 'A'),"
            " ('s1', 'o3', date '2026-05-03', date '2026-05-03', 'A'),"
            " ('s1', 'o4', date '2026-05-03', null, 'A')"
        )
        con.execute("create table marts.plain (k varchar, v integer)")
        con.execute("insert into marts.plain values ('a', 1)")
        con.execute("create table marts.empty_daily (biz_date date, v integer)")
    return path


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return sorted(con.execute(sql).fetchall(), key=repr)


def _parquet(folder: Path) -> list[tuple]:
    with duckdb.connect() as con:
        return sorted(con.execute(f"select * from '{folder}/*.parquet'").fetchall(), key=repr)


def _names(folder: Path) -> set[str]:
    return {path.name for path in folder.glob("*.parquet")}


def test_a_window_publication_copies_its_rows_and_writes_only_their_months(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb")
    target = tmp_path / "published" / "kefu.duckdb"
    parquet = target.parent / "parquet"
    publish_marts(db, target)
    assert _names(parquet / "daily") == {
        "daily-2026-04.parquet",
        "daily-2026-05.parquet",
        "daily-undated.parquet",
    }
    assert _names(parquet / "fct_order_credits") == {
        "fct_order_credits-2026-04.parquet",
        "fct_order_credits-2026-05.parquet",
    }
    assert _names(parquet / "plain") == {"plain.parquet"}
    # A mart without a row: one file that carries its columns.
    assert _names(parquet / "empty_daily") == {"empty_daily.parquet"}
    with duckdb.connect() as con:
        described = con.execute(f"describe select * from '{parquet}/empty_daily/*.parquet'")
        assert [row[0] for row in described.fetchall()] == ["biz_date", "v"]
    april = parquet / "daily" / "daily-2026-04.parquet"
    april_stamp = april.stat().st_mtime_ns

    # The warehouse after a window build of 05-02 … 06-01, and two hand edits outside it.
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.daily set v = 10 where biz_date = date '2026-04-20'")
        con.execute("delete from marts.daily where biz_date = date '2026-05-03'")
        con.execute("insert into marts.daily values ('s1', date '2026-06-01', 4)")
        con.execute("update marts.fct_order_credits set credited_agent_id = 'B'")
        con.execute(
            "update marts.fct_order_credits set paid_date = date '2026-05-04' where order_id = 'o2'"
        )
    publish_marts(db, target, Refresh(D(2026, 5, 2), D(2026, 6, 1), frozenset({"daily"})))

    # The window's days and the orders created or paid from its first day on are copied
    # again; the rest is the last publication's (v 1 and agent A, not the hand edits).
    assert _rows(target, "select biz_date, v from marts.daily") == sorted(
        [(D(2026, 4, 20), 1), (D(2026, 6, 1), 4), (None, 3)], key=repr
    )
    assert _rows(
        target, "select order_id, paid_date, credited_agent_id from marts.fct_order_credits"
    ) == [
        ("o1", D(2026, 4, 2), "A"),  # created and paid before the window
        ("o2", D(2026, 5, 4), "B"),  # an old order paid in the window
        ("o3", D(2026, 5, 3), "B"),
        ("o4", None, "B"),  # created in the window, not paid
    ]
    # Parquet: the months of the copied rows written again (05 is gone: no row left),
    # April's daily file untouched, and every folder holding what the DuckDB file holds.
    assert _names(parquet / "daily") == {
        "daily-2026-04.parquet",
        "daily-2026-06.parquet",
        "daily-undated.parquet",
    }
    assert april.stat().st_mtime_ns == april_stamp
    for mart in ("daily", "fct_order_credits", "plain", "empty_daily"):
        assert _parquet(parquet / mart) == _rows(target, f"select * from marts.{mart}"), mart


def test_a_folder_that_is_not_the_last_publications_is_written_whole(tmp_path):
    db = _warehouse(tmp_path / "w.duckdb")
    target = tmp_path / "published" / "kefu.duckdb"
    folder = target.parent / "parquet" / "daily"
    publish_marts(db, target)
    refresh = Refresh(D(2026, 5, 2), D(2026, 5, 6), frozenset({"daily"}))

    # A month file went missing: written again, though outside the window.
    (folder / "daily-2026-04.parquet").unlink()
    publish_marts(db, target, refresh)
    assert "daily-2026-04.parquet" in _names(folder)

    # A file of the one-file layout (an older kefu) next to the month files: removed.
    (folder / "daily-2026-04.parquet").rename(folder / "daily.parquet")
    publish_marts(db, target, refresh)
    assert _names(folder) == {
        "daily-2026-04.parquet",
        "daily-2026-05.parquet",
        "daily-undated.parquet",
    }
    assert _parquet(folder) == _rows(target, "select * from marts.daily")


def test_a_dated_mart_is_written_in_one_pass_and_a_split_month_left_to_the_caller(tmp_path):
    """kefu.publish._write_months: every month of a mart from one partitioned COPY, one
    file each with the month's rows and the mart's own columns; a month DuckDB split over
    several files (forced here by its open-file limit) is not written, and nothing of the
    pass is left behind."""
    from kefu.publish import PARTS, _write_mart_parquet, _write_months

    folder = tmp_path / "daily"
    folder.mkdir()
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.daily as select i as v,"
            " date '2026-04-29' + cast(i % 3 as integer) as biz_date from range(30000) r(i)"
        )
        months = {"2026-04", "2026-05"}
        assert _write_months(con, folder, "daily", "biz_date", months, every=True) == months
        assert _names(folder) == {"daily-2026-04.parquet", "daily-2026-05.parquet"}
        april = con.execute(
            f"select count(*), min(biz_date), max(biz_date) from '{folder}/daily-2026-04.parquet'"
        ).fetchone()
        assert april == (20000, D(2026, 4, 29), D(2026, 4, 30))
        may = con.execute(f"describe '{folder}/daily-2026-05.parquet'").fetchall()
        assert [column[0] for column in may] == ["v", "biz_date"]  # no partition column
        # Only May asked for: April's file stays as it was.
        before = (folder / "daily-2026-04.parquet").stat().st_mtime_ns
        assert _write_months(con, folder, "daily", "biz_date", {"2026-05"}, every=False) == {
            "2026-05"
        }
        assert (folder / "daily-2026-04.parquet").stat().st_mtime_ns == before

        # A mart with a column of the pass's partition name: written month by month, whole.
        odd = tmp_path / "odd"
        odd.mkdir()
        con.execute(
            "create table marts.odd as select v, biz_date, 'x' as kefu_month from marts.daily"
        )
        _write_mart_parquet(con, odd, "odd", ["v", "biz_date", "kefu_month"], None)
        assert _names(odd) == {"odd-2026-04.parquet", "odd-2026-05.parquet"}
        assert con.execute(
            f"select count(*), min(kefu_month) from '{odd}/*.parquet'"
        ).fetchone() == (
            30000,
            "x",
        )

        split = tmp_path / "split"
        split.mkdir()
        con.execute("set partitioned_write_flush_threshold = 1000")
        written = _write_months_with_limit(con, split, months)
        assert written < months, "the interleaved months were split over several files"
        assert _names(split) == {f"daily-{m}.parquet" for m in written}
        assert not list(split.glob(f".{PARTS}.*"))


def _write_months_with_limit(con, folder: Path, months: set[str]) -> set[str]:
    """_write_months with DuckDB's open-file limit at 1 (it raises the limit to the months
    it writes, so the limit is forced through a connection that ignores that setting)."""
    from kefu.publish import _write_months

    class OneOpenFile:
        def execute(self, sql, *args):
            if sql.startswith("set partitioned_write_max_open_files"):
                sql = "set partitioned_write_max_open_files = 1"
            return con.execute(sql, *args)

    return _write_months(OneOpenFile(), folder, "daily", "biz_date", months, every=True)


def test_a_marts_months_are_the_months_its_rows_fall_in() -> None:
    """kefu.publish._mart_months: the months between the first and the last date that
    hold a row (not March, which has none), `undated` for a row without a date, none for
    an empty mart; a timestamp column by its dates (February's row at 05:00 counts
    although the range starts at 10:00 on a day)."""
    con = duckdb.connect()
    con.execute(
        "create table dated as select * from (values (date '2025-12-31'), (date '2026-02-01'),"
        " (date '2026-04-30'), (null)) as v(biz_date)"
    )
    assert _mart_months(con, "dated", "biz_date") == {"2025-12", "2026-02", "2026-04", "undated"}
    con.execute(
        "create table stamped as select * from (values (timestamp '2026-01-15 10:00'),"
        " (timestamp '2026-02-01 05:00')) as v(created_date)"
    )
    assert _mart_months(con, "stamped", "created_date") == {"2026-01", "2026-02"}
    con.execute("create table empty (biz_date date)")
    assert _mart_months(con, "empty", "biz_date") == set()
