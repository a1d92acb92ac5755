"""Conversion, sales credit and satisfaction (docs/metrics.md §4, §5, §7, §8).

One warehouse holds every scenario, each in its own shop, built with a real dbt
build of the sales models (and everything they read). It is built twice:

1. a first load, built with as_of_date = AS_OF (a copy of that warehouse is
   kept as `first`);
2. a second load (file 2) that adds later versions of some orders (and
   versions that lose to file 1's), built again with the later as-of date
   LATER_AS_OF (`second`).

Each test is named after the rule it checks and asserts numbers worked out by
hand (the arithmetic is in the comments). Times are shop-local wall times; the
default ruleset applies: after_sale_days 21, consult_window_days 1,
final_pay_days 4, attribution_mode order_first.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from kefu import warehouse
from kefu.build import BuildWindow, build, dbt_env, release_dbt_connection
from kefu.paths import PROJECT_DIR
from tests.support import msg, one, order, query, rating, write_raw

AS_OF = dt.date(2026, 3, 20)
LATER_AS_OF = dt.date(2026, 3, 31)

# The sales models and everything they read (seeds, staging, shared models).
SALES_SELECT = "+path:models/intermediate/sales +path:models/marts/sales"

# The three credit columns of fct_order_credits.
CREDITS = ("order_agent_id", "payment_agent_id", "credited_agent_id")


def chat(shop: str, agent: str, buyer: str, *lines: tuple[str, str]) -> list[dict]:
    """Messages of one (shop, account, buyer): (role, 'YYYY-MM-DD HH:MM:SS') pairs."""
    return [msg(shop, agent, buyer, role, at) for role, at in lines]


def pick(row: dict, *columns: str) -> tuple:
    """The row's values of `columns`, to compare several figures at once."""
    return tuple(row[column] for column in columns)


