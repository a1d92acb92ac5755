"""The figures of one shop's report, read from the marts into plain JSON-ready values.

Everything is computed from summed numerators and denominators (docs/metrics.md §8): a rate
over a week or a month is Σ numerator / Σ denominator of the daily rows, never an
average of daily rates. Buyer counts summed over days are buyer-days (§9)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import duckdb

from kefu.report.periods import MIN_HEATMAP_DAYS, MIN_TREND_DAYS, Period, date_range
from kefu.report.targets import DEFAULT_TARGETS, HEADLINE_METRICS, Target

SLA_S = 180  # the "3-minute" line of the wait histogram (reply_sla_s, docs/metrics.md §0)
WAIT_BIN_S = 30
WAIT_BINS_UP_TO_S = 600
ALERT_ROWS_IN_PAGE = 300  # the page lists this many alerts; the workbook lists them all
ALERT_TYPES = {
    "disappointed_rating": ("差评/失望", "Disappointed rating"),
    "slow_reception": ("慢响应", "Slow reception"),
    "unreplied_buyer": ("未回复", "Unreplied buyer"),
    "below_target": ("未达标", "Below target"),
    "late_reply": ("超时回复", "Late reply"),
}
FUNNEL_STAGES = (
    ("consult_buyer_cnt", "咨询", "Consulted"),
    ("inquiry_buyer_cnt", "询单", "Inquiries"),
    ("inq_order_cnt", "下单", "Ordered"),
    ("inq_pay_next_day_cnt", "次日付款", "Paid next day"),
    ("inq_pay_final_cnt", "最终付款", "Paid (final)"),
)


def plain(value: Any) -> Any:
    """A JSON-ready value: Decimal → float, dates → ISO text."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return value


def ratio(numerator: Any, denominator: Any, digits: int | None = None) -> float | None:
    """numerator / denominator, None when the denominator is 0 or missing (§8)."""
    if not denominator or numerator is None:
        return None
    value = float(numerator) / float(denominator)
    return round(value, digits) if digits is not None else value


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [{n: plain(v) for n, v in zip(names, row, strict=True)} for row in cursor.fetchall()]


def mart_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'"
    ).fetchall()
    return {row[0] for row in rows}


def as_of_date(con: duckdb.DuckDBPyConnection, tables: set[str]) -> dt.date | None:
    """The publication's as-of date, else the last biz_date of shop_daily_kpis."""
    if "publication" in tables:
        row = con.execute("select max(as_of_date) from marts.publication").fetchone()
        if row and row[0]:
            return row[0]
    row = con.execute("select max(biz_date) from marts.shop_daily_kpis").fetchone()
    return row[0] if row else None


