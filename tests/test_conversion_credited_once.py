"""One success, one account (docs/metrics.md §4.7, v2): an order converts only its
converting account (credited once paid, order-time account while unpaid, nobody
when silent); an inquiry whose following orders convert only other accounts is
assisted (协助): out of that account's 询单人数 and conversions, flagged in
fct_receptions. Shop figures stay buyer-level, whoever earned the buyer.

One full dbt build holds every scenario, each in its own shop. D = 2026-06-01
(a Monday); default ruleset: consult_window_days 1, final_pay_days 4,
attribution_mode order_first; as_of 2026-06-12, so every day is final.
Counts are written (inquiry_buyer_cnt, inq_order_cnt, inq_pay_next_day_cnt,
inq_pay_final_cnt), worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kefu.build import BuildWindow
from tests.support import build_warehouse, msg, one, order, query

D = "2026-06-01"
AS_OF = dt.date(2026, 6, 12)
COUNTS = ("inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt", "inq_pay_final_cnt")


def chat(shop: str, agent: str, buyer: str, *lines: tuple[str, str]) -> list[dict]:
    """Messages of one (shop, account, buyer): (role, 'YYYY-MM-DD HH:MM:SS') pairs."""
    return [msg(shop, agent, buyer, role, at) for role, at in lines]


def scenario_rows() -> dict[str, list[dict]]:
    messages: list[dict] = []
    orders: list[dict] = []

    # helped: a1 serves b at 10:00, a2 at 11:00; o_b created 11:30 → credited to a2
    # (latest serving reply before created_at). a1 also has c (converts, o_c credited
    # to a1) and d (no order).
    shop = "helped"
    messages += chat(shop, "a1", "b", ("buyer", f"{D} 10:00:00"), ("agent", f"{D} 10:01:00"))
    messages += chat(shop, "a2", "b", ("buyer", f"{D} 11:00:00"), ("agent", f"{D} 11:01:00"))
    messages += chat(shop, "a1", "c", ("buyer", f"{D} 12:00:00"), ("agent", f"{D} 12:01:00"))
    messages += chat(shop, "a1", "d", ("buyer", f"{D} 13:00:00"), ("agent", f"{D} 13:01:00"))
    orders += [
        order(shop, "o_b", "b", f"{D} 11:30:00", f"{D} 11:40:00"),
        order(shop, "o_c", "c", f"{D} 12:30:00", "2026-06-03 09:00:00"),
    ]

    # day_before: a1 serves b on D at 20:00; the order is created on D+1 at 09:00 (a1's
    # reply of the day before is the latest, inside consult_window_days) and paid 10:00.
    # a2 serves b on D+1 from 09:30: after the order, so not its following order.
    shop = "day_before"
    messages += chat(shop, "a1", "b", ("buyer", f"{D} 20:00:00"), ("agent", f"{D} 20:05:00"))
    messages += chat(
        shop, "a2", "b", ("buyer", "2026-06-02 09:30:00"), ("agent", "2026-06-02 09:31:00")
    )
    orders.append(order(shop, "o1", "b", "2026-06-02 09:00:00", "2026-06-02 10:00:00"))

    # unpaid: a2 serves b at 09:00, a1 at 10:00; o1 created 10:30, never paid: its
    # order-time account is a1 (latest serving reply before 10:30).
    shop = "unpaid"
    messages += chat(shop, "a2", "b", ("buyer", f"{D} 09:00:00"), ("agent", f"{D} 09:01:00"))
    messages += chat(shop, "a1", "b", ("buyer", f"{D} 10:00:00"), ("agent", f"{D} 10:01:00"))
    orders.append(order(shop, "o1", "b", f"{D} 10:30:00"))

    # silent: b writes to a1 at 10:00 and gets no reply; o1 created 10:30, paid 10:40:
    # no serving reply at all, a silent order.
    shop = "silent"
    messages += chat(shop, "a1", "b", ("buyer", f"{D} 10:00:00"))
    orders.append(order(shop, "o1", "b", f"{D} 10:30:00", f"{D} 10:40:00"))

    # two_orders: a1 serves b at 10:00, o1 created 10:30 → a1; a2 serves b at 14:00,
    # o2 created 14:30 → a2. Both paid on D.
    shop = "two_orders"
    messages += chat(shop, "a1", "b", ("buyer", f"{D} 10:00:00"), ("agent", f"{D} 10:01:00"))
    messages += chat(shop, "a2", "b", ("buyer", f"{D} 14:00:00"), ("agent", f"{D} 14:01:00"))
    orders += [
        order(shop, "o1", "b", f"{D} 10:30:00", f"{D} 10:35:00"),
        order(shop, "o2", "b", f"{D} 14:30:00", f"{D} 14:35:00"),
    ]

    # late_pay: a1 receives b at 10:00 and replies only at 11:00, after o1 (created
    # 10:30): no order-time credit. a1 serves b again on 06-07 and o1 is paid then
    # (D+6, after D + final_pay_days): credited to a1 by its payment credit.
    shop = "late_pay"
    messages += chat(shop, "a1", "b", ("buyer", f"{D} 10:00:00"), ("agent", f"{D} 11:00:00"))
    messages += chat(
        shop, "a1", "b", ("buyer", "2026-06-07 09:00:00"), ("agent", "2026-06-07 09:01:00")
    )
    orders.append(order(shop, "o1", "b", f"{D} 10:30:00", "2026-06-07 10:00:00"))

    return {"messages": messages, "orders": orders}


@pytest.fixture(scope="module")
def wh(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("credited_once") / "w.duckdb"
    return build_warehouse(db, scenario_rows(), BuildWindow(as_of=AS_OF))


def agent_counts(db: Path, shop: str, agent: str, day: str = D) -> tuple:
    row = one(
        db,
        "select * from marts.agent_daily_kpis where shop_id = ? and agent_id = ? and biz_date = ?",
        [shop, agent, day],
    )
    return tuple(row[column] for column in COUNTS)


def shop_counts(db: Path, shop: str, day: str = D) -> tuple:
    row = one(
        db,
        "select * from marts.shop_daily_kpis where shop_id = ? and biz_date = ?",
        [shop, day],
    )
    return tuple(row[column] for column in COUNTS)


def assisted(db: Path, shop: str, buyer: str = "b") -> dict[tuple[str, str], bool]:
    """is_assisted of the buyer's receptions, by (account, day)."""
    rows = query(
        db,
        "select agent_id, biz_date, is_inquiry, is_assisted from marts.fct_receptions"
        " where shop_id = ? and buyer_id = ?",
        [shop, buyer],
    )
    assert all(row["is_inquiry"] for row in rows if row["is_assisted"]), rows
    return {(row["agent_id"], row["biz_date"].isoformat()): row["is_assisted"] for row in rows}


