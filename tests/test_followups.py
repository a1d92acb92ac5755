"""The 催付 list, marts.unpaid_order_followups (docs/metrics.md §5.7): only orders still
awaiting payment, closed and cancelled statuses left out, within the ruleset's payment
window (72 h), newest first per shop, with the credited account and the hours waited
to the end of the as-of date. Hand-made orders, one real dbt build."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kefu.build import BuildWindow, build
from tests.support import msg, order, query, write_raw

AS_OF = dt.date(2026, 3, 20)  # end of the as-of date: 03-21 00:00


def served_order(shop: str, order_id: str, created: str, **fields) -> tuple[list, dict]:
    """An order of buyer `b<order_id>` whom a1 served 40 and 30 minutes before it."""
    at = dt.datetime.fromisoformat(created)
    buyer = f"b{order_id}"
    messages = [
        msg(shop, "a1", buyer, "buyer", str(at - dt.timedelta(minutes=40))),
        msg(shop, "a1", buyer, "agent", str(at - dt.timedelta(minutes=30))),
    ]
    row = {**order(shop, order_id, buyer, created, fields.pop("paid_at", None)), **fields}
    return messages, row


def scenario() -> dict:
    specs = [
        # listed, newest first: n1 4 h (status 等待买家付款), n2 36 h (no status),
        # n3 exactly 72 h (the window's edge is in).
        ("f", "n1", "2026-03-20 20:00:00", {"status": "等待买家付款"}),
        ("f", "n2", "2026-03-19 12:00:00", {}),
        ("f", "n3", "2026-03-18 00:00:00", {"status": "WAIT_BUYER_PAY"}),
        # not listed: 73 h waited (past the window), closed / cancelled statuses in
        # Chinese and in Taobao's API words (any case), paid.
        ("f", "old", "2026-03-17 23:00:00", {}),
        ("f", "c1", "2026-03-20 10:00:00", {"status": "交易关闭"}),
        ("f", "c2", "2026-03-20 11:00:00", {"status": "trade_closed"}),
        ("f", "c3", "2026-03-20 12:00:00", {"status": "已取消"}),
        ("f", "c4", "2026-03-20 13:00:00", {"status": "Cancelled"}),
        ("f", "p1", "2026-03-20 09:00:00", {"paid_at": "2026-03-20 09:30:00"}),
        # another shop ranks on its own.
        ("g", "g1", "2026-03-20 08:00:00", {}),
    ]
    messages, orders = [], []
    for shop, order_id, created, fields in specs:
        order_messages, row = served_order(shop, order_id, created, **dict(fields))
        messages += order_messages
        orders.append(row)
    # v1: unpaid in its first version, paid in a later one (the latest version wins).
    v_messages, v1 = served_order("f", "v1", "2026-03-20 14:00:00", updated_at=None)
    messages += v_messages
    orders.append({**v1, "updated_at": dt.datetime(2026, 3, 20, 14, 0)})
    orders.append(
        {
            **v1,
            "paid_at": dt.datetime(2026, 3, 20, 15, 0),
            "updated_at": dt.datetime(2026, 3, 20, 15, 0),
        }
    )
    return {
        "agents": [{"shop_id": "f", "agent_id": "a1", "agent_name": "小美"}],
        "messages": messages,
        "orders": orders,
    }


def built_followups(tmp_path_factory, name, data, as_of):
    db = tmp_path_factory.mktemp(name) / "w.duckdb"
    write_raw(db, data)
    build(db, BuildWindow(as_of=as_of), select="+unpaid_order_followups")
    return db


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    return built_followups(tmp_path_factory, "followups", scenario(), AS_OF)


def test_followups_keep_open_orders_in_the_payment_window_newest_first(warehouse):
    rows = query(
        warehouse,
        "select shop_id, followup_rank, order_id, status, credited_agent_id, agent_name,"
        " hours_waited, payment_window_hours, as_of_date, amount"
        " from marts.unpaid_order_followups order by shop_id, followup_rank",
    )
    common = {"credited_agent_id": "a1", "payment_window_hours": 72, "as_of_date": AS_OF}
    assert rows == [
        {"shop_id": "f", "followup_rank": 1, "order_id": "n1", "status": "等待买家付款",
         "agent_name": "小美", "hours_waited": 4.0, "amount": Decimal("100.00"), **common},
        {"shop_id": "f", "followup_rank": 2, "order_id": "n2", "status": None,
         "agent_name": "小美", "hours_waited": 36.0, "amount": Decimal("100.00"), **common},
        {"shop_id": "f", "followup_rank": 3, "order_id": "n3", "status": "WAIT_BUYER_PAY",
         "agent_name": "小美", "hours_waited": 72.0, "amount": Decimal("100.00"), **common},
        {"shop_id": "g", "followup_rank": 1, "order_id": "g1", "status": None,
         "agent_name": "a1", "hours_waited": 16.0, "amount": Decimal("100.00"), **common},
    ]  # fmt: skip


def test_closed_statuses_come_from_the_seed(warehouse):
    # The seed is the one list: every closed / cancelled value it holds is one the
    # model leaves out, so a mapping that adds a platform's words extends the list.
    closed = query(
        warehouse,
        "select status_value from seeds.order_status_values"
        " where status_group in ('closed', 'cancelled')",
    )
    values = {row["status_value"] for row in closed}
    assert {"交易关闭", "已关闭", "已取消", "closed", "cancelled", "TRADE_CLOSED"} <= values


# A shop in New York, the as-of day just after its clock skipped an hour (2026-03-08
# 02:00 EST -> 03:00 EDT): 72 hours before the end of 03-09 is 03-06 23:00 local, not
# 03-07 00:00. The model reads only the orders of the window's last days (issue 13); an
# order on the window's edge is still listed, and the hours are counted on instants.
AS_OF_NEW_YORK = dt.date(2026, 3, 9)


@pytest.fixture(scope="module")
def new_york(tmp_path_factory):
    data = {"shops": [{"shop_id": "ny", "platform": "taobao", "timezone": "America/New_York"}]}
    data["messages"], data["orders"] = [], []
    for order_id, created in [
        ("in", "2026-03-08 12:00:00"),  # 36 h to 03-10 00:00 EDT
        ("edge", "2026-03-06 23:00:00"),  # 72 h: a wall-time day count would drop it
        ("past", "2026-03-06 22:00:00"),  # 73 h
        ("older", "2026-03-01 10:00:00"),  # long past the window
    ]:
        order_messages, row = served_order("ny", order_id, created)
        data["messages"] += order_messages
        data["orders"].append(row)
    return built_followups(tmp_path_factory, "followups_ny", data, AS_OF_NEW_YORK)


def test_followups_count_the_payment_window_on_instants_across_a_clock_change(new_york):
    rows = query(
        new_york,
        "select followup_rank, order_id, hours_waited from marts.unpaid_order_followups"
        " order by followup_rank",
    )
    assert rows == [
        {"followup_rank": 1, "order_id": "in", "hours_waited": 36.0},
        {"followup_rank": 2, "order_id": "edge", "hours_waited": 72.0},
    ]