def shops(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("select distinct shop_id from marts.shop_daily_kpis order by 1").fetchall()
    return [row[0] for row in rows]


# ---------------------------------------------------------------- headline KPIs

SHOP_TOTALS_SQL = """
    with shop as (
        select
            sum(consult_buyer_cnt) as consult_buyer_cnt,
            sum(received_buyer_cnt) as received_buyer_cnt,
            sum(replied_buyer_cnt) as replied_buyer_cnt,
            sum(first_response_total_s) as first_response_total_s,
            sum(first_response_cnt) as first_response_cnt,
            sum(response_total_s) as response_total_s,
            sum(response_cnt) as response_cnt,
            sum(replied_3min_round_cnt) as replied_3min_round_cnt,
            sum(round_cnt) as round_cnt,
            sum(inquiry_buyer_cnt) as inquiry_buyer_cnt,
            sum(inq_order_cnt) as inq_order_cnt,
            sum(inq_pay_next_day_cnt) as inq_pay_next_day_cnt,
            sum(inq_pay_final_cnt) as inq_pay_final_cnt,
            count(*) filter (where not is_final) as maturing_day_cnt,
            sum(paid_sales_amt) as paid_sales_amt,
            sum(cs_sales_amt) as cs_sales_amt,
            sum(silent_sales_amt) as silent_sales_amt,
            sum(cs_sales_buyer_cnt) as cs_sales_buyer_cnt,
            sum(silent_buyer_cnt) as silent_buyer_cnt
        from marts.shop_daily_kpis
        where shop_id = ? and biz_date between ? and ?
    ),
    ratings as (
        select sum(rating_cnt) as rating_cnt, sum(satisfied_cnt) as satisfied_cnt
        from marts.agent_daily_kpis
        where shop_id = ? and biz_date between ? and ?
    )
    select * from shop cross join ratings
"""


def shop_totals(con: duckdb.DuckDBPyConnection, shop: str, start: dt.date, end: dt.date) -> dict:
    """Summed parts of the shop's figures over [start, end], with the rates taken from them."""
    row = _rows(con, SHOP_TOTALS_SQL, [shop, start, end, shop, start, end])[0]
    t = {k: (v if v is not None else 0) for k, v in row.items()}
    t.update(
        reply_rate=ratio(t["replied_buyer_cnt"], t["received_buyer_cnt"]),
        avg_first_response_s=ratio(t["first_response_total_s"], t["first_response_cnt"]),
        avg_response_s=ratio(t["response_total_s"], t["response_cnt"]),
        reply_3min_rate=ratio(t["replied_3min_round_cnt"], t["round_cnt"]),
        inq_to_pay_rate_final=ratio(t["inq_pay_final_cnt"], t["inquiry_buyer_cnt"]),
        cs_sales_share=ratio(t["cs_sales_amt"], t["paid_sales_amt"]),
        cs_aov=ratio(t["cs_sales_amt"], t["cs_sales_buyer_cnt"], 2),
        silent_aov=ratio(t["silent_sales_amt"], t["silent_buyer_cnt"], 2),
        good_rate=ratio(t["satisfied_cnt"], t["rating_cnt"]),
    )
    return t


def targets_for(con: duckdb.DuckDBPyConnection, tables: set[str], shop: str) -> dict[str, Target]:
    """The shop's targets: those kpi_target_status applies to its agents, else the defaults."""
    targets = dict(DEFAULT_TARGETS)
    if "kpi_target_status" not in tables:
        return targets
    rows = con.execute(
        """
        select metric, any_value(comparator), any_value(target_value)
        from marts.kpi_target_status
        where shop_id = ?
        group by metric
        """,
        [shop],
    ).fetchall()
    for metric, comparator, value in rows:
        source = "kpi_target_status"
        if metric in targets:
            source = targets[metric].source if targets[metric].value == value else source
        targets[metric] = Target(metric, comparator, float(value), source)
    return targets


def headline(now: dict, before: dict, targets: dict[str, Target]) -> list[dict]:
    """One card per headline metric: value, previous period, change, target and status."""
    cards = []
    for metric in HEADLINE_METRICS:
        value, previous = now.get(metric.key), before.get(metric.key)
        target = targets.get(metric.key)
        delta = None if value is None or previous is None else float(value) - float(previous)
        better = None
        if delta:
            better = (delta > 0) == metric.higher_is_better
        cards.append(
            {
                "metric": metric.key,
                "zh": metric.zh,
                "en": metric.en,
                "unit": metric.unit,
                "value": value,
                "previous": previous,
                "delta": delta,
                "is_better": better,
                "target": target.value if target else None,
                "comparator": target.comparator if target else None,
                "is_met": target.is_met(value) if target else None,
                "is_maturing": metric.key == "inq_to_pay_rate_final"
                and now["maturing_day_cnt"] > 0,
            }
        )
    return cards


# ---------------------------------------------------------------- leaderboard

LEADERBOARD_SQL = """
    with agents as (
        select
            agent_id,
            max(agent_name) as agent_name,
            sum(received_buyer_cnt) as received_buyer_cnt,
            sum(replied_buyer_cnt) as replied_buyer_cnt,
            sum(first_response_total_s) as first_response_total_s,
            sum(first_response_cnt) as first_response_cnt,
            sum(response_total_s) as response_total_s,
            sum(response_cnt) as response_cnt,
            sum(replied_3min_round_cnt) as replied_3min_round_cnt,
            sum(round_cnt) as round_cnt,
            sum(inquiry_buyer_cnt) as inquiry_buyer_cnt,
            sum(inq_pay_final_cnt) as inq_pay_final_cnt,
            bool_and(is_final) as is_final,
            sum(cs_sales_amt) as cs_sales_amt,
            sum(cs_sales_buyer_cnt) as cs_sales_buyer_cnt,
            sum(rating_cnt) as rating_cnt,
            sum(satisfied_cnt) as satisfied_cnt
        from marts.agent_daily_kpis
        where shop_id = ? and biz_date between ? and ?
        group by agent_id
    )
    select * from agents
    order by received_buyer_cnt desc, cs_sales_amt desc, agent_id
"""

LEADERBOARD_COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    # key, 中文, English, unit
    ("agent_id", "客服账号", "Agent", "text"),
    ("agent_name", "姓名", "Name", "text"),
    ("received_buyer_cnt", "接待人数", "Received", "count"),
    ("reply_rate", "回复率", "Reply rate", "rate"),
    ("avg_first_response_s", "首次响应", "First resp.", "seconds"),
    ("avg_response_s", "平均响应", "Avg resp.", "seconds"),
    ("reply_3min_rate", "3分钟回复率", "3-min rate", "rate"),
    ("inquiry_buyer_cnt", "询单人数", "Inquiries", "count"),
    ("inq_to_pay_rate_final", "询单→最终付款", "Final conv.", "rate"),
    ("conversion_status", "转化状态", "Conv. status", "text"),
    ("cs_sales_amt", "客服销售额", "Sales", "cny"),
    ("cs_aov", "客单价", "AOV", "cny"),
    ("good_rate", "好评率", "Good rate", "rate"),
    ("alert_cnt", "预警", "Alerts", "count"),
)


