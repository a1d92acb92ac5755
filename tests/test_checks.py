"""Data-quality rules, run for real: the dbt data tests in SQL (over a window's days or
every row) on a small dbt-built warehouse, and the GX suites (latest load, marts' shape).
A clean warehouse passes and records every rule in marts.dq_results; a broken mart (a
rate above 1, a broken sales identity, a duplicate key, ...) fails critically and each
broken rule is named once; a window check reads the window's days only."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kefu.build import BuildError, BuildWindow, run_dbt
from kefu.checks import run_checks
from kefu.cli import main
from kefu.paths import PROJECT_DIR
from tests.support import build_warehouse, query
from tests.test_kpi_marts import scenario_rows

TUESDAY = dt.date(2026, 5, 5)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("checks") / "built.duckdb", scenario_rows())


def _copy(built: Path, folder: Path, name: str) -> Path:
    target = folder / f"{name}.duckdb"
    shutil.copyfile(built, target)
    return target


def _failed(db_path: Path) -> set[tuple[str, str, str | None, bool]]:
    rows = query(
        db_path,
        'select "table", expectation, "column", is_critical from marts.dq_results'
        " where not success",
    )
    return {(r["table"], r["expectation"], r["column"], r["is_critical"]) for r in rows}


def test_a_clean_warehouse_passes_every_rule_and_records_each_once(built, tmp_path):
    db = _copy(built, tmp_path, "clean")
    # a rating-only day: NULL rates (empty denominators) are allowed
    assert query(db, "select count(*) as n from marts.agent_daily_kpis where reply_rate is null")[
        0
    ]["n"]
    report = run_checks(db)
    assert report.success, report.reason()
    labels = {(r.table, r.expectation, r.column) for r in report.results}
    assert {
        ("marts.agent_daily_kpis", "kefu_unit_interval", "reply_rate"),
        ("marts.agent_daily_kpis", "kefu_at_most", "replied_buyer_cnt,received_buyer_cnt"),
        ("marts.shop_daily_kpis", "kpis_shop_paid_equals_credited_plus_silent", None),
        ("marts.fct_receptions", "kefu_non_negative", "session_cnt"),
        ("staging.stg_exports__orders", "kefu_at_least", "quantity"),
        ("marts.fct_rounds", "expect_table_columns_to_exclude", None),
        ("raw.messages", "expect_column_values_to_not_be_null", "message_id"),
    } <= labels
    suites = {r.suite for r in report.results}
    # the GX suite of the load, the dbt tests of sources (raw), seeds and every layer
    assert suites == {"incoming", "raw", "seeds", "staging", "intermediate", "marts"}
    # a check of one mart again: its rows replace the previous ones, one row per rule
    again = run_checks(db, ["agent_daily_kpis"])
    assert again.success and {r.table for r in again.results} == {"marts.agent_daily_kpis"}
    rows = query(db, "select count(*) as n, count(*) filter (where not success) as f"
                 " from marts.dq_results")[0]  # fmt: skip
    assert (rows["n"], rows["f"]) == (len(report.results), 0)


def _break(db_path: Path) -> None:
    """One broken rule per statement, on Tuesday 05-05 where a row has a day."""
    with duckdb.connect(str(db_path)) as con:
        for sql in [
            # a rate above 1
            "update marts.agent_daily_kpis set reply_rate = 1.2"
            " where shop_id = 'roll' and biz_date = date '2026-05-05'",
            # more buyers replied than received
            "update marts.agent_daily_kpis set replied_buyer_cnt = received_buyer_cnt + 1"
            " where shop_id = 'assisted' and biz_date = date '2026-05-05'",
            # the sales identity: paid = credited + silent
            "update marts.shop_daily_kpis set paid_sales_amt = paid_sales_amt + 1"
            " where shop_id = 'assisted' and biz_date = date '2026-05-05'",
            # a negative count
            "update marts.fct_receptions set session_cnt = -1"
            " where shop_id = 'roll' and biz_date = date '2026-05-05' and buyer_id = 'b2'",
            # a duplicate key
            "insert into marts.platform_service_daily select * from marts.platform_service_daily"
            " where biz_date = date '2026-05-05' limit 1",
            # message text in a mart, a contract column missing, a mart missing
            "alter table marts.fct_rounds add column content varchar",
            "alter table marts.shop_daily_kpis drop column silent_aov",
            "drop view marts.fct_order_credits",
        ]:
            con.execute(sql)


def test_a_broken_mart_fails_kefu_check_and_names_each_broken_rule(built, tmp_path, capsys):
    db = _copy(built, tmp_path, "broken")
    _break(db)
    assert main(["check", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("kefu check: ") and len(err.strip().splitlines()) == 1
    assert "reply_rate" in err and "table marts.fct_order_credits missing" in err
    assert _failed(db) == {
        ("marts.agent_daily_kpis", "kefu_unit_interval", "reply_rate", True),
        ("marts.agent_daily_kpis", "kefu_at_most", "replied_buyer_cnt,received_buyer_cnt", True),
        ("marts.shop_daily_kpis", "kpis_shop_paid_equals_credited_plus_silent", None, True),
        ("marts.fct_receptions", "kefu_non_negative", "session_cnt", True),
        (
            "marts.platform_service_daily",
            "kefu_unique_combination",
            "shop_id,agent_id,biz_date,preset",
            True,
        ),
        ("marts.fct_rounds", "expect_table_columns_to_exclude", None, True),
        ("marts.*", "expect_column_values_to_not_be_in_set", "column_name", True),
        ("marts.shop_daily_kpis", "expect_table_columns_to_match_set", None, True),
        # the dropped column: the model's rules test cannot run; the rule on it is named
        ("marts.shop_daily_kpis", "kefu_rules", None, True),
        ("marts.shop_daily_kpis", "kefu_non_negative", "silent_aov", True),
        ("marts.fct_order_credits", "table_exists", None, True),
    }
    details = {
        r["expectation"]: r["detail"]
        for r in query(db, "select expectation, detail from marts.dq_results where not success")
    }
    assert details["expect_table_columns_to_match_set"] == "missing columns: silent_aov"
    assert details["expect_table_columns_to_exclude"] == "found: content"


def test_a_failed_rules_test_names_its_broken_rules_and_their_rows(built, tmp_path):
    """A model's rules run as one dbt node (kefu_rules); when it fails, the error names
    each broken rule with its failing rows, counted here from the data."""
    db = _copy(built, tmp_path, "rules")
    where = "shop_id = 'roll' and biz_date = date '2026-05-05'"
    with duckdb.connect(str(db)) as con:
        con.execute(f"update marts.agent_daily_kpis set reply_rate = 1.5 where {where}")
        con.execute(f"update marts.agent_daily_kpis set agent_id = null where {where}")
        rows = con.execute(f"select count(*) from marts.agent_daily_kpis where {where}").fetchone()
    assert rows[0] >= 1
    with pytest.raises(BuildError) as caught:
        run_dbt(db, ["test", "--select", "agent_daily_kpis__rules"])
    message = str(caught.value)
    assert "agent_daily_kpis__rules on model agent_daily_kpis" in message
    assert f"kefu_unit_interval(reply_rate) on {rows[0]} row(s)" in message
    assert f"not_null(agent_id) on {rows[0]} row(s)" in message
    assert "kefu_at_most" not in message  # the rules that hold are not named


def test_the_incoming_suite_reads_the_load_runs_it_is_given(built, tmp_path):
    """kefu check validates the latest load run; the nightly passes the runs its build
    took in (none: the suite does not run again). A raw row of run 2 with an unknown role
    fails run 2's check and the latest-run check, not run 1's."""
    db = _copy(built, tmp_path, "runs")
    with duckdb.connect(str(db)) as con:
        for file_id, run in ((1, 1), (2, 2)):
            con.execute(
                "insert into raw.load_files (file_id, entity, file_path, file_name,"
                " content_sha256, status, load_run_id)"
                " values (?, 'messages', ?, ?, ?, 'loaded', ?)",
                [file_id, f"m{file_id}.csv", f"m{file_id}.csv", f"sha{file_id}", run],
            )
        con.execute(
            "insert into raw.messages (message_id, shop_id, buyer_id, agent_id, sender_role,"
            " sent_at, _file_id, _row_num) values"
            " ('late', 'roll', 'b1', 'a1', 'robot', timestamp '2026-05-05 10:00:00', 2, 1)"
        )

    def failed(load_runs):
        report = run_checks(db, ["incoming"], load_runs=load_runs)
        return report, {(r.table, r.column) for r in report.failed_critical()}

    assert failed(None)[1] == {("raw.messages", "sender_role")}  # the latest run: 2
    assert failed([2])[1] == {("raw.messages", "sender_role")}
    first, broken = failed([1])
    assert not broken and {r.table for r in first.results} >= {"raw.messages"}
    nothing_new, _ = failed([])
    assert nothing_new.results == []


def test_a_check_with_no_rows_to_validate_never_imports_gx(built, tmp_path):
    """The marts' shape is read in SQL; GX (seconds to import) loads only for incoming rows.
    A nightly check that took in no load run checks every mart's shape and every dbt test
    without it, in a fresh interpreter; the latest load's check imports it."""
    db = _copy(built, tmp_path, "no_gx")
    with duckdb.connect(str(db)) as con:
        con.execute("alter table marts.fct_rounds add column content varchar")
    script = (
        "import json, sys; from pathlib import Path; from kefu.checks import run_checks; "
        "report = run_checks(Path(sys.argv[1]), load_runs=json.loads(sys.argv[2])); "
        "print(json.dumps({'gx': 'great_expectations' in sys.modules, 'failed': "
        "sorted([r.table, r.expectation] for r in report.failed_critical()), "
        "'suites': sorted({r.suite for r in report.results})}))"
    )

    def check(load_runs: list[int] | None) -> dict:
        done = subprocess.run(
            [sys.executable, "-c", script, str(db), json.dumps(load_runs)],
            capture_output=True, text=True, check=True, cwd=PROJECT_DIR,
        )  # fmt: skip
        return json.loads(done.stdout.strip().splitlines()[-1])

    nothing_new = check([])
    assert nothing_new["gx"] is False
    assert nothing_new["failed"] == [
        ["marts.*", "expect_column_values_to_not_be_in_set"],
        ["marts.fct_rounds", "expect_table_columns_to_exclude"],
    ]
    assert "incoming" not in nothing_new["suites"] and "marts" in nothing_new["suites"]
    latest = check(None)
    assert latest["gx"] is True and "incoming" in latest["suites"]


