"""The KPI marts: how service, conversion, sales and rating figures meet per
account-day and shop-day, NULL rates on empty denominators, and roll-ups from
summed numerators and denominators (contract §3, metrics.md §8)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.support import build_warehouse, msg, one, order, query, rating

D = dt.date(2026, 5, 4)  # a Monday


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    rows = {
        "shops": [
            {"shop_id": "roll", "platform": "tmall"},
            {"shop_id": "rate_only", "platform": "jd"},
            {"shop_id": "two_accounts", "platform": "pdd"},
        ],
        "agents": [
            {"shop_id": "roll", "agent_id": "roll:a", "agent_name": "小王"},
        ],
        "messages": [
            # roll: Monday 1 reception replied within 60 s (1 round of 1 timed).
            msg("roll", "roll:a", "b1", "buyer", "2026-05-04 10:00:00"),
            msg("roll", "roll:a", "b1", "agent", "2026-05-04 10:01:00"),
            # roll: Tuesday 3 receptions, one replied after 600 s, two unreplied.
            msg("roll", "roll:a", "b2", "buyer", "2026-05-05 10:00:00"),
            msg("roll", "roll:a", "b2", "agent", "2026-05-05 10:10:00"),
            msg("roll", "roll:a", "b3", "buyer", "2026-05-05 11:00:00"),
            msg("roll", "roll:a", "b4", "buyer", "2026-05-05 12:00:00"),
            # two_accounts: buyer x writes to two accounts on one day; only one replies.
            msg("two_accounts", "two:a", "x", "buyer", "2026-05-04 09:00:00"),
            msg("two_accounts", "two:a", "x", "agent", "2026-05-04 09:00:30"),
            msg("two_accounts", "two:b", "x", "buyer", "2026-05-04 09:05:00"),
        ],
        "orders": [
            # two_accounts: x pays on 05-06 with nobody serving then -> still credited
            # (order credit to two:a, the latest serving reply before created_at).
            order("two_accounts", "o1", "x", "2026-05-04 09:10:00", "2026-05-06 08:00:00", "88.00"),
        ],
        "ratings": [
            rating("rate_only", "jd:a", "r1", "2026-05-04 12:00:00", "5", "rt1"),
            rating("rate_only", "jd:a", "r2", "2026-05-04 12:00:00", "2", "rt2"),
        ],
    }
    return build_warehouse(tmp_path_factory.mktemp("kpis") / "w.duckdb", rows)


def test_rating_only_day_has_zero_counts_and_null_service_rates(warehouse):
    row = one(warehouse, "select * from marts.agent_daily_kpis where shop_id = 'rate_only'")
    assert row["rating_cnt"] == 2 and row["satisfied_cnt"] == 1 and row["disappointed_cnt"] == 1
    assert row["good_rate"] == pytest.approx(0.5)
    # No reception that day: counts are 0, rates and averages NULL (metrics.md §8).
    assert row["consult_buyer_cnt"] == 0 and row["round_cnt"] == 0
    assert row["reply_rate"] is None
    assert row["avg_response_s"] is None
    assert row["inq_to_pay_rate_final"] is None
    assert row["cs_aov"] is None
    assert row["cs_sales_amt"] == 0


def test_weekly_rates_come_from_summed_numerators_not_averaged_daily_rates(warehouse):
    days = query(
        warehouse,
        "select biz_date, reply_rate from marts.agent_daily_kpis "
        "where shop_id = 'roll' order by biz_date",
    )
    # Monday 1/1 replied, Tuesday 1/3 replied.
    assert [d["reply_rate"] for d in days] == [pytest.approx(1.0), pytest.approx(1 / 3)]
    week = one(warehouse, "select * from marts.agent_weekly_kpis where shop_id = 'roll'")
    assert week["week_start"] == D
    assert week["received_buyer_cnt"] == 4 and week["replied_buyer_cnt"] == 2
    # 2 / 4 = 0.5, not the mean of the daily rates (1 + 1/3) / 2 = 0.667.
    assert week["reply_rate"] == pytest.approx(0.5)
    # avg response: (60 + 600) / 2 timed rounds = 330 s.
    assert week["response_total_s"] == pytest.approx(660.0)
    assert week["avg_response_s"] == pytest.approx(330.0)
    # reply_3min_rate: 1 round within 180 s of 4 rounds (2 unreplied).
    assert week["reply_3min_rate"] == pytest.approx(0.25)
    assert week["agent_name"] == "小王"
    month = one(warehouse, "select * from marts.agent_monthly_kpis where shop_id = 'roll'")
    assert month["month_start"] == dt.date(2026, 5, 1)
    assert month["reply_rate"] == pytest.approx(0.5)


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
        "where shop_id = 'roll' order by biz_date",
    )
    # 05-04: D+1 = 05-05 <= 05-06 final next day; D+4 = 05-08 > 05-06 not final.
    assert [(r["is_next_day_final"], r["is_final"]) for r in rows] == [(True, False), (True, False)]


def test_fct_receptions_carries_the_inquiry_flags(warehouse):
    rows = query(
        warehouse,
        "select agent_id, is_inquiry, is_after_sale from marts.fct_receptions "
        "where shop_id = 'two_accounts' order by agent_id",
    )
    # Both receptions of x are followed by order o1 (created 09:10, within [t0, end of D+1)):
    # inquiries, not after-sale.
    assert [(r["agent_id"], r["is_inquiry"], r["is_after_sale"]) for r in rows] == [
        ("two:a", True, False),
        ("two:b", True, False),
    ]
