"""The scorecard marts of docs/metrics.md §14 (docs/metrics.md §9–§13): team and period views,
the platform's 30-day assessment, targets, alerts, question topics and refunds.
Hand-made exports with hand-computed answers; each scenario is its own shop and
one dbt build serves them all."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import duckdb
import pytest

from kefu.build import BuildWindow, build, run_dbt
from kefu.topic_terms import frequent_terms, other_topic_messages
from tests.support import msg, one, order, query, rating, write_raw

# -- team: accounts of three teams; b1 writes to both pre-sales accounts on 06-01.
TEAM_AGENTS = [
    {"shop_id": "team", "agent_id": "pa1", "agent_name": "售前一", "team": "pre_sales"},
    {"shop_id": "team", "agent_id": "pa2", "agent_name": "售前二", "team": "售前"},
    {"shop_id": "team", "agent_id": "as1", "agent_name": "售后一", "team": "after_sales"},
    # "x" is not in agents/: team other.
]


def team_rows() -> dict:
    shop = "team"
    return {
        "messages": [
            # 05-31 (Sunday, May, ISO week of 05-25): b5 -> pa2, replied after 60 s.
            msg(shop, "pa2", "b5", "buyer", "2026-05-31 15:00:00"),
            msg(shop, "pa2", "b5", "agent", "2026-05-31 15:01:00"),
            # 06-01 (Monday): b1 -> pa1 (replied after 10 s) and pa2 (unreplied).
            msg(shop, "pa1", "b1", "buyer", "2026-06-01 10:00:00"),
            msg(shop, "pa1", "b1", "agent", "2026-06-01 10:00:10"),
            msg(shop, "pa2", "b1", "buyer", "2026-06-01 10:05:00"),
            #   b2 -> as1 (replied after 40 s); b3 -> x (not in agents/, unreplied).
            msg(shop, "as1", "b2", "buyer", "2026-06-01 11:00:00"),
            msg(shop, "as1", "b2", "agent", "2026-06-01 11:00:40"),
            msg(shop, "x", "b3", "buyer", "2026-06-01 12:00:00"),
            # 06-02: b1 -> pa1 again, replied after 30 s.
            msg(shop, "pa1", "b1", "buyer", "2026-06-02 09:00:00"),
            msg(shop, "pa1", "b1", "agent", "2026-06-02 09:00:30"),
            # 06-08 (next Monday): b6 -> pa1, replied after 20 s.
            msg(shop, "pa1", "b6", "buyer", "2026-06-08 10:00:00"),
            msg(shop, "pa1", "b6", "agent", "2026-06-08 10:00:20"),
        ],
        "orders": [
            # o1: b1 orders after pa1's reply, pays 100.00; a later version refunds 30.00.
            order(shop, "o1", "b1", "2026-06-01 10:30:00", "2026-06-01 11:00:00", "100.00"),
            {
                **order(
                    shop,
                    "o1",
                    "b1",
                    "2026-06-01 10:30:00",
                    "2026-06-01 11:00:00",
                    "100.00",
                    updated_at="2026-06-03 09:00:00",
                ),
                "refund_amount": "30.00",
            },
            # o2: b4 never chatted: silent, paid 50.00, fully refunded.
            {
                **order(shop, "o2", "b4", "2026-06-01 12:00:00", "2026-06-01 12:05:00", "50.00"),
                "refund_amount": "50.00",
            },
        ],
    }


def assess_rows() -> dict:
    """-- assess: rounds at 10:00 (inside every preset's window) on four days spread
    over a month boundary, with the days between missing:
    04-20 one round of 60 s; 05-05 one unreplied round; 05-19 one round of 200 s
    (> sla 180 s); 05-20 two buyers, rounds of 10 s and 20 s."""
    shop = "assess"
    return {
        "messages": [
            msg(shop, "a", "c1", "buyer", "2026-04-20 10:00:00"),
            msg(shop, "a", "c1", "agent", "2026-04-20 10:01:00"),
            msg(shop, "a", "c2", "buyer", "2026-05-05 10:00:00"),
            msg(shop, "a", "c3", "buyer", "2026-05-19 10:00:00"),
            msg(shop, "a", "c3", "agent", "2026-05-19 10:03:20"),
            msg(shop, "a", "c4", "buyer", "2026-05-20 10:00:00"),
            msg(shop, "a", "c4", "agent", "2026-05-20 10:00:10"),
            msg(shop, "b", "c5", "buyer", "2026-05-20 10:00:00"),
            msg(shop, "b", "c5", "agent", "2026-05-20 10:00:20"),
        ]
    }


def target_rows() -> dict:
    """-- tgt: t1 on 06-01 replies to g1 after 30 s and never to g2: reply_rate 0.5,
    avg_first_response_s 30, no rating (good_rate NULL). The shop's own target
    reply_rate >= 0.50 (inserted into the seed) beats the default 0.80."""
    shop = "tgt"
    return {
        "messages": [
            msg(shop, "t1", "g1", "buyer", "2026-06-01 10:00:00"),
            msg(shop, "t1", "g1", "agent", "2026-06-01 10:00:30"),
            msg(shop, "t1", "g2", "buyer", "2026-06-01 10:05:00"),
        ]
    }


def alert_rows() -> dict:
    """-- alert: account al, 06-09 and 06-10 (every alert type)."""
    shop = "alert"
    return {
        "messages": [
            # d1 on 06-09 (replied after 10 s), rates 失望 on 06-10 09:00, then writes
            # again at 10:00 (replied after 5 s): the rating links to the latest reception
            # of its day, the 06-10 one (docs/metrics.md §14: that day, else the day before).
            msg(shop, "al", "d1", "buyer", "2026-06-09 14:00:00"),
            msg(shop, "al", "d1", "agent", "2026-06-09 14:00:10"),
            msg(shop, "al", "d1", "buyer", "2026-06-10 10:00:00"),
            msg(shop, "al", "d1", "agent", "2026-06-10 10:00:05"),
            # d2 on 06-09 only (replied after 10 s), rates 2 (失望) on 06-10 09:30: no
            # reception that day, so the rating links to the 06-09 reception.
            msg(shop, "al", "d2", "buyer", "2026-06-09 16:00:00"),
            msg(shop, "al", "d2", "agent", "2026-06-09 16:00:10"),
            # l1: a reply after 31 minutes (1,860 s > max_wait_s 1,800): late.
            msg(shop, "al", "l1", "buyer", "2026-06-10 11:00:00"),
            msg(shop, "al", "l1", "agent", "2026-06-10 11:31:00"),
            # l2: a reply after exactly 30 minutes: timed, not late.
            msg(shop, "al", "l2", "buyer", "2026-06-10 12:00:00"),
            msg(shop, "al", "l2", "agent", "2026-06-10 12:30:00"),
            # s1: three rounds of 150 s (> slow_reply_s 120): a slow reception.
            msg(shop, "al", "s1", "buyer", "2026-06-10 13:00:00"),
            msg(shop, "al", "s1", "agent", "2026-06-10 13:02:30"),
            msg(shop, "al", "s1", "buyer", "2026-06-10 13:10:00"),
            msg(shop, "al", "s1", "agent", "2026-06-10 13:12:30"),
            msg(shop, "al", "s1", "buyer", "2026-06-10 13:20:00"),
            msg(shop, "al", "s1", "agent", "2026-06-10 13:22:30"),
            # u1: never replied.
            msg(shop, "al", "u1", "buyer", "2026-06-10 15:00:00"),
        ],
        "ratings": [
            rating(shop, "al", "d1", "2026-06-10 09:00:00", "1", "r_d1"),
            rating(shop, "al", "d2", "2026-06-10 09:30:00", "2", "r_d2"),
        ],
    }


def topic_rows() -> dict:
    """-- topic: account k, 06-15."""
    shop = "topic"
    return {
        "messages": [
            # r1: "在吗" matches nothing; then 包邮 (价格, topic_seq 6) and 尺码 (topic_seq 5)
            # in one message: the seed's order wins over the position in the text.
            msg(shop, "k", "r1", "buyer", "2026-06-15 10:00:00", content="在吗"),
            msg(shop, "k", "r1", "buyer", "2026-06-15 10:00:05", content="包邮吗？尺码怎么选"),
            msg(shop, "k", "r1", "agent", "2026-06-15 10:00:30", content="亲，参考尺码表"),
            # r2: the first matching message decides (退货), not the later 快递.
            msg(shop, "k", "r2", "buyer", "2026-06-15 11:00:00", content="我要退货"),
            msg(shop, "k", "r2", "buyer", "2026-06-15 11:00:10", content="快递到哪了"),
            # r3: nothing matches: other; the agent's 发货 does not count.
            msg(shop, "k", "r3", "buyer", "2026-06-15 12:00:00", content="好的谢谢"),
            msg(shop, "k", "r3", "agent", "2026-06-15 12:00:20", content="今天发货"),
            # r5: 多少钱 (价格), orders and pays: an inquiry converted.
            msg(shop, "k", "r5", "buyer", "2026-06-15 13:00:00", content="这个多少钱"),
            msg(shop, "k", "r5", "agent", "2026-06-15 13:00:20"),
        ],
        "orders": [
            order(shop, "t_o1", "r5", "2026-06-15 13:10:00", "2026-06-15 13:11:00", "20.00"),
        ],
        "ratings": [
            rating(shop, "k", "r5", "2026-06-15 14:00:00", "5", "t_r5"),
            rating(shop, "k", "r3", "2026-06-15 14:00:00", "失望", "t_r3"),
        ],
    }


def scenario_rows() -> dict:
    parts = [team_rows(), assess_rows(), target_rows(), alert_rows(), topic_rows()]
    rows: dict = {"agents": [*TEAM_AGENTS]}
    for part in parts:
        for entity, entity_rows in part.items():
            rows.setdefault(entity, []).extend(entity_rows)
    return rows


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """One build for every scenario. Shop tgt's own target goes into the built seed
    table (the shipped seed holds only ruleset defaults), then the models are built."""
    db_path = tmp_path_factory.mktemp("scorecard") / "w.duckdb"
    write_raw(db_path, scenario_rows())
    run_dbt(db_path, ["seed"])
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "insert into seeds.kpi_targets values "
            "(null, 'tgt', 'reply_rate', '>=', 0.5, 'shop tgt: its own target')"
        )
    dbt_vars = json.dumps(BuildWindow().dbt_vars())
    run_dbt(db_path, ["build", "--vars", dbt_vars, "--exclude", "resource_type:seed"])
    return db_path


def team_day(db_path, team: str, day: str) -> dict:
    return one(
        db_path,
        "select * from marts.team_daily_kpis where shop_id = 'team' and team = ? and biz_date = ?",
        [team, dt.date.fromisoformat(day)],
    )


# Teams and periods (docs/metrics.md §9) ------------------------------------------------------


def test_team_counts_a_buyer_served_by_two_pre_sales_accounts_once(wh):
    pre = team_day(wh, "pre_sales", "2026-06-01")
    # b1 wrote to pa1 (replied) and pa2 (unreplied): one buyer, replied, for the team.
    assert pre["account_cnt"] == 2
    assert (pre["consult_buyer_cnt"], pre["received_buyer_cnt"], pre["replied_buyer_cnt"]) == (
        1,
        1,
        1,
    )
    assert pre["unreplied_buyer_cnt"] == 0 and pre["reply_rate"] == pytest.approx(1.0)
    # ... while the accounts count it twice.
    accounts = query(
        wh,
        "select sum(received_buyer_cnt) as received from marts.agent_daily_kpis "
        "where shop_id = 'team' and agent_id in ('pa1', 'pa2') and biz_date = '2026-06-01'",
    )
    assert accounts[0]["received"] == 2
    # Sums over the accounts: 2 buyer messages, 1 reply, rounds 10 s and unreplied.
    assert (pre["buyer_msg_cnt"], pre["agent_msg_cnt"], pre["round_cnt"]) == (2, 1, 2)
    assert pre["avg_response_s"] == pytest.approx(10.0)
    assert pre["reply_3min_rate"] == pytest.approx(0.5)
    # b1's order o1 follows both receptions: one inquiry buyer, converted, for the team.
    assert (pre["inquiry_buyer_cnt"], pre["inq_pay_final_cnt"]) == (1, 1)
    # o1 is credited to pa1 (pre_sales): sales and the refund of its latest version.
    assert pre["cs_sales_amt"] == Decimal("100.00") and pre["cs_sales_buyer_cnt"] == 1
    assert pre["refund_amt"] == Decimal("30.00")


def test_an_account_not_in_agents_is_team_other(wh):
    other = team_day(wh, "other", "2026-06-01")
    assert (other["account_cnt"], other["received_buyer_cnt"], other["unreplied_buyer_cnt"]) == (
        1,
        1,
        1,
    )
    assert other["reply_rate"] == pytest.approx(0.0)
    after = team_day(wh, "after_sales", "2026-06-01")
    assert (after["replied_buyer_cnt"], after["avg_first_response_s"]) == (1, pytest.approx(40.0))
    assert after["cs_sales_amt"] == Decimal("0.00") and after["good_rate"] is None


def test_weekly_and_monthly_team_figures_sum_the_days(wh):
    weeks = query(
        wh,
        "select week_start, active_day_cnt, consult_buyer_cnt, replied_buyer_cnt, response_cnt, "
        "response_total_s, avg_response_s from marts.team_weekly_kpis "
        "where shop_id = 'team' and team = 'pre_sales' order by week_start",
    )
    # Week of 05-25: 05-31 (b5, 60 s). Week of 06-01: 06-01 (b1, 10 s) and 06-02 (b1 again,
    # 30 s): two buyer-days. Week of 06-08: b6, 20 s.
    assert [
        (w["week_start"].isoformat(), w["active_day_cnt"], w["consult_buyer_cnt"]) for w in weeks
    ] == [("2026-05-25", 1, 1), ("2026-06-01", 2, 2), ("2026-06-08", 1, 1)]
    assert weeks[1]["replied_buyer_cnt"] == 2
    assert weeks[1]["response_total_s"] == pytest.approx(40.0)
    assert weeks[1]["avg_response_s"] == pytest.approx(20.0)
    months = query(
        wh,
        "select month_start, consult_buyer_cnt, response_total_s, avg_response_s, cs_sales_amt "
        "from marts.team_monthly_kpis where shop_id = 'team' and team = 'pre_sales' "
        "order by month_start",
    )
    # May: 05-31 only. June: 06-01, 06-02, 06-08: 3 buyer-days, (10 + 30 + 20) / 3 = 20 s.
    assert [(m["month_start"].isoformat(), m["consult_buyer_cnt"]) for m in months] == [
        ("2026-05-01", 1),
        ("2026-06-01", 3),
    ]
    assert months[1]["avg_response_s"] == pytest.approx(20.0)
    assert months[1]["cs_sales_amt"] == Decimal("100.00")


def test_weekly_and_monthly_shop_figures_sum_the_days(wh):
    week = one(
        wh,
        "select * from marts.shop_weekly_kpis where shop_id = 'team' and week_start = '2026-06-01'",
    )
    # 06-01: b1, b2, b3 received, b1 and b2 replied; 06-02: b1 received and replied.
    assert (week["received_buyer_cnt"], week["replied_buyer_cnt"]) == (4, 3)
    # 0.75 from the sums, not the mean of the daily rates (2/3 + 1) / 2 = 0.83.
    assert week["reply_rate"] == pytest.approx(0.75)
    # Timed rounds 10, 40 (06-01) and 30 (06-02).
    assert week["avg_response_s"] == pytest.approx(80 / 3)
    assert week["paid_sales_amt"] == Decimal("150.00") and week["cs_sales_amt"] == Decimal("100.00")
    assert week["cs_sales_share"] == pytest.approx(2 / 3)
    month = one(
        wh,
        "select * from marts.shop_monthly_kpis "
        "where shop_id = 'team' and month_start = '2026-06-01'",
    )
    assert (month["received_buyer_cnt"], month["replied_buyer_cnt"], month["active_day_cnt"]) == (
        5,
        4,
        3,
    )
    may = one(
        wh,
        "select * from marts.shop_monthly_kpis "
        "where shop_id = 'team' and month_start = '2026-05-01'",
    )
    assert (may["received_buyer_cnt"], may["reply_rate"]) == (1, pytest.approx(1.0))


# Refunds (docs/metrics.md §13) ---------------------------------------------------------------


def test_refunds_of_a_partly_refunded_order_are_reported_apart(wh):
    shop = one(
        wh, "select * from marts.shop_daily_kpis where shop_id = 'team' and biz_date = '2026-06-01'"
    )
    # o1 (100.00, 30.00 refunded in its latest version) and o2 (silent, 50.00 refunded).
    assert shop["paid_sales_amt"] == Decimal("150.00")  # gross: refunds not deducted
    assert shop["refund_amt"] == Decimal("80.00")
    agent = one(
        wh,
        "select * from marts.agent_daily_kpis where shop_id = 'team' and agent_id = 'pa1' "
        "and biz_date = '2026-06-01'",
    )
    assert agent["cs_sales_amt"] == Decimal("100.00") and agent["refund_amt"] == Decimal("30.00")
    week = one(
        wh,
        "select refund_amt from marts.agent_weekly_kpis "
        "where shop_id = 'team' and agent_id = 'pa1' and week_start = '2026-06-01'",
    )
    assert week["refund_amt"] == Decimal("30.00")


# Platform assessment (docs/metrics.md §10) ---------------------------------------------------


def assessed(db_path, preset: str) -> dict[str, tuple]:
    rows = query(
        db_path,
        "select * from marts.platform_service_assessed where shop_id = 'assess' and preset = ? "
        "order by biz_date",
        [preset],
    )
    return {
        r["biz_date"].isoformat(): (
            r["assessed_cnt"],
            r["within_sla_cnt"],
            r["sla_reply_rate"],
            r["capped_avg_response_s"],
            r["pass_rate"],
            r["is_passing"],
        )
        for r in rows
    }


def test_thirty_day_assessment_spans_a_month_boundary_and_missing_days(wh):
    rows = assessed(wh, "taobao_platform")
    # Only days with a received reception have a row.
    assert list(rows) == ["2026-04-20", "2026-05-05", "2026-05-19", "2026-05-20"]
    # 04-20: 60 s within 180 s. 05-05: 04-20 + the unreplied round (capped at 600 s).
    assert rows["2026-04-20"][:4] == (1, 1, pytest.approx(1.0), pytest.approx(60.0))
    assert rows["2026-05-05"][:4] == (2, 1, pytest.approx(0.5), pytest.approx(330.0))
    # 05-19: the 30 days 04-20 ... 05-19 still hold 04-20 (60 + 600 + 200) / 3.
    assert rows["2026-05-19"][:4] == (3, 1, pytest.approx(1 / 3), pytest.approx(860 / 3))
    # 05-20: 04-21 ... 05-20, 04-20 has left: 05-05, 05-19, and 10 s, 20 s of 05-20.
    assert rows["2026-05-20"][:4] == (4, 2, pytest.approx(0.5), pytest.approx(830 / 4))
    # No published pass mark for taobao_platform: is_passing NULL.
    assert {r[4] for r in rows.values()} == {None} and {r[5] for r in rows.values()} == {None}
    period = one(
        wh,
        "select assessment_days, period_start_date, active_day_cnt from "
        "marts.platform_service_assessed where shop_id = 'assess' and preset = 'kuaishou' "
        "and biz_date = '2026-05-20'",
    )
    assert period == {
        "assessment_days": 30,
        "period_start_date": dt.date(2026, 4, 21),
        "active_day_cnt": 3,
    }


def test_kuaishou_pass_mark_grades_the_period(wh):
    rows = assessed(wh, "kuaishou")
    # Unit buyer: one round per reception here, so the same ratios; pass mark 0.70.
    assert {day: (r[2], r[4], r[5]) for day, r in rows.items()} == {
        "2026-04-20": (pytest.approx(1.0), pytest.approx(0.7), True),
        "2026-05-05": (pytest.approx(0.5), pytest.approx(0.7), False),
        "2026-05-19": (pytest.approx(1 / 3), pytest.approx(0.7), False),
        "2026-05-20": (pytest.approx(0.5), pytest.approx(0.7), False),
    }


def test_a_window_build_rewrites_the_assessment_days_after_it(tmp_path, wh):
    """Later days built first: the build of 04-20 must refresh the later days whose
    30-day period contains it, or 05-05 and 05-19 would miss 04-20 (built last)."""
    db_path = tmp_path / "reverse.duckdb"
    write_raw(db_path, assess_rows())
    for start, end in [("2026-05-05", "2026-05-20"), ("2026-04-20", "2026-04-20")]:
        window = BuildWindow(start=dt.date.fromisoformat(start), end=dt.date.fromisoformat(end))
        build(db_path, window, select="+platform_service_assessed")
    for preset in ("taobao_platform", "jd"):
        assert assessed(db_path, preset) == assessed(wh, preset)


# Targets and alerts (docs/metrics.md §11) ----------------------------------------------------


def target(db_path, shop: str, metric: str, period: str = "day") -> dict:
    return one(
        db_path,
        "select * from marts.kpi_target_status where shop_id = ? and metric = ? and period = ? "
        "order by period_start limit 1",
        [shop, metric, period],
    )


def test_a_shops_own_target_overrides_the_default(wh):
    row = target(wh, "tgt", "reply_rate")
    # 1 of 2 received replied: 0.5 meets the shop's 0.50, would miss the default 0.80.
    assert (row["value"], row["comparator"], row["target_value"], row["is_met"]) == (
        pytest.approx(0.5),
        ">=",
        pytest.approx(0.5),
        True,
    )
    assert row["target_source"] == "shop tgt: its own target"
    week = target(wh, "tgt", "reply_rate", "week")
    assert (week["period_start"], week["is_met"]) == (dt.date(2026, 6, 1), True)
    # Another shop keeps the ruleset's default, with its source.
    other = target(wh, "team", "reply_rate")
    assert other["target_value"] == pytest.approx(0.8)
    assert other["target_source"] == "80%以上的回复率通常被认为是达标的标准"
    # Default ≤ 20 s for the first response: 30 s misses it.
    first = target(wh, "tgt", "avg_first_response_s")
    assert (first["value"], first["target_value"], first["is_met"]) == (
        pytest.approx(30.0),
        pytest.approx(20.0),
        False,
    )


def test_a_null_value_is_neither_met_nor_missed(wh):
    row = target(wh, "tgt", "good_rate")
    assert (row["value"], row["is_met"]) == (None, None)
    below = query(
        wh,
        "select detail from marts.service_alerts where shop_id = 'tgt' "
        "and alert_type = 'below_target'",
    )
    # avg_first_response_s (30 > 20) only: reply_rate meets its target, good_rate is NULL,
    # avg_response_s 30 <= 60.
    assert [r["detail"] for r in below] == ["avg_first_response_s <= 20.0"]


def test_every_alert_type(wh):
    rows = query(
        wh,
        "select alert_type, buyer_id, figure, threshold, biz_date, occurred_at, detail "
        "from marts.service_alerts where shop_id = 'alert' order by alert_type, detail",
    )
    got = [(r["alert_type"], r["buyer_id"], r["figure"], r["threshold"]) for r in rows]
    assert got == [
        # 06-10: avg_first_response (5 + 1800 + 150) / 3, avg_response (5 + 1800 + 450) / 5,
        # good_rate 0 / 2 all miss their targets; reply_rate 4 / 5 = 0.8 meets 0.80.
        ("below_target", None, pytest.approx(1955 / 3), pytest.approx(20.0)),
        ("below_target", None, pytest.approx(451.0), pytest.approx(60.0)),
        ("below_target", None, pytest.approx(0.0), pytest.approx(0.8)),
        ("disappointed_rating", "d1", pytest.approx(1.0), None),
        ("disappointed_rating", "d2", pytest.approx(2.0), None),
        # 31 minutes; l2's wait of exactly 30 minutes is not late.
        ("late_reply", "l1", pytest.approx(1860.0), pytest.approx(1800.0)),
        ("slow_reception", "s1", pytest.approx(3.0), pytest.approx(3.0)),
        ("unreplied_buyer", "u1", None, None),
    ]
    assert {r["biz_date"] for r in rows} == {dt.date(2026, 6, 10)}
    late = rows[5]
    assert late["occurred_at"] == dt.datetime(2026, 6, 10, 11, 0)
    assert late["detail"] == "round 1 replied at 11:31:00"


def test_a_disappointed_rating_links_to_the_reception_it_rates(wh):
    rows = query(
        wh,
        "select * from marts.service_alerts where shop_id = 'alert' "
        "and alert_type = 'disappointed_rating' order by buyer_id",
    )
    same_day, day_before = rows
    # d1 has receptions on 06-09 and 06-10: the latest of the rating day counts.
    assert same_day["occurred_at"] == dt.datetime(2026, 6, 10, 9, 0)
    assert same_day["reception_biz_date"] == dt.date(2026, 6, 10)
    assert same_day["reception_first_message_at"] == dt.datetime(2026, 6, 10, 10, 0)
    assert same_day["detail"] == "rating r_d1: 1"
    # d2 wrote on 06-09 only: the previous day's reception.
    assert day_before["occurred_at"] == dt.datetime(2026, 6, 10, 9, 30)
    assert day_before["reception_biz_date"] == dt.date(2026, 6, 9)
    assert day_before["reception_first_message_at"] == dt.datetime(2026, 6, 9, 16, 0)
    assert day_before["detail"] == "rating r_d2: 2"


# Question topics (docs/metrics.md §12) -------------------------------------------------------


def test_question_topics_by_first_matching_message_with_seed_order_ties(wh):
    rows = query(
        wh,
        "select * from marts.question_topics_daily where shop_id = 'topic' order by topic",
    )
    got = {
        r["topic"]: (
            r["topic_name"],
            r["reception_cnt"],
            r["buyer_cnt"],
            r["inquiry_cnt"],
            r["inq_pay_final_cnt"],
            r["rating_cnt"],
            r["satisfied_cnt"],
        )
        for r in rows
    }
    assert got == {
        "size": ("尺码", 1, 1, 1, 0, 0, 0),  # r1: 尺码 beats 包邮 by seed order
        "return_exchange": ("退换货", 1, 1, 1, 0, 0, 0),  # r2: 退货 before 快递
        "other": ("其他", 1, 1, 1, 0, 1, 0),  # r3, rated 失望
        "price": ("价格/优惠", 1, 1, 1, 1, 1, 1),  # r5 paid and rated 5
    }
    by_topic = {r["topic"]: r for r in rows}
    assert by_topic["price"]["inq_to_pay_rate_final"] == pytest.approx(1.0)
    assert by_topic["other"]["good_rate"] == pytest.approx(0.0)
    assert by_topic["size"]["good_rate"] is None


def test_topic_terms_lists_frequent_words_of_other_buyer_messages(wh):
    # Only r3's buyer message fell into other (messages without text are skipped).
    assert other_topic_messages(wh) == ["好的谢谢"]
    assert other_topic_messages(wh, "team") == []
    # Segmented with jieba; single characters, numbers, punctuation and stopwords left out;
    # ties by the word (code point order).
    texts = ["宝宝能用吗", "宝宝三岁能用吗", "好的谢谢", "在吗 123 ！！", "这个适合孕妇吗"]
    assert frequent_terms(texts, top=3) == [("宝宝", 2), ("能用", 2), ("三岁", 1)]