def first_load() -> dict[str, list[dict]]:
    messages: list[dict] = []
    orders: list[dict] = []
    ratings: list[dict] = []
    agents: list[dict] = []
    filters: list[dict] = []

    def served(shop, agent, buyer, asked_at, replied_at):
        messages.extend(chat(shop, agent, buyer, ("buyer", asked_at), ("agent", replied_at)))

    # -- docs/metrics.md §4 following orders and payment days. Nine buyers consult a1 on
    # D = 03-02 at 10:00 (reply 10:01); D+1 ends at 03-04 00:00, D+4 at 03-07 00:00.
    shop = "pay_days"
    buyers = ["same", "next", "d1_end", "d2_start", "d4", "d5", "none", "late", "edge"]
    for buyer in buyers:
        served(shop, "a1", buyer, "2026-03-02 10:00:00", "2026-03-02 10:01:00")
    orders += [
        order(shop, "o_same", "same", "2026-03-02 10:30:00", "2026-03-02 11:00:00"),
        order(shop, "o_next", "next", "2026-03-02 10:30:00", "2026-03-03 20:00:00"),
        # paid one second before the end of D+1: next day (and final)
        order(shop, "o_d1_end", "d1_end", "2026-03-02 10:30:00", "2026-03-03 23:59:59"),
        # paid exactly at the end of D+1 (D+2 00:00:00): final only, not next day
        order(shop, "o_d2_start", "d2_start", "2026-03-02 10:30:00", "2026-03-04 00:00:00"),
        order(shop, "o_d4", "d4", "2026-03-02 10:30:00", "2026-03-06 23:59:59"),
        order(shop, "o_d5", "d5", "2026-03-02 10:30:00", "2026-03-07 00:00:00"),
        # created at the end of D+1: not a following order
        order(shop, "o_late", "late", "2026-03-04 00:00:00", "2026-03-04 00:10:00"),
        # created one second before the end of D+1: a following order, unpaid
        order(shop, "o_edge", "edge", "2026-03-03 23:59:59"),
    ]

    # -- docs/metrics.md §4.1 an order placed before the consultation is not a following order.
    shop = "order_before"
    served(shop, "a1", "unpaid", "2026-03-02 10:00:00", "2026-03-02 10:01:00")
    served(shop, "a1", "paid_after", "2026-03-02 10:00:00", "2026-03-02 10:01:00")
    orders += [
        order(shop, "o_unpaid", "unpaid", "2026-03-02 09:00:00"),
        # paid after t0, so not after-sale either
        order(shop, "o_paid_after", "paid_after", "2026-03-02 09:00:00", "2026-03-02 10:30:00"),
    ]

    # -- docs/metrics.md §4.1 / §4.2 exactly at t0 = 03-02 10:00:00. at_t0 orders at t0 (a
    # following order: [t0, end of D+1) includes t0) and pays at 10:30.
    # paid_at_t0's earlier order (03-01) is paid exactly at t0: not "paid before
    # t0", so the reception is an inquiry, not after-sale.
    shop = "t0_edge"
    served(shop, "a1", "at_t0", "2026-03-02 10:00:00", "2026-03-02 10:01:00")
    served(shop, "a1", "paid_at_t0", "2026-03-02 10:00:00", "2026-03-02 10:01:00")
    orders += [
        order(shop, "o_at_t0", "at_t0", "2026-03-02 10:00:00", "2026-03-02 10:30:00"),
        order(shop, "o_paid_at_t0", "paid_at_t0", "2026-03-01 09:00:00", "2026-03-02 10:00:00"),
    ]

    # -- docs/metrics.md §4.2 after-sale. t0 = 03-05 10:00; t0 − 21 days = 02-12 10:00.
    shop = "after_sale"
    for buyer in ["after", "after_new", "old", "edge21", "edge21_out", "unpaid_prior"]:
        served(shop, "a1", buyer, "2026-03-05 10:00:00", "2026-03-05 10:01:00")
    served(shop, "a2", "only_after", "2026-03-05 10:00:00", "2026-03-05 10:01:00")
    orders += [
        order(shop, "o_after", "after", "2026-02-20 09:00:00", "2026-02-20 09:05:00"),
        order(shop, "o_after_new_1", "after_new", "2026-02-20 09:00:00", "2026-02-20 09:05:00"),
        order(shop, "o_after_new_2", "after_new", "2026-03-05 15:00:00", "2026-03-05 15:05:00"),
        order(shop, "o_old", "old", "2026-02-01 09:00:00", "2026-02-01 09:05:00"),
        order(shop, "o_edge21", "edge21", "2026-02-12 10:00:00", "2026-02-12 10:05:00"),
        order(shop, "o_edge21_out", "edge21_out", "2026-02-12 09:59:59", "2026-02-12 10:05:00"),
        order(shop, "o_unpaid_prior", "unpaid_prior", "2026-03-01 09:00:00"),
        order(shop, "o_only_after", "only_after", "2026-03-01 09:00:00", "2026-03-01 09:05:00"),
    ]

    # -- Shop level: a buyer counts once. b1 writes a1 (10:00) and a2 (11:00),
    # orders at 12:00, pays next day. b2 writes a1 at 09:00, orders and pays at
    # 12:00 / 12:05, then writes a2 at 15:00 (an after-sale reception).
    shop = "shop_dedup"
    served(shop, "a1", "b1", "2026-03-03 10:00:00", "2026-03-03 10:01:00")
    served(shop, "a2", "b1", "2026-03-03 11:00:00", "2026-03-03 11:01:00")
    served(shop, "a1", "b2", "2026-03-03 09:00:00", "2026-03-03 09:01:00")
    served(shop, "a2", "b2", "2026-03-03 15:00:00", "2026-03-03 15:01:00")
    orders += [
        order(shop, "o1", "b1", "2026-03-03 12:00:00", "2026-03-04 10:00:00"),
        order(shop, "o2", "b2", "2026-03-03 12:00:00", "2026-03-03 12:05:00"),
    ]

    # -- docs/metrics.md §5.2 two accounts serve before the order, a third before the payment.
    shop = "two_accounts"
    served(shop, "a1", "b1", "2026-03-02 09:59:00", "2026-03-02 10:00:00")
    served(shop, "a2", "b1", "2026-03-02 10:59:00", "2026-03-02 11:00:00")
    served(shop, "a3", "b1", "2026-03-03 07:59:00", "2026-03-03 08:00:00")
    orders.append(
        order(shop, "o1", "b1", "2026-03-02 12:00:00", "2026-03-03 09:00:00", amount="100.00")
    )

    # -- docs/metrics.md §5.2 order_first: nobody served before the order, a1 before the payment.
    shop = "payment_only"
    served(shop, "a1", "b1", "2026-03-02 10:00:00", "2026-03-02 10:01:00")
    orders.append(order(shop, "o1", "b1", "2026-03-02 09:00:00", "2026-03-02 10:30:00"))

    # -- docs/metrics.md §5.2 a tie on reply time: a2 and a10 reply at the same second.
    shop = "tie"
    served(shop, "a2", "b1", "2026-03-02 10:59:00", "2026-03-02 11:00:00")
    served(shop, "a10", "b1", "2026-03-02 10:58:00", "2026-03-02 11:00:00")
    orders.append(order(shop, "o1", "b1", "2026-03-02 12:00:00", "2026-03-02 12:05:00"))

    # -- docs/metrics.md §5.2 the consult window counts by the reception date.
    shop = "window_edge"
    served(shop, "a1", "b_d1", "2026-03-09 22:59:00", "2026-03-09 23:00:00")
    served(shop, "a1", "b_d2", "2026-03-08 22:59:00", "2026-03-08 23:00:00")
    # b_x orders on 03-10 at 23:00; a1's only serving reply is at 00:30 on 03-09
    # (46.5 h earlier, still created_date − 1), a2's at 00:20 the same day.
    served(shop, "a2", "b_x", "2026-03-09 00:10:00", "2026-03-09 00:20:00")
    served(shop, "a1", "b_x", "2026-03-09 00:29:00", "2026-03-09 00:30:00")
    orders += [
        order(shop, "o_d1", "b_d1", "2026-03-10 09:00:00", "2026-03-10 09:05:00"),
        order(shop, "o_d2", "b_d2", "2026-03-10 09:00:00", "2026-03-10 09:05:00"),
        order(shop, "o_x", "b_x", "2026-03-10 23:00:00", "2026-03-10 23:05:00"),
    ]

    # -- docs/metrics.md §5.2 / §5.5 both ends of the windows.
    # Order created 03-03 12:00, paid 12:30.
    shop = "window_ends"
    for agent, first, second in [
        ("a1", ("buyer", "2026-03-03 11:59:00"), ("agent", "2026-03-03 12:00:00")),  # at created_at
        ("a2", ("buyer", "2026-03-03 12:29:00"), ("agent", "2026-03-03 12:30:00")),  # at paid_at
        ("a3", ("agent", "2026-03-02 00:00:00"), ("buyer", "2026-03-02 09:00:00")),  # window start
        ("a4", ("buyer", "2026-03-01 23:59:00"), ("agent", "2026-03-01 23:59:59")),  # before it
        ("a5", ("buyer", "2026-03-03 12:29:00"), ("agent", "2026-03-03 12:30:01")),  # after paid_at
    ]:
        messages.extend(chat(shop, agent, "b1", first, second))
    orders.append(order(shop, "o1", "b1", "2026-03-03 12:00:00", "2026-03-03 12:30:00"))

    # -- docs/metrics.md §5.1 replies before the buyer's first message, in an after-sale reception.
    # a1 writes at 08:00, the buyer orders 09:00, pays 09:05, writes at 10:00.
    shop = "pre_reply"
    messages.extend(
        chat(shop, "a1", "b1", ("agent", "2026-03-02 08:00:00"), ("buyer", "2026-03-02 10:00:00"))
    )
    orders.append(order(shop, "o1", "b1", "2026-03-02 09:00:00", "2026-03-02 09:05:00"))

    # -- docs/metrics.md §5.1 what is not a serving reply: a reply on a day the buyer did not
    # write (b1), an auto reply (b2).
    shop = "not_serving"
    messages.extend(chat(shop, "a1", "b1", ("agent", "2026-03-02 10:00:00")))
    messages.extend(
        chat(shop, "a1", "b2", ("buyer", "2026-03-02 10:00:00"), ("auto", "2026-03-02 10:00:05"))
    )
    orders += [
        order(shop, "o1", "b1", "2026-03-02 11:00:00", "2026-03-02 11:05:00"),
        order(shop, "o2", "b2", "2026-03-02 11:00:00", "2026-03-02 11:05:00"),
    ]

    # -- docs/metrics.md §5.3 / §5.6 silent orders and the shop's split of paid sales. On P = 03-05:
    # b3 credited 300.00; b1 (no chat) 50.00 and b2 (served 03-02, out of the
    # window) 70.01 silent. On P = 03-06 only a silent order (b1, 20.00).
    shop = "silent"
    served(shop, "a1", "b3", "2026-03-05 07:59:00", "2026-03-05 08:00:00")
    served(shop, "a1", "b2", "2026-03-02 09:59:00", "2026-03-02 10:00:00")
    orders += [
        order(shop, "o3", "b3", "2026-03-05 09:00:00", "2026-03-05 09:10:00", amount="300.00"),
        order(shop, "o1", "b1", "2026-03-05 09:00:00", "2026-03-05 09:10:00", amount="50.00"),
        order(shop, "o2", "b2", "2026-03-05 09:00:00", "2026-03-05 09:10:00", amount="70.01"),
        order(shop, "o4", "b1", "2026-03-06 09:00:00", "2026-03-06 09:10:00", amount="20.00"),
    ]

    # -- docs/metrics.md §5.5 silent orders give no assists: a1 serves after the order (not an
    # order credit) and days before the payment (not a payment credit).
    shop = "silent_assist"
    served(shop, "a1", "b1", "2026-03-01 10:59:00", "2026-03-01 11:00:00")
    orders.append(order(shop, "o1", "b1", "2026-03-01 10:00:00", "2026-03-05 10:00:00"))

    # -- docs/metrics.md §5.1 a filtered buyer gives no serving reply: the order is silent.
    shop = "filtered"
    filters.append({"shop_id": shop, "buyer_id": "spam"})
    served(shop, "a1", "spam", "2026-03-02 10:00:00", "2026-03-02 10:01:00")
    orders.append(order(shop, "o1", "spam", "2026-03-02 10:30:00", "2026-03-02 10:35:00"))

    # -- docs/metrics.md §5.4 客单价 / 客件数 rounding, P = 03-06.
    shop = "aov"
    aov_orders = [
        ("a1", "b1", "33.33", 1),
        ("a1", "b2", "33.33", 1),
        ("a1", "b3", "33.34", 2),
        ("a2", "b4", "0.01", 1),
        ("a2", "b5", "2.00", 2),
    ]
    for agent, buyer, amount, quantity in aov_orders:
        served(shop, agent, buyer, "2026-03-06 09:00:00", "2026-03-06 09:01:00")
        paid = ("2026-03-06 09:30:00", "2026-03-06 09:35:00")
        orders.append(order(shop, f"o_{buyer}", buyer, *paid, amount=amount, quantity=quantity))

    # -- docs/metrics.md §5.4 / §5.5 / §5.6 buyers count once per account, shop and day, P = 03-07.
    # b1 (served by a1) pays two orders; b2 (no chat) pays two silent orders;
    # b3 is served twice by a2 and then by a1, and pays two orders credited to a1.
    shop = "distinct"
    served(shop, "a1", "b1", "2026-03-07 09:00:00", "2026-03-07 09:01:00")
    served(shop, "a2", "b3", "2026-03-07 07:59:00", "2026-03-07 08:00:00")
    served(shop, "a2", "b3", "2026-03-07 08:29:00", "2026-03-07 08:30:00")
    served(shop, "a1", "b3", "2026-03-07 09:00:00", "2026-03-07 09:01:00")
    orders += [
        order(shop, "o1", "b1", "2026-03-07 09:30:00", "2026-03-07 09:35:00", amount="40.00"),
        order(shop, "o2", "b1", "2026-03-07 10:00:00", "2026-03-07 10:05:00", amount="60.00"),
        order(shop, "o3", "b2", "2026-03-07 09:00:00", "2026-03-07 09:05:00", amount="15.00"),
        order(shop, "o4", "b2", "2026-03-07 11:00:00", "2026-03-07 11:05:00", amount="10.01"),
        order(shop, "o5", "b3", "2026-03-07 09:30:00", "2026-03-07 09:35:00", amount="30.00"),
        order(shop, "o6", "b3", "2026-03-07 10:00:00", "2026-03-07 10:05:00", amount="20.00"),
    ]

    # -- docs/metrics.md §5.1 an `assist` message is a serving reply: b1 writes a1 at 10:00 and
    # gets only an assist-role reply at 10:01; the order (10:30, paid 10:35) is
    # credited to a1.
    shop = "assist_role"
    messages.extend(
        chat(shop, "a1", "b1", ("buyer", "2026-03-02 10:00:00"), ("assist", "2026-03-02 10:01:00"))
    )
    orders.append(order(shop, "o1", "b1", "2026-03-02 10:30:00", "2026-03-02 10:35:00"))

    # -- docs/metrics.md §4.6 maturity: one inquiry a day from AS_OF − 5 to AS_OF.
    shop = "maturity"
    for days_back in range(6):
        day = (AS_OF - dt.timedelta(days=days_back)).isoformat()
        served(shop, "a1", "b1", f"{day} 10:00:00", f"{day} 10:01:00")

    # -- A later order version adds the payment (second load). b1 consults on
    # 03-10 and again on 03-12, then orders unpaid; b2 consulted on 03-11 and
    # paid the same day.
    shop = "versions"
    served(shop, "a1", "b1", "2026-03-10 10:00:00", "2026-03-10 10:01:00")
    served(shop, "a1", "b1", "2026-03-12 10:00:00", "2026-03-12 10:01:00")
    served(shop, "a1", "b2", "2026-03-11 10:00:00", "2026-03-11 10:01:00")
    orders += [
        order(shop, "o1", "b1", "2026-03-12 10:30:00", updated_at="2026-03-12 10:30:00"),
        order(shop, "o2", "b2", "2026-03-11 10:30:00", "2026-03-11 10:40:00"),
    ]

    # -- 催付: credited orders still unpaid as of AS_OF.
    shop = "followups"
    agents.append({"shop_id": shop, "agent_id": "a1", "agent_name": "小美"})
    served(shop, "a1", "b1", "2026-03-19 10:00:00", "2026-03-19 10:01:00")
    served(shop, "a2", "b2", "2026-03-20 22:00:00", "2026-03-20 22:01:00")
    served(shop, "a1", "b3", "2026-03-19 10:00:00", "2026-03-19 10:01:00")
    served(shop, "a1", "b5", "2026-03-20 22:59:00", "2026-03-20 23:00:00")
    orders += [
        order(shop, "o1", "b1", "2026-03-19 10:30:00", amount="88.00"),
        order(shop, "o2", "b2", "2026-03-20 23:00:00", amount="66.00"),
        order(shop, "o3", "b3", "2026-03-19 10:30:00", "2026-03-19 10:40:00"),
        order(shop, "o4", "b4", "2026-03-19 10:30:00"),  # nobody served: not credited
        order(shop, "o5", "b5", "2026-03-21 08:00:00"),  # created after AS_OF
    ]
    # Paid on 03-22, after AS_OF: as of 03-20 still unpaid. o6 has an order
    # credit (a1's 03-19 reply) → listed under a1. o7 has none; its payment
    # credit (a3's reply on 03-22) was not known on 03-20 → not listed.
    served(shop, "a1", "b6", "2026-03-19 10:00:00", "2026-03-19 10:01:00")
    served(shop, "a3", "b7", "2026-03-22 08:00:00", "2026-03-22 08:01:00")
    orders += [
        order(shop, "o6", "b6", "2026-03-19 10:30:00", "2026-03-22 09:00:00", amount="77.00"),
        order(shop, "o7", "b7", "2026-03-19 10:30:00", "2026-03-22 09:00:00", amount="55.00"),
    ]

    # -- docs/landing.md §1 latest order version (the second load adds versions). No
    # chats: every paid order is silent. File 1 versions, all created 03-14 10:00:
    # u1 paid 03-14 11:00 (10.00, updated 03-14 11:00); old1 paid 03-15 09:00
    # (20.00, updated 03-15 09:00); tie1 unpaid (30.00, updated 03-14 10:00);
    # moved paid 04-02 09:00 (40.00, updated 04-02 09:00).
    shop = "latest_version"
    for order_id, buyer, paid_at, amount, updated_at in [
        ("u1", "b1", "2026-03-14 11:00:00", "10.00", "2026-03-14 11:00:00"),
        ("old1", "b2", "2026-03-15 09:00:00", "20.00", "2026-03-15 09:00:00"),
        ("tie1", "b3", None, "30.00", "2026-03-14 10:00:00"),
        ("moved", "b4", "2026-04-02 09:00:00", "40.00", "2026-04-02 09:00:00"),
    ]:
        created = "2026-03-14 10:00:00"
        orders.append(
            order(shop, order_id, buyer, created, paid_at, amount=amount, updated_at=updated_at)
        )

    # -- docs/metrics.md §7 ratings on both scales; a repeated rating_id counts once (the first
    # loaded); a filtered buyer's rating counts.
    shop = "ratings"
    filters.append({"shop_id": shop, "buyer_id": "spam"})
    scores = ["5", "4", "3", "2", "1", "满意", "一般", "失望", "非常满意", "不满意", "非常不满意"]
    for number, score in enumerate(scores, start=1):
        buyer = "spam" if number == 1 else f"b{number}"
        ratings.append(rating(shop, "a1", buyer, "2026-03-04 12:00:00", score, f"r{number}"))
    ratings.append(rating(shop, "a1", "b2", "2026-03-04 13:00:00", "1", "r2"))  # repeat of r2

    return {
        "agents": agents,
        "filters": filters,
        "messages": messages,
        "orders": orders,
        "ratings": ratings,
    }