def leaderboard(
    con: duckdb.DuckDBPyConnection,
    tables: set[str],
    shop: str,
    period: Period,
    targets: dict[str, Target],
) -> list[dict]:
    rows = _rows(con, LEADERBOARD_SQL, [shop, period.start, period.end])
    alerts: dict[str, int] = {}
    if "service_alerts" in tables:
        alerts = dict(
            con.execute(
                "select agent_id, count(*) from marts.service_alerts"
                " where shop_id = ? and biz_date between ? and ? group by agent_id",
                [shop, period.start, period.end],
            ).fetchall()
        )
    board = []
    for r in rows:
        row = {
            "agent_id": r["agent_id"],
            "agent_name": r["agent_name"],
            "received_buyer_cnt": r["received_buyer_cnt"],
            "reply_rate": ratio(r["replied_buyer_cnt"], r["received_buyer_cnt"]),
            "avg_first_response_s": ratio(r["first_response_total_s"], r["first_response_cnt"]),
            "avg_response_s": ratio(r["response_total_s"], r["response_cnt"]),
            "reply_3min_rate": ratio(r["replied_3min_round_cnt"], r["round_cnt"]),
            "inquiry_buyer_cnt": r["inquiry_buyer_cnt"],
            "inq_to_pay_rate_final": ratio(r["inq_pay_final_cnt"], r["inquiry_buyer_cnt"]),
            "conversion_status": "final 已定" if r["is_final"] else "maturing 未定",
            "cs_sales_amt": r["cs_sales_amt"],
            "cs_aov": ratio(r["cs_sales_amt"], r["cs_sales_buyer_cnt"], 2),
            "good_rate": ratio(r["satisfied_cnt"], r["rating_cnt"]),
            "alert_cnt": alerts.get(r["agent_id"], 0) if "service_alerts" in tables else None,
        }
        row["missed"] = [m for m, t in targets.items() if m in row and t.is_met(row[m]) is False]
        board.append(row)
    return board


