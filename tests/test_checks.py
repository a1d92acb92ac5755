"""Data-quality suites, run by Great Expectations for real on small DuckDB files whose
tables are made with pandas (no dbt needed): a clean warehouse passes, a broken rule
fails critically and is named, a missing mart fails with a clear reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from expectations.suites import MART_COLUMNS, MART_KEYS
from kefu.checks import run_checks
from kefu.cli import main


def _value(column: str, row: int) -> object:
    """A plausible clean value for a contract column, by its name."""
    if column in ("biz_date", "week_start", "month_start"):
        return dt.date(2026, 5, 1) + dt.timedelta(days=row)
    if column.endswith("_at"):
        later = column in ("replied_at", "first_reply_at", "paid_at")
        return dt.datetime(2026, 5, 1, 10, 0) + dt.timedelta(days=row, minutes=5 * later)
    if column.startswith("is_"):
        return True
    if column in ("round_seq", "quantity", "hour") or column.endswith(("_cnt", "_qty")):
        return 3
    if "rate" in column or column == "cs_sales_share":
        return 0.5
    if column.endswith(("_id", "_name")) or column in ("preset", "unit"):
        return f"{column}-{row}"
    return 10.0


def clean_frame(mart: str, rows: int = 2) -> pd.DataFrame:
    """A small frame with every contract column of the mart that meets every rule."""
    return pd.DataFrame(
        [{column: _value(column, row) for column in MART_COLUMNS[mart]} for row in range(rows)]
    )


def write_tables(db_path: Path, frames: dict[str, pd.DataFrame]) -> Path:
    """Write pandas frames as marts.<name> tables of a fresh DuckDB file."""
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema if not exists marts")
        for name, frame in frames.items():
            con.register("frame", frame)
            con.execute(f"create or replace table marts.{name} as select * from frame")
            con.unregister("frame")
    return db_path


@pytest.fixture
def clean_marts() -> dict[str, pd.DataFrame]:
    return {mart: clean_frame(mart) for mart in MART_KEYS}


def test_clean_marts_pass(tmp_path, clean_marts):
    report = run_checks(write_tables(tmp_path / "w.duckdb", clean_marts), ["marts"])
    assert report.success, report.reason()
    assert not [r for r in report.results if not r.success]
    assert "agent_daily_kpis" in report.summary()


def test_rate_above_one_fails_critically_and_names_the_expectation(tmp_path, clean_marts):
    clean_marts["agent_daily_kpis"].loc[0, "reply_rate"] = 1.2
    report = run_checks(write_tables(tmp_path / "w.duckdb", clean_marts), ["agent_daily_kpis"])
    assert not report.success
    assert [(r.table, r.expectation, r.column) for r in report.failed_critical()] == [
        ("marts.agent_daily_kpis", "expect_column_values_to_be_between", "reply_rate")
    ]
    assert "expect_column_values_to_be_between[reply_rate]" in report.reason()


def test_null_rate_is_allowed(tmp_path, clean_marts):
    clean_marts["shop_daily_kpis"]["cs_sales_share"] = None
    clean_marts["shop_daily_kpis"]["cs_sales_share"] = clean_marts["shop_daily_kpis"][
        "cs_sales_share"
    ].astype("float64")
    report = run_checks(write_tables(tmp_path / "w.duckdb", clean_marts), ["shop_daily_kpis"])
    assert report.success, report.reason()


def test_replied_above_received_fails(tmp_path, clean_marts):
    clean_marts["agent_daily_kpis"].loc[1, "replied_buyer_cnt"] = 4
    report = run_checks(write_tables(tmp_path / "w.duckdb", clean_marts), ["agent_daily_kpis"])
    assert not report.success
    failed = report.failed_critical()
    assert [(r.expectation, r.column, r.unexpected_count) for r in failed] == [
        (
            "expect_column_pair_values_a_to_be_greater_than_b",
            "received_buyer_cnt,replied_buyer_cnt",
            1,
        )
    ]


def test_duplicate_key_fails(tmp_path, clean_marts):
    frame = clean_marts["platform_service_daily"]
    clean_marts["platform_service_daily"] = pd.concat([frame, frame.iloc[[0]]])
    db = write_tables(tmp_path / "w.duckdb", clean_marts)
    report = run_checks(db, ["platform_service_daily"])
    assert [r.expectation for r in report.failed_critical()] == [
        "expect_compound_columns_to_be_unique"
    ]


def test_negative_count_fails(tmp_path, clean_marts):
    clean_marts["fct_receptions"].loc[0, "session_cnt"] = -1
    report = run_checks(write_tables(tmp_path / "w.duckdb", clean_marts), ["fct_receptions"])
    assert [r.column for r in report.failed_critical()] == ["session_cnt"]


def test_message_text_in_a_mart_fails(tmp_path, clean_marts):
    clean_marts["fct_rounds"]["content"] = "在吗"
    report = run_checks(write_tables(tmp_path / "w.duckdb", clean_marts), ["marts"])
    failed = [(r.table, r.expectation, r.detail) for r in report.failed_critical()]
    assert failed == [
        ("marts.fct_rounds", "expect_table_columns_to_exclude", "found: content"),
        ("marts.*", "expect_column_values_to_not_be_in_set", "e.g. content"),
    ]


def test_missing_contract_column_fails(tmp_path, clean_marts):
    clean_marts["shop_daily_kpis"] = clean_marts["shop_daily_kpis"].drop(columns=["silent_aov"])
    report = run_checks(write_tables(tmp_path / "w.duckdb", clean_marts), ["shop_daily_kpis"])
    assert "missing columns: silent_aov" in report.reason()


def test_missing_mart_fails_with_a_clear_reason(tmp_path, clean_marts):
    del clean_marts["fct_order_credits"]
    report = run_checks(write_tables(tmp_path / "w.duckdb", clean_marts), ["marts"])
    assert not report.success
    assert "table marts.fct_order_credits missing — run kefu build first" in report.reason()


def test_results_are_written_to_dq_results_replacing_the_previous(tmp_path, clean_marts):
    db = write_tables(tmp_path / "w.duckdb", clean_marts)
    first = run_checks(db, ["marts"])
    run_checks(db, ["marts"])
    with duckdb.connect(str(db)) as con:
        columns = [row[0] for row in con.execute("describe marts.dq_results").fetchall()]
        count = con.execute("select count(*) from marts.dq_results").fetchone()[0]
        failed = con.execute("select count(*) from marts.dq_results where not success").fetchone()
    assert columns[:7] == [
        "suite", "table", "expectation", "column", "is_critical", "success", "unexpected_count"
    ]  # fmt: skip
    assert count == len(first.results)
    assert failed == (0,)


def test_quarantine_share_is_a_warning_not_critical(tmp_path):
    db = tmp_path / "w.duckdb"
    with duckdb.connect(str(db)) as con:
        from kefu.schema import create_raw_schema

        create_raw_schema(con)
        con.execute(
            "insert into raw.load_files values (1, 'messages', '/l/messages/a.csv', 'a.csv',"
            " 'abc', 'csv', 'utf-8', 'loaded', 10, 5, 5, 0, null, 1)"
        )
    report = run_checks(db, ["incoming"])
    assert report.success, report.reason()
    assert [(r.table, r.column) for r in report.failed_warnings()] == [
        ("raw.load_files", "quarantine_share")
    ]


def test_check_command_returns_1_and_prints_the_reason(tmp_path, clean_marts, capsys):
    clean_marts["agent_daily_kpis"].loc[0, "good_rate"] = 1.5
    db = write_tables(tmp_path / "w.duckdb", clean_marts)
    assert main(["check", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kefu check: ")
    assert "good_rate" in err
    assert len(err.strip().splitlines()) == 1