def test_first_of_two_accounts_is_assisted_and_its_rate_unchanged(wh):
    # a1: b is assisted (o_b converts a2) → left out; c (o_c credited a1, paid D+2)
    # and d (no order) remain: 2 inquiries, 1 order, 0 paid by D+1, 1 final → 1/2,
    # the rate a1 has without b. (v1 counted b too: 3 inquiries, 2 final → 2/3.)
    assert agent_counts(wh, "helped", "a1") == (2, 1, 0, 1)
    a1 = one(
        wh,
        "select * from marts.agent_daily_kpis where shop_id = 'helped' and agent_id = 'a1'"
        " and biz_date = ?",
        [D],
    )
    assert a1["inq_to_pay_rate_final"] == pytest.approx(0.5)
    assert a1["inq_to_pay_rate_next_day"] == pytest.approx(0.0)
    # a2 earned b: 1 / 1 / 1 / 1.
    assert agent_counts(wh, "helped", "a2") == (1, 1, 1, 1)
    assert assisted(wh, "helped") == {("a1", D): True, ("a2", D): False}
    # b, c, d are inquiries; b and c ordered; b paid by D+1; b and c by D+4.
    assert shop_counts(wh, "helped") == (3, 2, 1, 2)
    # fct_receptions: one row per reception, b's a1 reception the assisted one.
    rows = query(
        wh,
        "select agent_id, buyer_id, is_assisted from marts.fct_receptions"
        " where shop_id = 'helped' order by agent_id, buyer_id",
    )
    assert [(r["agent_id"], r["buyer_id"], r["is_assisted"]) for r in rows] == [
        ("a1", "b", True),
        ("a1", "c", False),
        ("a1", "d", False),
        ("a2", "b", False),
    ]


def test_weekly_and_monthly_rows_sum_the_credited_daily_counts(wh):
    # a1's only day is D: the week (Mon 06-01) and the month hold its daily counts and
    # the rate 1/2, not v1's 2/3.
    for mart, start in [("agent_weekly_kpis", "week_start"), ("agent_monthly_kpis", "month_start")]:
        row = one(
            wh,
            f"select * from marts.{mart} where shop_id = 'helped' and agent_id = 'a1'",
        )
        assert row[start] == dt.date(2026, 6, 1)
        assert tuple(row[column] for column in COUNTS) == (2, 1, 0, 1)
        assert row["inq_to_pay_rate_final"] == pytest.approx(0.5)