# ---------------------------------------------------------------- daily series

DAILY_SQL = """
    with days as (
        select unnest(?::date[]) as biz_date
    ),
    ratings as (
        select biz_date, sum(rating_cnt) as rating_cnt, sum(satisfied_cnt) as satisfied_cnt
        from marts.agent_daily_kpis
        where shop_id = ? and biz_date between ? and ?
        group by biz_date
    )
    select
        days.biz_date as day,
        shop.* exclude (biz_date),
        ratings.rating_cnt,
        ratings.satisfied_cnt
    from days
    left join marts.shop_daily_kpis as shop
        on shop.shop_id = ? and shop.biz_date = days.biz_date
    left join ratings on ratings.biz_date = days.biz_date
    order by days.biz_date
"""


def daily(con: duckdb.DuckDBPyConnection, shop: str, start: dt.date, end: dt.date) -> list[dict]:
    """One row per day of [start, end] (days without activity have None figures)."""
    rows = _rows(con, DAILY_SQL, [date_range(start, end), shop, start, end, shop])
    out = []
    for r in rows:
        out.append(
            {
                "date": r["day"],
                "has_data": r["shop_id"] is not None,
                "received_buyer_cnt": r["received_buyer_cnt"],
                "reply_rate": ratio(r["replied_buyer_cnt"], r["received_buyer_cnt"]),
                "avg_first_response_s": ratio(r["first_response_total_s"], r["first_response_cnt"]),
                "avg_response_s": ratio(r["response_total_s"], r["response_cnt"]),
                "reply_3min_rate": ratio(r["replied_3min_round_cnt"], r["round_cnt"]),
                "good_rate": ratio(r["satisfied_cnt"], r["rating_cnt"]),
                **{key: r[key] for key, _, _ in FUNNEL_STAGES},
                "is_final": r["is_final"],
                "is_next_day_final": r["is_next_day_final"],
                "paid_sales_amt": r["paid_sales_amt"],
                "cs_sales_amt": r["cs_sales_amt"],
                "silent_sales_amt": r["silent_sales_amt"],
                "cs_sales_share": ratio(r["cs_sales_amt"], r["paid_sales_amt"]),
                "cs_aov": ratio(r["cs_sales_amt"], r["cs_sales_buyer_cnt"], 2),
                "silent_aov": ratio(r["silent_sales_amt"], r["silent_buyer_cnt"], 2),
            }
        )
    return out


# ---------------------------------------------------------------- waits and load

WAITS_SQL = """
    select
        count(*) as round_cnt,
        count(*) filter (where not is_replied) as unreplied_cnt,
        count(*) filter (where is_replied and wait_s <= ?) as within_sla_cnt,
        count(*) filter (where is_replied and wait_s > ? and wait_s <= 1800) as tail_cnt,
        count(*) filter (where is_replied and wait_s > 1800) as late_cnt
    from marts.fct_rounds
    where shop_id = ? and biz_date between ? and ?
"""


def waits(con: duckdb.DuckDBPyConnection, shop: str, period: Period) -> dict:
    """Histogram of round waits in bins of WAIT_BIN_S up to WAIT_BINS_UP_TO_S; a bin
    (lo, hi] holds waits above lo up to hi, so a wait of exactly 180 s is left of the
    3-minute line (within the SLA, §3)."""
    row = con.execute(
        WAITS_SQL, [SLA_S, WAIT_BINS_UP_TO_S, shop, period.start, period.end]
    ).fetchone()
    n_bins = WAIT_BINS_UP_TO_S // WAIT_BIN_S
    counts = dict(
        con.execute(
            """
            select greatest(ceil(wait_s / ?) - 1, 0)::int as bin, count(*)
            from marts.fct_rounds
            where shop_id = ? and biz_date between ? and ? and is_replied and wait_s <= ?
            group by bin
            """,
            [WAIT_BIN_S, shop, period.start, period.end, WAIT_BINS_UP_TO_S],
        ).fetchall()
    )
    round_cnt, unreplied, within, tail, late = (int(v or 0) for v in row)
    return {
        "bin_s": WAIT_BIN_S,
        "sla_s": SLA_S,
        "bins": [[i * WAIT_BIN_S, (i + 1) * WAIT_BIN_S, counts.get(i, 0)] for i in range(n_bins)],
        "round_cnt": round_cnt,
        "within_sla_cnt": within,
        "over_10min_cnt": tail,
        "late_cnt": late,
        "unreplied_cnt": unreplied,
    }


