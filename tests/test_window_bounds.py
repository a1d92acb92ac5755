"""A window build reads, for its days, the rows other days hold (docs/metrics.md §4, §5):
orders created after_sale_days before a reception (after-sale), up to the end of D+1 and
paid by the end of D + final_pay_days (conversion), replies consult_window_days before an
order (credit). A build of the window 05-20 alone, after a full build, must give the
marts of the full build: every one of those rows lies outside the window, on its bound."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from kefu.build import BuildWindow, build
from tests.support import build_warehouse, msg, one, order
from tests.test_kpi_marts import mart_contents

D = dt.date(2026, 5, 20)  # the window; taobao_tool: after_sale 21, final_pay 4, consult 1


def bound_rows() -> dict:
    return {
        "shops": [{"shop_id": "edge", "platform": "taobao"}],
        "messages": [
            # b1 on D: an order paid exactly after_sale_days (21) before its first
            # message -> after-sale (created 04-29 10:00 = 05-20 10:00 - 21 days).
            msg("edge", "a1", "b1", "buyer", "2026-05-20 10:00:00"),
            msg("edge", "a1", "b1", "agent", "2026-05-20 10:01:00"),
            # b2 on D: an order created at the end of D+1, paid on D+4 before its end
            # -> an inquiry that orders and converts by the final day, not by the next.
            msg("edge", "a1", "b2", "buyer", "2026-05-20 11:00:00"),
            msg("edge", "a1", "b2", "agent", "2026-05-20 11:02:00"),
            # b3 on D-1: a2's reply earns the order b3 creates and pays on D
            # (consult_window_days 1: a reception of D-1 still counts).
            msg("edge", "a2", "b3", "buyer", "2026-05-19 15:00:00"),
            msg("edge", "a2", "b3", "agent", "2026-05-19 15:01:00"),
        ],
        "orders": [
            order("edge", "o1", "b1", "2026-04-29 10:00:00", "2026-04-29 10:30:00"),
            order("edge", "o2", "b2", "2026-05-21 23:00:00", "2026-05-24 23:00:00"),
            order("edge", "o3", "b3", "2026-05-20 09:00:00", "2026-05-20 09:05:00", "60.00"),
        ],
    }


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    return build_warehouse(tmp_path_factory.mktemp("bounds") / "full.duckdb", bound_rows())


def test_the_scenario_sits_on_the_bounds(full):
    b1 = one(full, "select * from marts.fct_receptions where buyer_id = 'b1'")
    assert b1["biz_date"] == D and b1["is_after_sale"] and not b1["is_inquiry"]
    a1 = one(
        full,
        "select * from marts.agent_daily_kpis where agent_id = 'a1' and biz_date = ?",
        [D],
    )
    assert (a1["inquiry_buyer_cnt"], a1["inq_order_cnt"]) == (1, 1)
    assert (a1["inq_pay_next_day_cnt"], a1["inq_pay_final_cnt"]) == (0, 1)
    assert a1["is_final"]  # D + 4 = 05-24, the as-of date
    a2 = one(
        full,
        "select * from marts.agent_daily_kpis where agent_id = 'a2' and biz_date = ?",
        [D],
    )
    assert str(a2["cs_sales_amt"]) == "60.00"


def test_a_window_build_across_the_bounds_gives_the_full_build_marts(full, tmp_path):
    expected = mart_contents(full)
    windowed = tmp_path / "windowed.duckdb"
    shutil.copyfile(full, windowed)
    build(windowed, BuildWindow(start=D, end=D))
    assert mart_contents(windowed) == expected
    # and the sales intermediates read window-shaped inputs: their compiled SQL bounds
    # the orders and replies by the window, less / plus the shop's rule days
    results = json.loads(
        (tmp_path / ".dbt" / "windowed" / "target" / "run_results.json").read_text()
    )["results"]
    code = {r["unique_id"]: " ".join((r.get("compiled_code") or "").split()) for r in results}
    for model in ("int_receptions_inquired", "int_orders_credited"):
        assert "date '2026-05-20'" in code[f"model.kefu.{model}"], model