def second_load() -> dict[str, list[dict]]:
    """A later export: versions/o1 with the payment on 03-13 09:00, and later-loaded
    versions of the latest_version orders (rows in this order, file 2)."""
    shop = "latest_version"
    created = "2026-03-14 10:00:00"
    return {
        "orders": [
            order(
                "versions",
                "o1",
                "b1",
                "2026-03-12 10:30:00",
                "2026-03-13 09:00:00",
                updated_at="2026-03-13 09:00:00",
            ),
            # undated and unpaid: older than file 1's dated paid version
            order(shop, "u1", "b1", created, amount="11.00"),
            # dated 03-14 10:00, before file 1's 03-15 09:00: file 1 stays latest
            order(shop, "old1", "b2", created, amount="21.00", updated_at="2026-03-14 10:00:00"),
            # two versions dated 03-16 12:00 in one file: the later row wins (paid)
            order(shop, "tie1", "b3", created, amount="32.00", updated_at="2026-03-16 12:00:00"),
            order(
                shop,
                "tie1",
                "b3",
                created,
                "2026-03-16 12:00:00",
                amount="31.00",
                updated_at="2026-03-16 12:00:00",
            ),
            # a later version drops the 04-02 payment
            order(shop, "moved", "b4", created, amount="40.00", updated_at="2026-04-03 00:00:00"),
        ],
    }


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("conversion")
    db = work / "warehouse.duckdb"
    write_raw(db, first_load(), file_id=1)
    build(db, BuildWindow(as_of=AS_OF), select=SALES_SELECT)
    # Keep the first build: checkpoint the WAL into the file, then copy it under
    # the same file name (dbt's views name the catalog after it).
    with duckdb.connect(str(db)) as con:
        con.execute("checkpoint")
    first = work / "first" / db.name
    first.parent.mkdir()
    shutil.copy(db, first)
    write_raw(db, second_load(), file_id=2)
    build(db, BuildWindow(as_of=LATER_AS_OF), select=SALES_SELECT)
    return {"first": first, "second": db}