def load_heatmap(con: duckdb.DuckDBPyConnection, shop: str, start: dt.date, end: dt.date) -> dict:
    """接待压力 by (day, hour) at shop level: distinct buyers who opened a round in that hour
    (from fct_rounds, so a buyer writing to two accounts counts once), with the buyer
    messages summed from reception_load_hourly (messages are not double-counted)."""
    buyers = con.execute(
        """
        select biz_date, hour(asked_at)::int as hour, count(distinct buyer_id)
        from marts.fct_rounds
        where shop_id = ? and biz_date between ? and ?
        group by all
        """,
        [shop, start, end],
    ).fetchall()
    messages = con.execute(
        """
        select biz_date, hour::int, sum(buyer_msg_cnt)
        from marts.reception_load_hourly
        where shop_id = ? and biz_date between ? and ?
        group by all
        """,
        [shop, start, end],
    ).fetchall()
    days = date_range(start, end)
    index = {d: i for i, d in enumerate(days)}
    cells = [[hour, index[day], int(n)] for day, hour, n in buyers]
    msgs = [[hour, index[day], int(n)] for day, hour, n in messages]
    return {
        "dates": [d.isoformat() for d in days],
        "cells": sorted(cells),
        "messages": sorted(msgs),
        "max": max((c[2] for c in cells), default=0),
    }


# ---------------------------------------------------------------- v2 marts (optional)


def platform(con: duckdb.DuckDBPyConnection, tables: set[str], shop: str, day: dt.date) -> dict:
    """The platforms' 30-day indicators on the period's last day: platform_service_assessed
    when present (with pass marks); otherwise summed here from platform_service_daily over
    the 30 days ending that day, without pass marks."""
    if "platform_service_assessed" in tables:
        rows = _rows(
            con,
            """
            select preset, biz_date, assessment_days, assessed_cnt, within_sla_cnt,
                sla_reply_rate, capped_avg_response_s, pass_rate, is_passing
            from marts.platform_service_assessed
            where shop_id = ? and biz_date = (
                select max(biz_date) from marts.platform_service_assessed
                where shop_id = ? and biz_date <= ?
            )
            order by preset
            """,
            [shop, shop, day],
        )
        return {"available": True, "source": "platform_service_assessed", "rows": rows}
    if "platform_service_daily" not in tables:
        return {"available": False, "source": None, "rows": []}
    rows = _rows(
        con,
        """
        select
            preset,
            ?::date as biz_date,
            30 as assessment_days,
            sum(assessed_cnt) as assessed_cnt,
            sum(within_sla_cnt) as within_sla_cnt,
            sum(within_sla_cnt) / nullif(sum(assessed_cnt), 0) as sla_reply_rate,
            sum(capped_wait_total_s) / nullif(sum(capped_round_cnt), 0)
                as capped_avg_response_s,
            null::double as pass_rate,
            null::boolean as is_passing
        from marts.platform_service_daily
        where shop_id = ? and biz_date between ?::date - 29 and ?
        group by preset
        order by preset
        """,
        [day, shop, day, day],
    )
    return {"available": bool(rows), "source": "platform_service_daily", "rows": rows}


