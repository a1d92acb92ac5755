"""The `kefu demo` command, as README's run command uses it: demo landing zone,
load, build, checks and publish, then where the results are."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from kefu.build import BuildError, BuildWindow, build
from kefu.cli import main
from kefu.nightly import build_recorded
from tests.support import msg, write_raw

# Every published mart has rows on the demo data (the dbt tests that ran inside the
# demo's build already held: rates in [0, 1], numerators <= denominators, ...).
DEMO_MARTS = [
    "agent_daily_kpis",
    "shop_daily_kpis",
    "agent_weekly_kpis",
    "agent_monthly_kpis",
    "fct_rounds",
    "fct_receptions",
    "fct_order_credits",
    "platform_service_daily",
    "reception_load_hourly",
    "unpaid_order_followups",
    "team_daily_kpis",
    "team_weekly_kpis",
    "team_monthly_kpis",
    "shop_weekly_kpis",
    "shop_monthly_kpis",
    "platform_service_assessed",
    "kpi_target_status",
    "service_alerts",
    "question_topics_daily",
]


def test_demo_writes_loads_builds_checks_and_says_where_the_results_are(tmp_path, capsys):
    db_path = tmp_path / "warehouse.duckdb"
    landing = tmp_path / "landing"
    status = main(["demo", "--db", str(db_path), "--landing", str(landing), "--messages", "20000"])
    out = capsys.readouterr().out
    assert status == 0, out[-2000:]
    assert f"results: {db_path}" in out
    # A transcript to read: progress and summaries, no dbt console log, no colour codes;
    # dbt's own log is in its file, without colour codes either.
    assert len(out.splitlines()) < 40, out
    assert "\x1b" not in out and "Running with dbt" not in out
    dbt_log = (tmp_path / ".dbt" / "warehouse" / "logs" / "dbt.log").read_text(encoding="utf-8")
    assert "Running with dbt" in dbt_log and "\x1b" not in dbt_log
    with duckdb.connect(str(db_path)) as con:
        counts = {
            mart: con.execute(f"select count(*) from marts.{mart}").fetchall()[0][0]
            for mart in DEMO_MARTS
        }
        published = con.execute("select count(*) from marts.publication").fetchall()[0][0]
        alert_types = {
            row[0]
            for row in con.execute(
                "select distinct alert_type from marts.service_alerts"
            ).fetchall()
        }
        topics = {
            row[0]
            for row in con.execute(
                "select distinct topic from marts.question_topics_daily"
            ).fetchall()
        }
        paid_vs_parts = con.execute(
            "select count(*) from marts.shop_daily_kpis "
            "where cs_sales_amt + silent_sales_amt <> paid_sales_amt"
        ).fetchall()[0][0]
    assert all(count > 0 for count in counts.values()), counts
    assert published == 1
    # The demo exercises every alert type and most question topics.
    assert alert_types == {
        "disappointed_rating",
        "slow_reception",
        "unreplied_buyer",
        "late_reply",
        "below_target",
    }
    assert {"size", "shipping", "logistics", "price", "quality", "other"} <= topics
    assert paid_vs_parts == 0


def test_a_build_of_every_day_makes_the_incremental_tables_anew(tmp_path):
    """A window build rewrites its days inside an incremental table (the same table); a
    build of every day makes each table anew (one `create table as`), as `--full-refresh`
    does. A comment put on the tables tells which happened: it stays on the same table
    and is gone from a new one. `--full-refresh` with a window is refused: a mart made
    anew over a window would hold the window's days only."""
    db_path = tmp_path / "w.duckdb"
    write_raw(
        db_path,
        {
            "messages": [
                msg("s", "a", "b", "buyer", "2026-04-30 10:00:00"),
                msg("s", "a", "b", "buyer", "2026-05-01 10:00:00"),
            ]
        },
    )
    day = ["--start", "2026-05-01", "--end", "2026-05-01"]
    tables = ("marts.fct_rounds", "intermediate.int_messages_sessionized")

    def mark() -> None:
        with duckdb.connect(str(db_path)) as con:
            for table in tables:
                con.execute(f"comment on table {table} is 'before'")

    def marked() -> list[bool]:
        with duckdb.connect(str(db_path), read_only=True) as con:
            return [
                con.execute(
                    "select comment = 'before' from duckdb_tables()"
                    " where schema_name || '.' || table_name = ?",
                    [table],
                ).fetchone()[0]
                is True
                for table in tables
            ]

    assert main(["build", "--db", str(db_path)]) == 0
    mark()
    assert main(["build", "--db", str(db_path), *day]) == 0
    assert marked() == [True, True]
    assert main(["build", "--db", str(db_path)]) == 0
    assert marked() == [False, False]
    mark()
    assert main(["build", "--db", str(db_path), *day, "--full-refresh"]) == 2
    one_day = BuildWindow(dt.date(2026, 5, 1), dt.date(2026, 5, 1))
    with duckdb.connect(str(db_path), read_only=True) as con:
        builds = con.execute("select count(*) from raw.build_runs").fetchone()
    with pytest.raises(BuildError, match="builds every day, not a window"):
        build(db_path, one_day, full_refresh=True)
    with pytest.raises(BuildError, match="builds every day, not a window"):
        build_recorded(db_path, one_day, [], "test", full_refresh=True)
    with duckdb.connect(str(db_path), read_only=True) as con:
        assert con.execute("select count(*) from raw.build_runs").fetchone() == builds
    assert marked() == [True, True]  # refused: nothing built
    assert main(["build", "--db", str(db_path), "--full-refresh"]) == 0
    assert marked() == [False, False]
    with duckdb.connect(str(db_path), read_only=True) as con:
        days = con.execute("select distinct biz_date from marts.fct_rounds order by 1").fetchall()
    assert days == [(dt.date(2026, 4, 30),), (dt.date(2026, 5, 1),)]