@pytest.fixture(scope="module")
def wh(warehouses) -> Path:
    """The first build (as_of_date = AS_OF)."""
    return warehouses["first"]


def agent_day(db: Path, model: str, shop: str, agent: str, day: str) -> dict:
    return one(
        db,
        f"select * from intermediate.{model} where shop_id = ? and agent_id = ? and biz_date = ?",
        [shop, agent, day],
    )


def shop_day(db: Path, model: str, shop: str, day: str) -> dict:
    return one(
        db,
        f"select * from intermediate.{model} where shop_id = ? and biz_date = ?",
        [shop, day],
    )


def reception(db: Path, shop: str, buyer: str, agent: str = "a1") -> dict:
    return one(
        db,
        "select * from intermediate.int_receptions_inquired"
        " where shop_id = ? and buyer_id = ? and agent_id = ?",
        [shop, buyer, agent],
    )


def credit(db: Path, shop: str, order_id: str) -> dict:
    return one(
        db,
        "select * from marts.fct_order_credits where shop_id = ? and order_id = ?",
        [shop, order_id],
    )


def assists(db: Path, shop: str) -> dict[tuple[str, str], int]:
    rows = query(
        db,
        "select agent_id, biz_date, assist_buyer_cnt from intermediate.int_agent_days_assisted"
        " where shop_id = ?",
        [shop],
    )
    return {(row["agent_id"], row["biz_date"].isoformat()): row["assist_buyer_cnt"] for row in rows}


# -- docs/metrics.md §4 inquiries and conversion ------------------------------------------------


def test_following_orders_and_payment_days_next_day_and_final(wh):
    # Nine inquiries on D = 03-02 (no earlier paid order, none is after-sale).
    # Following orders (created in [t0, 03-04 00:00)): same, next, d1_end,
    # d2_start, d4, d5, edge = 7 (late's order is created at 03-04 00:00:00, the
    # end of D+1: not following).
    # Paid before 03-04 00:00 (next day): same, next, d1_end (03-03 23:59:59) = 3
    # → 3/9; d2_start, paid at exactly 03-04 00:00:00, is not.
    # Paid before 03-07 00:00 (D + 4): same, next, d1_end, d2_start, d4
    # (03-06 23:59:59) = 5 → 5/9; d5 paid at 03-07 00:00:00 never counts.
    row = agent_day(wh, "int_agent_days_converted", "pay_days", "a1", "2026-03-02")
    assert row["inquiry_buyer_cnt"] == 9
    assert row["inq_order_cnt"] == 7
    assert row["inq_pay_next_day_cnt"] == 3
    assert row["inq_to_pay_rate_next_day"] == pytest.approx(3 / 9)
    assert row["inq_pay_final_cnt"] == 5
    assert row["inq_to_pay_rate_final"] == pytest.approx(5 / 9)
    flags = ("has_order", "is_paid_next_day", "is_paid_final")
    assert pick(reception(wh, "pay_days", "d1_end"), *flags) == (True, True, True)
    assert pick(reception(wh, "pay_days", "d2_start"), *flags) == (True, False, True)
    assert reception(wh, "pay_days", "d4")["is_paid_final"] is True
    assert reception(wh, "pay_days", "d5")["is_paid_final"] is False
    assert reception(wh, "pay_days", "d5")["has_order"] is True
    assert reception(wh, "pay_days", "late")["has_following_order"] is False
    assert reception(wh, "pay_days", "edge")["has_following_order"] is True


def test_order_placed_before_the_consultation_is_not_a_following_order(wh):
    # Both orders are created at 09:00, before t0 = 10:00: no following order.
    # paid_after pays at 10:30, after t0, so it is not after-sale either:
    # 2 inquiries, 0 orders, 0 payments.
    for buyer in ["unpaid", "paid_after"]:
        row = reception(wh, "order_before", buyer)
        assert pick(row, "is_inquiry", "has_order", "is_paid_next_day") == (True, False, False)
    row = agent_day(wh, "int_agent_days_converted", "order_before", "a1", "2026-03-02")
    assert pick(row, "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_final_cnt") == (2, 0, 0)


def test_order_created_at_t0_follows_and_an_order_paid_at_t0_is_not_earlier_paid(wh):
    # at_t0: created at exactly t0 = 03-02 10:00:00 → following order (created in
    # [t0, 03-04 00:00)); paid 10:30 → inquiry, ordered, paid next day.
    # paid_at_t0: its only order (created 03-01 09:00, in [t0 − 21 days, t0)) is
    # paid at exactly t0, not before t0 → no earlier paid order → an inquiry
    # (not after-sale) without a following order.
    flags = ("is_inquiry", "is_after_sale", "has_order", "is_paid_next_day")
    assert pick(reception(wh, "t0_edge", "at_t0"), *flags) == (True, False, True, True)
    assert pick(reception(wh, "t0_edge", "paid_at_t0"), *flags) == (True, False, False, False)
    # a1 on 03-02: 2 inquiries, 1 order, 1 paid next day.
    row = agent_day(wh, "int_agent_days_converted", "t0_edge", "a1", "2026-03-02")
    assert pick(row, "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt") == (2, 1, 1)


def test_after_sale_buyer_with_and_without_a_new_order(wh):
    # t0 = 03-05 10:00, after_sale_days 21 → earlier paid orders created in
    # [02-12 10:00:00, 03-05 10:00:00).
    # after: paid order 02-20, no new order → after-sale.
    # after_new: same, plus a following order at 15:00 → inquiry with order.
    # old: paid order 02-01 (32 days) → inquiry.
    # edge21: created exactly t0 − 21 days → after-sale; edge21_out one second earlier → inquiry.
    # unpaid_prior: the earlier order is unpaid → inquiry.
    expected = {
        "after": True,
        "after_new": False,
        "old": False,
        "edge21": True,
        "edge21_out": False,
        "unpaid_prior": False,
    }
    for buyer, is_after_sale in expected.items():
        row = reception(wh, "after_sale", buyer)
        assert row["is_after_sale"] is is_after_sale, buyer
        assert row["is_inquiry"] is (not is_after_sale), buyer
    assert reception(wh, "after_sale", "after_new")["has_order"] is True
    # a1: 6 receptions − 2 after-sale = 4 inquiries, 1 order (after_new), paid 15:05.
    row = agent_day(wh, "int_agent_days_converted", "after_sale", "a1", "2026-03-05")
    assert pick(row, "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt") == (4, 1, 1)
    assert row["inq_to_pay_rate_next_day"] == pytest.approx(1 / 4)