def test_a_window_check_tests_the_window_days_only(built, tmp_path):
    db = _copy(built, tmp_path, "window")
    with duckdb.connect(str(db)) as con:
        con.execute(
            "update marts.agent_daily_kpis set reply_rate = 1.2"
            " where shop_id = 'roll' and biz_date = date '2026-05-05'"
        )
    monday = BuildWindow(start=TUESDAY - dt.timedelta(days=1), end=TUESDAY - dt.timedelta(days=1))
    outside = run_checks(db, ["agent_daily_kpis"], window=monday)
    assert outside.success, outside.reason()
    assert any(r.expectation == "kefu_unit_interval" for r in outside.results)
    inside = run_checks(db, ["agent_daily_kpis"], window=BuildWindow(start=TUESDAY, end=TUESDAY))
    assert [(r.expectation, r.column, r.unexpected_count) for r in inside.failed_critical()] == [
        ("kefu_unit_interval", "reply_rate", 1)
    ]


def test_a_window_check_tests_the_orders_created_or_paid_from_its_first_day(built, tmp_path):
    """Order-level models (meta kefu_window_rows: orders): a window build writes only the
    orders created or paid from its first day on, and its check tests those."""
    db = _copy(built, tmp_path, "orders")
    with duckdb.connect(str(db)) as con:
        # o2 was created and paid on Tuesday 05-05; o1 created 05-04, paid 05-06.
        con.execute(
            "update intermediate.int_orders_credited set attribution_mode = null"
            " where order_id in ('o1', 'o2')"
        )
    wednesday = TUESDAY + dt.timedelta(days=1)
    later = run_checks(db, ["int_orders_credited"], window=BuildWindow(start=wednesday))
    assert [(r.expectation, r.column, r.unexpected_count) for r in later.failed_critical()] == [
        ("not_null", "attribution_mode", 1)  # o1, paid on Wednesday; not o2
    ]
    whole = run_checks(db, ["int_orders_credited"])
    assert [(r.expectation, r.column, r.unexpected_count) for r in whole.failed_critical()] == [
        ("not_null", "attribution_mode", 2)
    ]


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


def test_an_unknown_suite_is_refused():
    with pytest.raises(ValueError, match="no data-quality suite named nope"):
        run_checks(Path("/nonexistent.duckdb"), ["nope"])
