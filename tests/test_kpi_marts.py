"""The KPI marts: how service, conversion, sales and rating figures meet per
account-day and shop-day, NULL rates on empty denominators, and roll-ups from
summed numerators and denominators (docs/metrics.md §8, §9)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import duckdb
import pytest

from kefu.build import BuildWindow, build
from tests.support import build_warehouse, msg, one, order, query, rating, write_raw

D = dt.date(2026, 5, 4)  # a Monday


def scenario_rows() -> dict:
    return {
        "shops": [
            {"shop_id": "roll", "platform": "tmall"},
            {"shop_id": "rate_only", "platform": "jd"},
            {"shop_id": "two_accounts", "platform": "pdd"},
            {"shop_id": "assisted", "platform": "taobao"},
        ],
        "agents": [
            {"shop_id": "roll", "agent_id": "roll:a", "agent_name": "小王"},
        ],
        "messages": [
            # roll, Monday: 2 receptions, both replied.
            #   b1: rounds of 60 s and 120 s, one session 10:00-10:07 (420 s).
            msg("roll", "roll:a", "b1", "buyer", "2026-05-04 10:00:00"),
            msg("roll", "roll:a", "b1", "agent", "2026-05-04 10:01:00"),
            msg("roll", "roll:a", "b1", "buyer", "2026-05-04 10:05:00"),
            msg("roll", "roll:a", "b1", "agent", "2026-05-04 10:07:00"),
            #   b5: one round of 30 s, session 30 s.
            msg("roll", "roll:a", "b5", "buyer", "2026-05-04 14:00:00"),
            msg("roll", "roll:a", "b5", "agent", "2026-05-04 14:00:30"),
            # roll, Tuesday: 3 receptions, one replied after 600 s, two unreplied;
            #   b3 writes while b2's session (10:00-10:10) is open: 2 at once.
            msg("roll", "roll:a", "b2", "buyer", "2026-05-05 10:00:00"),
            msg("roll", "roll:a", "b2", "agent", "2026-05-05 10:10:00"),
            msg("roll", "roll:a", "b3", "buyer", "2026-05-05 10:05:00"),
            msg("roll", "roll:a", "b4", "buyer", "2026-05-05 12:00:00"),
            # mature: receptions on 05-02 and 05-03, to see is_final turn at as_of - 4.
            msg("mature", "mature:a", "m1", "buyer", "2026-05-02 10:00:00"),
            msg("mature", "mature:a", "m1", "buyer", "2026-05-03 10:00:00"),
            # two_accounts: buyer x writes to two accounts on one day; only one replies.
            msg("two_accounts", "two:a", "x", "buyer", "2026-05-04 09:00:00"),
            msg("two_accounts", "two:a", "x", "agent", "2026-05-04 09:00:30"),
            msg("two_accounts", "two:b", "x", "buyer", "2026-05-04 09:05:00"),
            # assisted: y is served by as:a on 05-04 and by as:b on 05-05 before ordering.
            msg("assisted", "as:a", "y", "buyer", "2026-05-04 15:00:00"),
            msg("assisted", "as:a", "y", "agent", "2026-05-04 15:01:00"),
            msg("assisted", "as:b", "y", "buyer", "2026-05-05 08:00:00"),
            msg("assisted", "as:b", "y", "agent", "2026-05-05 08:01:00"),
        ],
        "orders": [
            # two_accounts: x pays on 05-06 with nobody serving then -> still credited
            # (order credit to two:a, the latest serving reply before created_at).
            order("two_accounts", "o1", "x", "2026-05-04 09:10:00", "2026-05-06 08:00:00", "88.00"),
            # assisted: y orders on 05-05 09:00 (a following order of both receptions),
            # credited to as:b (its 08:01 reply is the latest), paid 09:30.
            order("assisted", "o2", "y", "2026-05-05 09:00:00", "2026-05-05 09:30:00", "60.00"),
        ],
        "ratings": [
            rating("rate_only", "jd:a", "r1", "2026-05-04 12:00:00", "5", "rt1"),
            rating("rate_only", "jd:a", "r2", "2026-05-04 12:00:00", "2", "rt2"),
        ],
    }


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("kpis") / "w.duckdb", scenario_rows())


def test_rating_only_day_has_zero_counts_and_null_service_rates(warehouse):
    row = one(warehouse, "select * from marts.agent_daily_kpis where shop_id = 'rate_only'")
    assert row["rating_cnt"] == 2 and row["satisfied_cnt"] == 1 and row["disappointed_cnt"] == 1
    assert row["good_rate"] == pytest.approx(0.5)
    # No reception that day: counts are 0, rates and averages NULL (docs/metrics.md §8).
    assert row["consult_buyer_cnt"] == 0 and row["round_cnt"] == 0
    assert row["reply_rate"] is None
    assert row["avg_response_s"] is None
    assert row["inq_to_pay_rate_final"] is None
    assert row["cs_aov"] is None
    assert row["cs_sales_amt"] == 0


def test_weekly_rates_come_from_summed_numerators_not_averaged_daily_rates(warehouse):
    days = query(
        warehouse,
        "select biz_date, reply_rate, avg_response_s, max_concurrent_receptions "
        "from marts.agent_daily_kpis where shop_id = 'roll' order by biz_date",
    )
    # Monday 2/2 replied, rounds 60, 120, 30 (avg 70), one session at a time;
    # Tuesday 1/3 replied, one timed round of 600 s, b2 and b3 open at once.
    assert [
        (d["reply_rate"], d["avg_response_s"], d["max_concurrent_receptions"]) for d in days
    ] == [
        (pytest.approx(1.0), pytest.approx(70.0), 1),
        (pytest.approx(1 / 3), pytest.approx(600.0), 2),
    ]
    week = one(warehouse, "select * from marts.agent_weekly_kpis where shop_id = 'roll'")
    assert week["week_start"] == D
    assert week["received_buyer_cnt"] == 5 and week["replied_buyer_cnt"] == 3
    # 3 / 5 = 0.6, not the mean of the daily rates (1 + 1/3) / 2 = 0.667.
    assert week["reply_rate"] == pytest.approx(0.6)
    # avg response: (60 + 120 + 30 + 600) / 4 timed rounds = 202.5 s (daily means: 335).
    assert week["response_total_s"] == pytest.approx(810.0)
    assert week["avg_response_s"] == pytest.approx(202.5)
    # first response: (60 + 30 + 600) / 3 = 230 s (daily means: (45 + 600) / 2 = 322.5).
    assert week["avg_first_response_s"] == pytest.approx(230.0)
    # reply_3min_rate: 3 rounds within 180 s (60, 120, 30) of 6 rounds (2 unreplied).
    assert week["reply_3min_rate"] == pytest.approx(0.5)
    # reception duration: (420 + 30 + 600 + 0 + 0) / 3 replied = 350 s (daily: 225 and 600).
    assert week["reception_duration_s"] == pytest.approx(1050.0)
    assert week["avg_reception_duration_s"] == pytest.approx(350.0)
    # Peak concurrency is the period's maximum, not a sum: max(1, 2) = 2.
    assert week["max_concurrent_receptions"] == 2
    assert week["agent_name"] == "小王"
    month = one(warehouse, "select * from marts.agent_monthly_kpis where shop_id = 'roll'")
    assert month["month_start"] == dt.date(2026, 5, 1)
    assert month["reply_rate"] == pytest.approx(0.6)
    assert month["avg_first_response_s"] == pytest.approx(230.0)
    assert month["max_concurrent_receptions"] == 2


def test_shop_day_counts_a_buyer_on_two_accounts_once(warehouse):
    accounts = query(
        warehouse,
        "select agent_id, received_buyer_cnt, replied_buyer_cnt from marts.agent_daily_kpis "
        "where shop_id = 'two_accounts' and biz_date = ? order by agent_id",
        [D],
    )
    assert [(a["received_buyer_cnt"], a["replied_buyer_cnt"]) for a in accounts] == [(1, 1), (1, 0)]
    shop = one(
        warehouse,
        "select * from marts.shop_daily_kpis where shop_id = 'two_accounts' and biz_date = ?",
        [D],
    )
    # One buyer, replied by one of the two accounts: counted once, as replied.
    assert shop["consult_buyer_cnt"] == 1
    assert shop["received_buyer_cnt"] == 1
    assert shop["replied_buyer_cnt"] == 1
    assert shop["unreplied_buyer_cnt"] == 0
    # Messages are summed over the accounts: 2 buyer messages, 1 agent message.
    assert shop["buyer_msg_cnt"] == 2 and shop["agent_msg_cnt"] == 1


def test_sales_are_dated_by_payment_day_with_their_own_row(warehouse):
    paid_day = dt.date(2026, 5, 6)
    row = one(
        warehouse,
        "select * from marts.agent_daily_kpis where shop_id = 'two_accounts' and biz_date = ?",
        [paid_day],
    )
    assert row["agent_id"] == "two:a"
    assert row["cs_sales_amt"] == Decimal("88.00") and row["cs_order_cnt"] == 1
    assert row["cs_aov"] == Decimal("88.00")
    assert row["consult_buyer_cnt"] == 0 and row["reply_rate"] is None
    shop = one(
        warehouse,
        "select * from marts.shop_daily_kpis where shop_id = 'two_accounts' and biz_date = ?",
        [paid_day],
    )
    assert shop["paid_sales_amt"] == Decimal("88.00")
    assert shop["cs_sales_share"] == pytest.approx(1.0)
    assert shop["silent_aov"] is None


def test_maturity_flags_follow_the_as_of_date(warehouse):
    # Default as_of = latest date in the data = 2026-05-06 (the payment).
    rows = query(
        warehouse,
        "select biz_date, is_next_day_final, is_final from marts.shop_daily_kpis "
        "where shop_id in ('roll', 'mature') and consult_buyer_cnt > 0 order by biz_date",
    )
    # 05-02: D+4 = 05-06 <= as_of, final.  05-03: D+4 = 05-07 > as_of, not final.
    # 05-04, 05-05: D+1 <= 05-06, next-day final; not final.
    assert [(r["biz_date"].day, r["is_next_day_final"], r["is_final"]) for r in rows] == [
        (2, True, True),
        (3, True, False),
        (4, True, False),
        (5, True, False),
    ]
    agent = query(
        warehouse,
        "select biz_date, is_final from marts.agent_daily_kpis where shop_id = 'mature' "
        "order by biz_date",
    )
    assert [r["is_final"] for r in agent] == [True, False]


def test_fct_receptions_carries_the_inquiry_flags(warehouse):
    rows = query(
        warehouse,
        "select agent_id, is_inquiry, is_after_sale, is_assisted from marts.fct_receptions "
        "where shop_id = 'two_accounts' order by agent_id",
    )
    # Both receptions of x are followed by order o1 (created 09:10, within [t0, end of D+1)):
    # inquiries, not after-sale. o1 is credited to two:a (the only serving reply), so
    # two:b's inquiry is assisted (docs/metrics.md §4.7).
    assert [
        (r["agent_id"], r["is_inquiry"], r["is_after_sale"], r["is_assisted"]) for r in rows
    ] == [
        ("two:a", True, False, False),
        ("two:b", True, False, True),
    ]


def test_assisted_inquiry_of_the_day_before_counts_for_the_shop_only(warehouse):
    # as:a served y on 05-04; o2 (created 05-05, a following order of that reception)
    # is credited to as:b, which served y on 05-05 before it: as:a's inquiry is
    # assisted, out of its counts; as:b's 05-05 inquiry converts (paid 05-05 09:30).
    counts = ("inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt", "inq_pay_final_cnt")
    rows = query(
        warehouse,
        "select agent_id, biz_date, inquiry_buyer_cnt, inq_order_cnt, inq_pay_next_day_cnt,"
        " inq_pay_final_cnt, received_buyer_cnt from marts.agent_daily_kpis"
        " where shop_id = 'assisted' and received_buyer_cnt > 0 order by biz_date",
    )
    assert [(r["agent_id"], r["biz_date"].day, *(r[c] for c in counts)) for r in rows] == [
        ("as:a", 4, 0, 0, 0, 0),
        ("as:b", 5, 1, 1, 1, 1),
    ]
    shop = query(
        warehouse,
        "select biz_date, inquiry_buyer_cnt, inq_order_cnt, inq_pay_next_day_cnt,"
        " inq_pay_final_cnt from marts.shop_daily_kpis"
        " where shop_id = 'assisted' and received_buyer_cnt > 0 order by biz_date",
    )
    # The shop counts y on both days, converted on both (o2 follows each reception).
    assert [(r["biz_date"].day, *(r[c] for c in counts)) for r in shop] == [
        (4, 1, 1, 1, 1),
        (5, 1, 1, 1, 1),
    ]
    flags = query(
        warehouse,
        "select agent_id, is_assisted from marts.fct_receptions where shop_id = 'assisted'"
        " order by agent_id",
    )
    assert [(r["agent_id"], r["is_assisted"]) for r in flags] == [("as:a", True), ("as:b", False)]


ALL_MARTS = [
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


def mart_contents(db_path) -> dict[str, list[tuple]]:
    """Every row of every mart, sorted, so two warehouses compare as values."""
    contents = {}
    for mart in ALL_MARTS:
        rows = query(db_path, f"select * from marts.{mart}")
        contents[mart] = sorted(tuple(str(v) for v in row.values()) for row in rows)
    return contents


def test_building_twice_and_day_by_day_give_the_same_marts(warehouse, tmp_path):
    all_at_once = mart_contents(warehouse)
    assert all(all_at_once[mart] for mart in ALL_MARTS if mart != "unpaid_order_followups")

    build(warehouse)  # the same build again
    assert mart_contents(warehouse) == all_at_once

    day_by_day = tmp_path / "daily.duckdb"
    write_raw(day_by_day, scenario_rows())
    day = dt.date(2026, 5, 2)
    while day <= dt.date(2026, 5, 6):  # every day the data covers, one build each
        build(day_by_day, BuildWindow(start=day, end=day))
        day += dt.timedelta(days=1)
    assert mart_contents(day_by_day) == all_at_once


def test_a_window_build_takes_in_a_later_ratings_file_as_a_full_build_does(warehouse, tmp_path):
    """stg_exports__ratings is incremental (docs/decisions.md, "The nightly's cost,
    twelfth pass"). A later file holds a second copy of r1 with another score, and a
    new rating r3. The window build appends r3 only (r1 keeps its first loaded copy),
    and gives the marts of a full build over the same raw rows."""
    later = {
        "ratings": [
            rating("rate_only", "jd:a", "r1", "2026-05-04 12:00:00", "1", "rt1"),
            rating("rate_only", "jd:a", "r3", "2026-05-06 12:00:00", "1", "rt3"),
        ]
    }
    windowed = tmp_path / "windowed.duckdb"
    windowed.write_bytes(warehouse.read_bytes())
    write_raw(windowed, later, file_id=2)
    build(windowed, BuildWindow(start=dt.date(2026, 5, 6), end=dt.date(2026, 5, 6)))
    full = tmp_path / "full.duckdb"
    write_raw(full, scenario_rows())
    write_raw(full, later, file_id=2)
    build(full)

    ratings = (
        "select rating_id, score, rating_level, source_file_id"
        " from staging.stg_exports__ratings order by rating_id"
    )
    assert [tuple(row.values()) for row in query(windowed, ratings)] == [
        ("rt1", "5", "satisfied", 1),
        ("rt2", "2", "disappointed", 1),
        ("rt3", "1", "disappointed", 2),
    ]
    assert query(windowed, ratings) == query(full, ratings)
    assert mart_contents(windowed) == mart_contents(full)


def test_a_window_build_tests_the_window_days_of_date_grained_models(warehouse, tmp_path):
    """A broken row outside the window (a rate of 2 on 05-02) does not fail a build
    of 05-06 (its tests read 05-06 only), and the compiled tests say so; a test of a model
    without biz_date (a seed, the orders view) reads the whole relation."""
    db_path = tmp_path / "windowed.duckdb"
    db_path.write_bytes(warehouse.read_bytes())
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "update marts.agent_daily_kpis set reply_rate = 2 where biz_date = date '2026-05-02'"
        )
    build(db_path, BuildWindow(start=dt.date(2026, 5, 6), end=dt.date(2026, 5, 6)))
    assert query(db_path, "select max(reply_rate) as m from marts.agent_daily_kpis")[0]["m"] == 2
    # still there: the window build neither rewrote nor tested 05-02
    results = json.loads(
        (tmp_path / ".dbt" / "windowed" / "target" / "run_results.json").read_text()
    )["results"]
    tests = {r["unique_id"]: " ".join((r.get("compiled_code") or "").split()) for r in results}
    window = "biz_date between date '2026-05-06' and date '2026-05-06'"
    negative = [
        code for uid, code in tests.items() if uid.startswith("test.kefu.agent_daily_kpis__rules")
    ]
    assert negative and all(window in code for code in negative), negative
    untouched = [
        code
        for uid, code in tests.items()
        if uid.startswith(("test.kefu.stg_exports__orders__rules", "test.kefu.rulesets__rules"))
    ]
    assert untouched and not any("biz_date between" in code for code in untouched)


def test_every_published_column_has_an_entry_in_docs_metrics(warehouse):
    # docs/metrics.md §15: a doc block (figures) or a table row (keys, dates, flags)
    # for every column of every mart the dbt project builds.
    from kefu.warehouse import mart_names
    from tests.test_docs import documented_columns

    rows = query(
        warehouse,
        "select table_name, column_name from information_schema.columns"
        " where table_schema = 'marts'",
    )
    marts = set(mart_names())
    published = {(row["table_name"], row["column_name"]) for row in rows}
    assert {table for table, _ in published} == marts
    missing = sorted(f"{t}.{c}" for t, c in published if c not in documented_columns())
    assert missing == []