def alerts(con: duckdb.DuckDBPyConnection, tables: set[str], shop: str, period: Period) -> dict:
    if "service_alerts" not in tables:
        return {"available": False, "counts": [], "rows": [], "total": 0}
    rows = _rows(
        con,
        """
        select biz_date, alert_type, agent_id, buyer_id, occurred_at, figure, threshold, detail
        from marts.service_alerts
        where shop_id = ? and biz_date between ? and ?
        order by biz_date, occurred_at, alert_type, agent_id, buyer_id
        """,
        [shop, period.start, period.end],
    )
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["alert_type"]] = counts.get(r["alert_type"], 0) + 1
    labelled = [
        {
            "alert_type": t,
            "zh": ALERT_TYPES.get(t, (t, t))[0],
            "en": ALERT_TYPES.get(t, (t, t))[1],
            "count": n,
        }
        for t, n in sorted(counts.items())
    ]
    return {"available": True, "counts": labelled, "rows": rows, "total": len(rows)}


def topics(con: duckdb.DuckDBPyConnection, tables: set[str], shop: str, period: Period) -> dict:
    if "question_topics_daily" not in tables:
        return {"available": False, "rows": []}
    rows = _rows(
        con,
        """
        select
            topic,
            sum(reception_cnt) as reception_cnt,
            sum(buyer_cnt) as buyer_cnt,
            sum(inquiry_cnt) as inquiry_cnt,
            sum(inq_pay_final_cnt) as inq_pay_final_cnt,
            sum(rating_cnt) as rating_cnt,
            sum(satisfied_cnt) as satisfied_cnt
        from marts.question_topics_daily
        where shop_id = ? and biz_date between ? and ?
        group by topic
        order by reception_cnt desc, topic
        """,
        [shop, period.start, period.end],
    )
    for r in rows:
        r["inq_to_pay_rate_final"] = ratio(r["inq_pay_final_cnt"], r["inquiry_cnt"])
        r["good_rate"] = ratio(r["satisfied_cnt"], r["rating_cnt"])
    return {"available": True, "rows": rows}


# ---------------------------------------------------------------- the whole report


def report_data(
    con: duckdb.DuckDBPyConnection, shop: str, period: Period, as_of: dt.date | None
) -> dict:
    """Every figure of one shop's report for one period."""
    tables = mart_tables(con)
    shown_end = min(period.end, as_of) if as_of else period.end
    shown_end = max(shown_end, period.start)
    before = period.previous()
    targets = targets_for(con, tables, shop)
    now = shop_totals(con, shop, period.start, period.end)
    prev = shop_totals(con, shop, before.start, before.end)
    trend_start = period.context_start(MIN_TREND_DAYS) if period.kind == "day" else period.start
    heat_start = period.context_start(MIN_HEATMAP_DAYS) if period.kind == "day" else period.start
    trend = daily(con, shop, min(trend_start, period.start), shown_end)
    in_period = [d for d in trend if d["date"] >= period.start.isoformat()]
    return {
        "shop_id": shop,
        "period": period.kind,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "shown_end": shown_end.isoformat(),
        "previous_start": before.start.isoformat(),
        "previous_end": before.end.isoformat(),
        "as_of_date": as_of.isoformat() if as_of else None,
        "marts": sorted(tables),
        "targets": {
            m: {"comparator": t.comparator, "value": t.value, "source": t.source}
            for m, t in targets.items()
        },
        "totals": now,
        "previous_totals": prev,
        "kpis": headline(now, prev, targets),
        "leaderboard": leaderboard(con, tables, shop, period, targets),
        "trend": trend,
        "period_days": in_period,
        "funnel": [{"key": k, "zh": zh, "en": en, "value": now[k]} for k, zh, en in FUNNEL_STAGES],
        "waits": waits(con, shop, period),
        "heatmap": load_heatmap(con, shop, heat_start, shown_end),
        "platform": platform(con, tables, shop, shown_end),
        "alerts": alerts(con, tables, shop, period),
        "topics": topics(con, tables, shop, period),
    }