def test_rates_are_null_on_an_empty_denominator(wh):
    # a2's only reception (only_after) is after-sale: 0 inquiries → both rates NULL, counts 0.
    row = agent_day(wh, "int_agent_days_converted", "after_sale", "a2", "2026-03-05")
    assert pick(row, "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_final_cnt") == (0, 0, 0)
    assert row["inq_to_pay_rate_next_day"] is None
    assert row["inq_to_pay_rate_final"] is None
    # silent shop, P = 03-06: only a silent order → no credited buyer, cs_aov NULL, cs 0.
    row = shop_day(wh, "int_shop_days_sold", "silent", "2026-03-06")
    assert row["cs_sales_amt"] == Decimal("0.00")
    assert row["cs_sales_buyer_cnt"] == 0
    assert row["cs_aov"] is None
    assert row["cs_sales_share"] == 0.0  # 0 / 20.00


def test_shop_level_counts_a_buyer_once(wh):
    # o1 (b1, created 12:00) is credited to a2 (its 11:01 reply is the latest), o2
    # (b2, 12:00) to a1 (09:01). Credited once (§4.7):
    # a1: b1 (10:00) is assisted (o1 converts a2), left out; b2 (09:00) converts
    #     a1, paid 03-03 12:05 → 1 / 1 / 1 (v1: 2 / 2 / 2).
    # a2: b1 (11:00) inquiry with o1, paid next day; b2 (15:00) after-sale
    #     (paid order at 12:00 before t0, no following order) → 1 / 1 / 1.
    # shop: distinct buyers b1, b2, whoever earned them → 2 inquiries, 2 orders,
    # 2 paid next day → rate 1.0 (not 3 = 2 + 1 summed over v1 accounts).
    a1 = agent_day(wh, "int_agent_days_converted", "shop_dedup", "a1", "2026-03-03")
    a2 = agent_day(wh, "int_agent_days_converted", "shop_dedup", "a2", "2026-03-03")
    shop = shop_day(wh, "int_shop_days_converted", "shop_dedup", "2026-03-03")
    assert pick(a1, "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt") == (1, 1, 1)
    assert pick(a2, "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt") == (1, 1, 1)
    assert reception(wh, "shop_dedup", "b1", "a1")["is_assisted"] is True
    assert reception(wh, "shop_dedup", "b2", "a2")["is_assisted"] is False
    assert pick(shop, "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt") == (2, 2, 2)
    assert shop["inq_to_pay_rate_next_day"] == pytest.approx(1.0)


def test_maturity_flags_around_the_as_of_date(warehouses):
    # as_of 03-20, final_pay_days 4: next-day final when D + 1 ≤ 03-20 (D ≤ 03-19),
    # final when D + 4 ≤ 03-20 (D ≤ 03-16).
    expected = {
        "2026-03-15": (True, True),
        "2026-03-16": (True, True),
        "2026-03-17": (True, False),
        "2026-03-18": (True, False),
        "2026-03-19": (True, False),
        "2026-03-20": (False, False),
    }
    for day, flags in expected.items():
        row = agent_day(warehouses["first"], "int_agent_days_converted", "maturity", "a1", day)
        assert pick(row, "is_next_day_final", "is_final") == flags, day
        row = shop_day(warehouses["first"], "int_shop_days_converted", "maturity", day)
        assert pick(row, "is_next_day_final", "is_final") == flags, day
    # Rebuilt as of 03-31: 03-20 + 4 = 03-24 ≤ 03-31, every day is final.
    for day in expected:
        row = agent_day(warehouses["second"], "int_agent_days_converted", "maturity", "a1", day)
        assert pick(row, "is_next_day_final", "is_final") == (True, True), day


def test_later_order_version_adding_the_payment_updates_the_inquiry_day(warehouses):
    # First load: o1 (03-12) unpaid → 03-12: 1 inquiry, 1 order, 0 paid.
    # Second load: a later version (updated_at 03-13 09:00) is paid 03-13 09:00,
    # before the end of D+1 = 03-14 00:00 → 1 paid next day and final.
    # Earlier days do not change: 03-10 (b1; o1 is created on 03-12, after the end
    # of D+1 = 03-12 00:00, so not a following order) stays 1 / 0 / 0, and 03-11
    # (b2, paid the same day) stays 1 / 1 / 1, in both builds.
    before = agent_day(
        warehouses["first"], "int_agent_days_converted", "versions", "a1", "2026-03-12"
    )
    after = agent_day(
        warehouses["second"], "int_agent_days_converted", "versions", "a1", "2026-03-12"
    )
    assert pick(before, "inq_order_cnt", "inq_pay_next_day_cnt", "inq_pay_final_cnt") == (1, 0, 0)
    assert pick(after, "inq_order_cnt", "inq_pay_next_day_cnt", "inq_pay_final_cnt") == (1, 1, 1)
    for db in warehouses.values():
        for day, expected in [("2026-03-10", (1, 0, 0)), ("2026-03-11", (1, 1, 1))]:
            row = agent_day(db, "int_agent_days_converted", "versions", "a1", day)
            assert pick(row, "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_final_cnt") == (
                expected
            ), (db.name, day)
    # The sale appears on the payment day 03-13, credited to a1 (order credit, reply 10:01).
    assert (
        query(
            warehouses["first"],
            "select * from intermediate.int_agent_days_sold where shop_id = 'versions'"
            " and biz_date = date '2026-03-13'",
        )
        == []
    )
    sold = agent_day(warehouses["second"], "int_agent_days_sold", "versions", "a1", "2026-03-13")
    assert sold["cs_sales_amt"] == Decimal("100.00")


def test_latest_order_version_dated_beats_undated_then_later_load_and_row(warehouses):
    # Second build (files 1 and 2), the version each order keeps:
    # u1: file 1's version dated 03-14 11:00 beats file 2's undated one (an undated
    #     version is older than any dated one) → paid, 10.00, P = 03-14.
    # old1: file 1's 03-15 09:00 beats file 2's older 03-14 10:00 → paid, 20.00, P = 03-15.
    # tie1: file 2's two versions both dated 03-16 12:00 → the later row (paid,
    #     31.00, P = 03-16) beats the earlier one (unpaid, 32.00).
    # moved: file 2's 04-03 00:00 beats file 1's 04-02 09:00 → unpaid, 40.00.
    sql = (
        "select order_id, is_paid, amount, paid_date from marts.fct_order_credits"
        " where shop_id = 'latest_version' order by order_id"
    )
    columns = ("order_id", "is_paid", "amount", "paid_date")
    assert [pick(row, *columns) for row in query(warehouses["second"], sql)] == [
        ("moved", False, Decimal("40.00"), None),
        ("old1", True, Decimal("20.00"), dt.date(2026, 3, 15)),
        ("tie1", True, Decimal("31.00"), dt.date(2026, 3, 16)),
        ("u1", True, Decimal("10.00"), dt.date(2026, 3, 14)),
    ]
    # First build (file 1 only): tie1 unpaid 30.00, moved paid 40.00 on 04-02.
    assert [pick(row, *columns) for row in query(warehouses["first"], sql)] == [
        ("moved", True, Decimal("40.00"), dt.date(2026, 4, 2)),
        ("old1", True, Decimal("20.00"), dt.date(2026, 3, 15)),
        ("tie1", False, Decimal("30.00"), None),
        ("u1", True, Decimal("10.00"), dt.date(2026, 3, 14)),
    ]
    # Sales days of the second build (no chats, all silent): 03-14 10.00,
    # 03-15 20.00, 03-16 31.00; nothing on 04-02 any more.
    sold = query(
        warehouses["second"],
        "select biz_date, paid_sales_amt, silent_sales_amt, paid_order_cnt"
        " from intermediate.int_shop_days_sold where shop_id = 'latest_version' order by biz_date",
    )
    assert [tuple(row.values()) for row in sold] == [
        (dt.date(2026, 3, 14), Decimal("10.00"), Decimal("10.00"), 1),
        (dt.date(2026, 3, 15), Decimal("20.00"), Decimal("20.00"), 1),
        (dt.date(2026, 3, 16), Decimal("31.00"), Decimal("31.00"), 1),
    ]