def test_order_credited_to_the_account_that_served_the_day_before(wh):
    # a1's D reception: o1 (created D+1 09:00, within [t0, end of D+1)) converts a1
    # (credited by its reply of D 20:05) and is paid D+1 10:00 → 1 / 1 / 1 / 1.
    assert agent_counts(wh, "day_before", "a1") == (1, 1, 1, 1)
    # a2 on D+1: t0 09:30 is after o1's creation, and o1 was not paid before t0 →
    # an inquiry without a following order, neither assisted nor converted.
    assert agent_counts(wh, "day_before", "a2", "2026-06-02") == (1, 0, 0, 0)
    assert assisted(wh, "day_before") == {("a1", D): False, ("a2", "2026-06-02"): False}
    assert shop_counts(wh, "day_before") == (1, 1, 1, 1)
    assert shop_counts(wh, "day_before", "2026-06-02") == (1, 0, 0, 0)


def test_unpaid_order_converts_its_order_time_account(wh):
    # o1 unpaid: its order-time account a1 converts (inq_order_cnt 1, nothing paid);
    # a2's inquiry, followed by o1 too, is assisted.
    assert agent_counts(wh, "unpaid", "a1") == (1, 1, 0, 0)
    assert agent_counts(wh, "unpaid", "a2") == (0, 0, 0, 0)
    assert assisted(wh, "unpaid") == {("a1", D): False, ("a2", D): True}
    assert shop_counts(wh, "unpaid") == (1, 1, 0, 0)


def test_silent_order_after_an_unreplied_inquiry_converts_no_account(wh):
    # o1 is paid with no serving reply: silent, it converts nobody. a1 keeps the
    # inquiry (not assisted: no account converts) without a conversion; the shop
    # still counts b as ordered and paid.
    assert agent_counts(wh, "silent", "a1") == (1, 0, 0, 0)
    assert assisted(wh, "silent") == {("a1", D): False}
    assert shop_counts(wh, "silent") == (1, 1, 1, 1)
    credit = one(wh, "select * from marts.fct_order_credits where shop_id = 'silent'")
    assert credit["credited_agent_id"] is None and credit["is_paid"]


def test_two_orders_earned_by_two_accounts_both_convert(wh):
    # a1's reception (t0 10:00) is followed by o1 (a1) and o2 (a2): it converts a1.
    # a2's (t0 14:00) is followed by o2 only: it converts a2. Neither is assisted.
    assert agent_counts(wh, "two_orders", "a1") == (1, 1, 1, 1)
    assert agent_counts(wh, "two_orders", "a2") == (1, 1, 1, 1)
    assert assisted(wh, "two_orders") == {("a1", D): False, ("a2", D): False}
    # One buyer for the shop: Σ over accounts (2) is above the shop's 1 here.
    assert shop_counts(wh, "two_orders") == (1, 1, 1, 1)


def test_payment_after_the_final_day_does_not_move_the_days_conversion(wh):
    # o1 is paid on D+6, after D + final_pay_days: for day D it is not yet paid, so it
    # converts its order-time account, none (a1 replied only after it was created).
    # a1 keeps the inquiry, without an order; the shop counts b as ordered, not paid.
    assert agent_counts(wh, "late_pay", "a1") == (1, 0, 0, 0)
    assert assisted(wh, "late_pay")[("a1", D)] is False
    assert shop_counts(wh, "late_pay") == (1, 1, 0, 0)
    # The sale itself is credited to a1 by its payment credit, dated 06-07.
    credit = one(wh, "select * from marts.fct_order_credits where shop_id = 'late_pay'")
    assert (credit["order_agent_id"], credit["credited_agent_id"]) == (None, "a1")


def test_shop_figures_count_every_buyer_whoever_earned_it(wh):
    # The shop's counts are v1's buyer-level counts in every scenario: a buyer is an
    # inquiry / converted when any of its receptions that day is, all following
    # orders counted (hand-computed above, gathered here).
    expected = {
        ("helped", D): (3, 2, 1, 2),
        ("day_before", D): (1, 1, 1, 1),
        ("day_before", "2026-06-02"): (1, 0, 0, 0),
        ("unpaid", D): (1, 1, 0, 0),
        ("silent", D): (1, 1, 1, 1),
        ("two_orders", D): (1, 1, 1, 1),
        ("late_pay", D): (1, 1, 0, 0),
        ("late_pay", "2026-06-07"): (1, 0, 0, 0),
    }
    rows = query(
        wh,
        "select * from marts.shop_daily_kpis where inquiry_buyer_cnt > 0 or consult_buyer_cnt > 0",
    )
    actual = {
        (row["shop_id"], row["biz_date"].isoformat()): tuple(row[column] for column in COUNTS)
        for row in rows
    }
    assert actual == expected