# -- docs/metrics.md §4.6 the default as-of date


def dbt_default_as_of(db: Path) -> dt.date:
    """kefu_as_of_date() as dbt computes it without var as_of_date (macros/build_window.sql)."""
    from dbt.cli.main import dbtRunner

    env = dbt_env(db)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        result = dbtRunner().invoke(
            ["show", "--inline", "select {{ kefu_as_of_date() }} as as_of_date"]
            + ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR), "--quiet"]
        )
    finally:
        # dbt opened the warehouse with the profile's config (its spill folder): closed,
        # so that the tests' own connections open it with theirs.
        release_dbt_connection()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert result.success, result.exception
    return result.result.results[0].agate_table.rows[0][0]


def test_default_as_of_date_reads_the_latest_order_versions_as_dbt_does(warehouses):
    # Raw holds latest_version/moved's file-1 version paid 04-02 09:00, replaced
    # in file 2 by an unpaid version: 04-02 is no longer data. The latest versions
    # and messages end on 03-22 (followups o6 / o7 paid 03-22 09:00, a3's
    # 08:00-08:01 messages). warehouse.data_last_day (run-nightly) and the dbt
    # macro (kefu build) agree on 03-22.
    with warehouse.connect(warehouses["second"]) as con:
        assert warehouse.data_last_day(con) == dt.date(2026, 3, 22)
    assert dbt_default_as_of(warehouses["second"]) == dt.date(2026, 3, 22)


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        pytest.param(
            # file 1 dated and paid 03-05; file 2 undated and unpaid → file 1 wins
            [(1, "2026-03-05 09:00:00", "2026-03-05 09:00:00"), (2, None, None)],
            dt.date(2026, 3, 5),
            id="an undated version is older than a dated one",
        ),
        pytest.param(
            # file 1 dated 03-03 (paid 03-03); file 2 dated 03-02 but paid 03-09 → file 1
            [
                (1, "2026-03-03 09:00:00", "2026-03-03 09:00:00"),
                (2, "2026-03-02 09:00:00", "2026-03-09 09:00:00"),
            ],
            dt.date(2026, 3, 3),
            id="the later updated_at wins over the later file",
        ),
        pytest.param(
            # both dated 03-04: file 2 (unpaid) beats file 1 (paid 03-08)
            [(1, "2026-03-04 09:00:00", "2026-03-08 09:00:00"), (2, "2026-03-04 09:00:00", None)],
            dt.date(2026, 3, 2),
            id="a tie goes to the later file",
        ),
        pytest.param(
            # both dated 03-04 in file 2: the later row (unpaid) beats the earlier (03-08)
            [(2, "2026-03-04 09:00:00", "2026-03-08 09:00:00"), (2, "2026-03-04 09:00:00", None)],
            dt.date(2026, 3, 2),
            id="a tie in one file goes to the later row",
        ),
    ],
)
def test_default_as_of_date_uses_each_orders_latest_version(tmp_path, versions, expected):
    # One message on 03-01; order o1 created 03-02 10:00 (so 03-02 is the floor),
    # in the versions (file, updated_at, paid_at) given, rows in that order.
    db = tmp_path / "warehouse.duckdb"
    write_raw(db, {"messages": [msg("s1", "a1", "b1", "buyer", "2026-03-01 10:00:00")]})
    for file_id in sorted({file_id for file_id, _, _ in versions}):
        rows = [
            order("s1", "o1", "b1", "2026-03-02 10:00:00", paid_at, updated_at=updated_at)
            for version_file_id, updated_at, paid_at in versions
            if version_file_id == file_id
        ]
        write_raw(db, {"orders": rows}, file_id=file_id)
    with warehouse.connect(db) as con:
        assert warehouse.data_last_day(con) == expected


def test_default_as_of_date_without_orders_is_the_last_message_day(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    write_raw(db, {"messages": [msg("s1", "a1", "b1", "buyer", "2026-03-01 10:00:00")]})
    with warehouse.connect(db) as con:
        assert warehouse.data_last_day(con) == dt.date(2026, 3, 1)


# -- docs/metrics.md §5 credit and assists ----------------------------------------------------


def test_two_accounts_before_the_order_credit_the_later_one_and_assist_the_other(wh):
    # a1 replies 10:00, a2 11:00, order 12:00 → order credit a2.
    # a3 replies 03-03 08:00, payment 03-03 09:00 → payment credit a3.
    # order_first keeps the order credit a2 (order mode would too; payment mode
    # would credit a3 — the unit tests in _sales__models.yml check the modes).
    row = credit(wh, "two_accounts", "o1")
    assert pick(row, "order_agent_id", "payment_agent_id") == ("a2", "a3")
    assert pick(row, "attribution_mode", "credited_agent_id", "is_silent") == (
        "order_first",
        "a2",
        False,
    )
    # Sales on P = 03-03 go to a2; a1 (10:00) and a3 (08:00) served b1 between
    # 03-01 00:00 (created_date − 1) and paid_at → one assist each; a2 none.
    sold = agent_day(wh, "int_agent_days_sold", "two_accounts", "a2", "2026-03-03")
    assert pick(sold, "cs_sales_amt", "cs_order_cnt", "cs_sales_buyer_cnt") == (
        Decimal("100.00"),
        1,
        1,
    )
    assert assists(wh, "two_accounts") == {("a1", "2026-03-03"): 1, ("a3", "2026-03-03"): 1}


def test_order_first_falls_back_to_the_payment_credit(wh):
    # Order 09:00 before any reply; a1 replies 10:01, payment 10:30 → order
    # credit none, payment credit a1, credited a1 (not silent).
    row = credit(wh, "payment_only", "o1")
    assert pick(row, *CREDITS) == (None, "a1", "a1")
    assert row["is_silent"] is False


def test_tie_on_reply_time_goes_to_the_smaller_agent_id_as_text(wh):
    # a2 and a10 both reply at 11:00:00; 'a10' < 'a2' as text → a10 credited,
    # and a2 gets the assist.
    row = credit(wh, "tie", "o1")
    assert pick(row, *CREDITS) == ("a10", "a10", "a10")
    assert assists(wh, "tie") == {("a2", "2026-03-02"): 1}


def test_consult_window_counts_by_the_reception_date(wh):
    # Orders created 03-10 09:00. A reply at 23:00 on 03-09 (created_date − 1)
    # earns the order; one at 23:00 on 03-08 (created_date − 2) does not, and
    # the paid order is silent.
    assert credit(wh, "window_edge", "o_d1")["credited_agent_id"] == "a1"
    row = credit(wh, "window_edge", "o_d2")
    assert pick(row, "credited_agent_id", "is_silent") == (None, True)
    # o_x, created 03-10 23:00, paid 23:05: a1's reply at 03-09 00:30 is 46.5 h
    # before created_at (more than one day), but its reception is dated 03-09 =
    # created_date − 1 → order credit a1; the same for the payment (paid_date
    # 03-10). A rolling 24 h window (from 03-09 23:00) would leave o_x silent.
    row = credit(wh, "window_edge", "o_x")
    assert pick(row, *CREDITS) == ("a1", "a1", "a1")
    assert row["is_silent"] is False
    # Assist window by date too: a2's reply at 03-09 00:20 lies in [03-09 00:00,
    # paid_at] → one assist for a2 on P = 03-10.
    assert assists(wh, "window_edge") == {("a2", "2026-03-10"): 1}


def test_window_ends_are_included(wh):
    # Order created 03-03 12:00:00, paid 12:30:00.
    # Order credit: a1's reply at exactly created_at (at or before) → a1.
    # Payment credit: a2's reply at exactly paid_at → a2.
    # Assists (other accounts, replies in [03-02 00:00:00, 12:30:00]): a2 (at
    # paid_at), a3 (at 03-02 00:00:00, before the buyer's first message that
    # day); not a4 (03-01 23:59:59), not a5 (12:30:01).
    row = credit(wh, "window_ends", "o1")
    assert pick(row, *CREDITS) == ("a1", "a2", "a1")
    assert assists(wh, "window_ends") == {("a2", "2026-03-03"): 1, ("a3", "2026-03-03"): 1}


def test_serving_replies_include_replies_before_the_buyer_writes_in_after_sale_receptions(wh):
    # a1 writes at 08:00; the buyer orders at 09:00, pays 09:05 and writes at
    # 10:00. The reception is after-sale (paid order before t0, none following),
    # and a1's 08:00 reply still earns the order.
    assert reception(wh, "pre_reply", "b1")["is_after_sale"] is True
    assert credit(wh, "pre_reply", "o1")["credited_agent_id"] == "a1"


def test_replies_outside_a_reception_and_auto_replies_earn_nothing(wh):
    # b1 never writes on 03-02: a1's reply belongs to no reception. b2 only got
    # an auto reply. Both paid orders are silent.
    for order_id in ["o1", "o2"]:
        row = credit(wh, "not_serving", order_id)
        assert pick(row, "credited_agent_id", "is_silent") == (None, True), order_id


def test_an_assist_role_reply_is_a_serving_reply(wh):
    # b1 writes a1 at 10:00 and gets only an `assist` message at 10:01; the order
    # (10:30, paid 10:35) → order and payment credit a1, not silent.
    row = credit(wh, "assist_role", "o1")
    assert pick(row, *CREDITS) == ("a1", "a1", "a1")
    assert row["is_silent"] is False


def test_filtered_buyer_orders_are_silent_and_still_paid_sales(wh):
    # spam is on the filter list: no received reception, no serving reply.
    assert (
        query(
            wh,
            "select * from intermediate.int_receptions_inquired where shop_id = 'filtered'",
        )
        == []
    )
    row = credit(wh, "filtered", "o1")
    assert pick(row, "credited_agent_id", "is_silent") == (None, True)
    shop = shop_day(wh, "int_shop_days_sold", "filtered", "2026-03-02")
    assert pick(shop, "paid_sales_amt", "silent_sales_amt", "cs_sales_amt") == (
        Decimal("100.00"),
        Decimal("100.00"),
        Decimal("0.00"),
    )


def test_silent_sales_and_shop_split_of_paid_sales(wh):
    # P = 03-05: paid 300.00 + 50.00 + 70.01 = 420.01; credited 300.00 (b3);
    # silent 50.00 + 70.01 = 120.01 (b1 no chat; b2 served 03-02, out of window).
    # cs_sales_share = 300.00 / 420.01; cs_aov = 300.00 / 1;
    # silent_aov = 120.01 / 2 = 60.005 → 60.01 (half away from zero).
    row = shop_day(wh, "int_shop_days_sold", "silent", "2026-03-05")
    assert row["paid_sales_amt"] == Decimal("420.01")
    assert row["cs_sales_amt"] == Decimal("300.00")
    assert row["silent_sales_amt"] == Decimal("120.01")
    assert pick(row, "paid_buyer_cnt", "cs_sales_buyer_cnt", "silent_buyer_cnt") == (3, 1, 2)
    assert row["cs_sales_share"] == pytest.approx(300.00 / 420.01)
    assert row["cs_aov"] == Decimal("300.00")
    assert row["silent_aov"] == Decimal("60.01")
    assert credit(wh, "silent", "o1")["is_silent"] is True
    assert credit(wh, "silent", "o3")["is_silent"] is False


def test_silent_orders_give_no_assists(wh):
    # a1 serves b1 on 03-01 11:00, after the 10:00 order and days before the
    # 03-05 payment: no order credit, no payment credit → silent. a1's reply lies
    # in [02-28 00:00, paid_at], but a silent order gives no assist.
    assert credit(wh, "silent_assist", "o1")["is_silent"] is True
    assert assists(wh, "silent_assist") == {}


def test_aov_and_items_per_buyer_round_half_away_from_zero(wh):
    # a1: 33.33 + 33.33 + 33.34 = 100.00 over 3 buyers → 33.333… → 33.33;
    #     items 1 + 1 + 2 = 4 / 3 = 1.333… → 1.33.
    # a2: 0.01 + 2.00 = 2.01 over 2 buyers → 1.005 → 1.01 (a DOUBLE would give 1.00);
    #     items 1 + 2 = 3 / 2 → 1.50.
    a1 = agent_day(wh, "int_agent_days_sold", "aov", "a1", "2026-03-06")
    a2 = agent_day(wh, "int_agent_days_sold", "aov", "a2", "2026-03-06")
    assert pick(a1, "cs_sales_amt", "cs_sales_qty", "cs_sales_buyer_cnt") == (
        Decimal("100.00"),
        4,
        3,
    )
    assert pick(a1, "cs_aov", "cs_items_per_buyer") == (Decimal("33.33"), Decimal("1.33"))
    assert pick(a2, "cs_aov", "cs_items_per_buyer") == (Decimal("1.01"), Decimal("1.50"))
    # Shop: 102.01 over 5 credited buyers = 20.402 → 20.40.
    assert shop_day(wh, "int_shop_days_sold", "aov", "2026-03-06")["cs_aov"] == Decimal("20.40")


def test_buyers_count_once_per_account_shop_and_day(wh):
    # P = 03-07. a1 is credited b1's o1 40.00 and o2 60.00, and b3's o5 30.00 and
    # o6 20.00 (a1's 09:01 reply is the latest before 09:30 / 10:00):
    # amt 150.00, 4 orders, 2 buyers → cs_aov 150.00 / 2 = 75.00, items 4 / 2 = 2.00.
    a1 = agent_day(wh, "int_agent_days_sold", "distinct", "a1", "2026-03-07")
    assert pick(a1, "cs_sales_amt", "cs_order_cnt", "cs_sales_buyer_cnt") == (
        Decimal("150.00"),
        4,
        2,
    )
    assert pick(a1, "cs_aov", "cs_items_per_buyer") == (Decimal("75.00"), Decimal("2.00"))
    # Shop: paid 150.00 + 15.00 + 10.01 = 175.01 in 6 orders of 3 buyers;
    # credited 150.00, 4 orders, 2 buyers (b1, b3), cs_aov 75.00; silent (b2 only)
    # 15.00 + 10.01 = 25.01, 2 orders, 1 buyer → silent_aov 25.01 / 1 = 25.01.
    shop = shop_day(wh, "int_shop_days_sold", "distinct", "2026-03-07")
    assert pick(shop, "paid_sales_amt", "paid_order_cnt", "paid_buyer_cnt") == (
        Decimal("175.01"),
        6,
        3,
    )
    assert pick(shop, "cs_sales_amt", "cs_order_cnt", "cs_sales_buyer_cnt", "cs_aov") == (
        Decimal("150.00"),
        4,
        2,
        Decimal("75.00"),
    )
    assert pick(shop, "silent_sales_amt", "silent_order_cnt", "silent_buyer_cnt") == (
        Decimal("25.01"),
        2,
        1,
    )
    assert shop["silent_aov"] == Decimal("25.01")
    # a2 served b3 at 08:00 and 08:30, both in [03-06 00:00, paid_at] of both of
    # b3's orders credited to a1: one assisted buyer (not 2 orders × 2 replies).
    assert assists(wh, "distinct") == {("a2", "2026-03-07"): 1}


# -- 催付 list ----------------------------------------------------------------


def test_unpaid_order_followups_as_of_the_as_of_date(warehouses):
    # As of 03-20 (end = 03-21 00:00): o1 (a1 小美, created 03-19 10:30) → 37.5 h;
    # o2 (a2, no agents row → its id, created 03-20 23:00) → 1.0 h; o6 (paid
    # 03-22, after as_of, so unpaid as of 03-20; order credit a1, created 03-19
    # 10:30) → 37.5 h. Not listed: o3 (paid), o4 (nobody served: not credited),
    # o5 (created 03-21, after as_of), o7 (paid 03-22: no order credit, and its
    # payment credit a3 comes from a 03-22 reply, unknown as of 03-20).
    rows = query(
        warehouses["first"],
        "select order_id, credited_agent_id, agent_name, buyer_id, amount, hours_waited,"
        " as_of_date from marts.unpaid_order_followups where shop_id = 'followups'"
        " order by order_id",
    )
    assert rows == [
        {
            "order_id": "o1",
            "credited_agent_id": "a1",
            "agent_name": "小美",
            "buyer_id": "b1",
            "amount": Decimal("88.00"),
            "hours_waited": 37.5,
            "as_of_date": AS_OF,
        },
        {
            "order_id": "o2",
            "credited_agent_id": "a2",
            "agent_name": "a2",
            "buyer_id": "b2",
            "amount": Decimal("66.00"),
            "hours_waited": 1.0,
            "as_of_date": AS_OF,
        },
        {
            "order_id": "o6",
            "credited_agent_id": "a1",
            "agent_name": "小美",
            "buyer_id": "b6",
            "amount": Decimal("77.00"),
            "hours_waited": 37.5,
            "as_of_date": AS_OF,
        },
    ]
    # o7 is credited to a3 today (order_first falls back to the payment credit),
    # which is why the list must not use today's credit for it.
    assert pick(credit(warehouses["first"], "followups", "o7"), *CREDITS) == (None, "a3", "a3")
    # As of 03-31 (end = 04-01 00:00): o1 has waited 12 days 13.5 h = 301.5 h, o2
    # 265 h, o5 (credited to a1, created 03-21 08:00) 256 h: all past the 72 h
    # payment window, so the list is empty; o6 and o7 are paid by then (03-22).
    later = query(
        warehouses["second"],
        "select order_id, hours_waited from marts.unpaid_order_followups"
        " where shop_id = 'followups' order by order_id",
    )
    assert later == []


# -- docs/metrics.md §7 satisfaction ----------------------------------------------------------


def test_ratings_map_both_scales_to_three_levels(wh):
    # 11 ratings: satisfied 5, 4, 满意, 非常满意 = 4; neutral 3, 一般 = 2;
    # disappointed 2, 1, 失望, 不满意, 非常不满意 = 5. The repeated r2 counts once
    # (first loaded: '4'); spam is on the filter list and still counts.
    # good_rate = 4 / 11.
    row = agent_day(wh, "int_agent_days_rated", "ratings", "a1", "2026-03-04")
    assert pick(row, "rating_cnt", "satisfied_cnt", "neutral_cnt", "disappointed_cnt") == (
        11,
        4,
        2,
        5,
    )
    assert row["good_rate"] == pytest.approx(4 / 11)


# -- dbt data tests -----------------------------------------------------------


def test_each_order_is_credited_at_most_once(warehouses):
    # On the second build (two order loads, several versions per order):
    # - fct_order_credits has one row per order;
    # - each credited order is the one its shop's attribution_mode picks
    #   (order → order credit, payment → payment credit, order_first → order
    #   credit, else payment credit);
    # - per shop and payment day, the shop's credited sales and orders equal the
    #   sums over its accounts (an order credited to two accounts, or to none of
    #   the accounts' rows, breaks this);
    # - every paid order of the latest versions (staging) counts once: paid sales
    #   and orders = Σ accounts' credited + the shop's silent ones.
    db = warehouses["second"]
    dupes = query(
        db,
        "select shop_id, order_id from marts.fct_order_credits"
        " group by shop_id, order_id having count(*) > 1",
    )
    assert dupes == []
    not_the_modes_pick = query(
        db,
        """
        select shop_id, order_id
        from marts.fct_order_credits
        where credited_agent_id is distinct from case attribution_mode
            when 'order' then order_agent_id
            when 'payment' then payment_agent_id
            when 'order_first' then coalesce(order_agent_id, payment_agent_id)
        end
        """,
    )
    assert not_the_modes_pick == []
    days = query(
        db,
        """
        with
        paid as (
            select shop_id, paid_date as biz_date, sum(amount) as amt, count(*) as orders
            from staging.stg_exports__orders
            where is_paid
            group by all
        ),
        accounts as (
            select shop_id, biz_date, sum(cs_sales_amt) as amt, sum(cs_order_cnt) as orders
            from intermediate.int_agent_days_sold
            group by all
        ),
        keys as (
            select shop_id, biz_date from paid
            union select shop_id, biz_date from accounts
            union select shop_id, biz_date from intermediate.int_shop_days_sold
        )
        select
            keys.shop_id,
            keys.biz_date,
            coalesce(paid.amt, 0) as paid_amt,
            coalesce(paid.orders, 0) as paid_orders,
            coalesce(accounts.amt, 0) as account_cs_amt,
            coalesce(accounts.orders, 0) as account_cs_orders,
            coalesce(shop.cs_sales_amt, 0) as shop_cs_amt,
            coalesce(shop.cs_order_cnt, 0) as shop_cs_orders,
            coalesce(shop.silent_sales_amt, 0) as silent_amt,
            coalesce(shop.silent_order_cnt, 0) as silent_orders
        from keys
        left join paid using (shop_id, biz_date)
        left join accounts using (shop_id, biz_date)
        left join intermediate.int_shop_days_sold as shop using (shop_id, biz_date)
        """,
    )
    mismatches = [
        day
        for day in days
        if day["shop_cs_amt"] != day["account_cs_amt"]
        or day["shop_cs_orders"] != day["account_cs_orders"]
        or day["paid_amt"] != day["account_cs_amt"] + day["silent_amt"]
        or day["paid_orders"] != day["account_cs_orders"] + day["silent_orders"]
    ]
    assert mismatches == []
    # Not vacuous: the comparison covers many shop-days, among them the silent
    # shop's 03-05 (credited 300.00 + silent 120.01 = paid 420.01) and the
    # payment-only credit of payment_only/o1 (03-02).
    by_key = {(day["shop_id"], day["biz_date"].isoformat()): day for day in days}
    assert len(days) >= 20
    assert pick(by_key[("silent", "2026-03-05")], "account_cs_amt", "silent_amt", "paid_amt") == (
        Decimal("300.00"),
        Decimal("120.01"),
        Decimal("420.01"),
    )
    assert by_key[("payment_only", "2026-03-02")]["account_cs_orders"] == 1
