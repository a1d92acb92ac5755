"""The HTML page: one self-contained file (styles, ECharts and the figures inline, no
request at view time), labels in Chinese and English, printable.

The figures behind every chart are embedded once as JSON in
`<script type="application/json" id="kefu-report-data">`; the charts and the tables are
drawn from them. Tables are also written out as HTML so that the page reads (and prints)
even where scripts are blocked, e.g. in a mail client's preview."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from kefu.report.data import ALERT_ROWS_IN_PAGE, LEADERBOARD_COLUMNS

VENDOR_DIR = Path(__file__).parent / "vendor"
ECHARTS_JS = VENDOR_DIR / "echarts.min.js"
ASSETS_DIR = Path(__file__).parent / "assets"
PERIOD_TITLES = {
    "day": ("客服日报", "Daily CS scorecard"),
    "week": ("客服周报", "Weekly CS scorecard"),
    "month": ("客服月报", "Monthly CS scorecard"),
}


def fmt(value: Any, unit: str) -> str:
    """A figure as text: rates in %, seconds with 's', CNY with ¥, counts with separators."""
    if value is None:
        return "–"
    if unit == "rate":
        return f"{float(value) * 100:.1f}%"
    if unit == "seconds":
        return f"{float(value):,.1f} s"
    if unit == "cny":
        return f"¥{float(value):,.2f}"
    if unit == "count":
        return f"{int(value):,}"
    if unit == "ratio":
        return f"{float(value):.2f}"
    return str(value)


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _sort_key(value: Any) -> str:
    return "" if value is None else esc(value)


def table(columns: list[tuple[str, str, str, str]], rows: list[dict], table_id: str) -> str:
    """A sortable table: one <th> per column (中文 / English), data-v for sorting."""
    head = "".join(
        f'<th data-unit="{unit}"><span class="zh">{esc(zh)}</span>'
        f'<span class="en">{esc(en)}</span></th>'
        for _, zh, en, unit in columns
    )
    body = []
    for row in rows:
        missed = set(row.get("missed", ()))
        cells = []
        for key, _, _, unit in columns:
            value = row.get(key)
            css = ' class="miss"' if key in missed else ""
            cells.append(f'<td data-v="{_sort_key(value)}"{css}>{esc(fmt(value, unit))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        body.append(f'<tr><td colspan="{len(columns)}" class="na">无数据 No data</td></tr>')
    return (
        f'<table class="sortable" id="{table_id}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


MET_LABELS = {True: "达标 met", False: "未达标 missed", None: "–"}


def kpi_cards(kpis: list[dict]) -> str:
    cards = []
    for k in kpis:
        status = {True: "pass", False: "miss", None: "none"}[k["is_met"]]
        target = ""
        if k["target"] is not None:
            target = (
                f'<div class="target">目标 Target {esc(k["comparator"])} '
                f"{esc(fmt(k['target'], k['unit']))} · "
                f"{MET_LABELS[k['is_met']]}"
                "</div>"
            )
        arrow, trend = "", "flat"
        if k["delta"]:
            arrow = "▲" if k["delta"] > 0 else "▼"
            trend = "better" if k["is_better"] else "worse"
        change = (
            f'<div class="change {trend}">{arrow} 上期 Prev. {esc(fmt(k["previous"], k["unit"]))}'
            "</div>"
        )
        maturing = '<div class="maturing">未定 maturing</div>' if k["is_maturing"] else ""
        cards.append(
            f'<div class="card {status}" data-metric="{esc(k["metric"])}">'
            f'<div class="label"><span class="zh">{esc(k["zh"])}</span> '
            f'<span class="en">{esc(k["en"])}</span></div>'
            f'<div class="value">{esc(fmt(k["value"], k["unit"]))}</div>'
            f"{change}{target}{maturing}</div>"
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def section(section_id: str, zh: str, en: str, body: str, note: str = "") -> str:
    note_html = f'<p class="note">{note}</p>' if note else ""
    return (
        f'<section id="{section_id}"><h2>{esc(zh)} <span class="en">{esc(en)}</span></h2>'
        f"{note_html}{body}</section>"
    )


def chart(chart_id: str, height: int = 320) -> str:
    return f'<div class="chart" id="{chart_id}" style="height:{height}px"></div>'


NOT_AVAILABLE = (
    '<p class="na">暂无 Not available: the marts do not hold <code>{mart}</code> yet.</p>'
)


def _platform_section(data: dict) -> str:
    p = data["platform"]
    if not p["available"]:
        return NOT_AVAILABLE.format(mart="platform_service_assessed")
    columns = [
        ("preset", "平台口径", "Preset", "text"),
        ("assessment_days", "考核天数", "Days", "count"),
        ("assessed_cnt", "考核数", "Assessed", "count"),
        ("within_sla_cnt", "达标数", "Within SLA", "count"),
        ("sla_reply_rate", "回复率", "SLA reply rate", "rate"),
        ("pass_rate", "合格线", "Pass mark", "rate"),
        ("status", "是否合格", "Passing", "text"),
        ("capped_avg_response_s", "平均响应(封顶)", "Capped avg response", "seconds"),
    ]
    rows = []
    for r in p["rows"]:
        status = {True: "合格 pass", False: "不合格 fail", None: "– no pass mark"}[r["is_passing"]]
        rows.append(
            {**r, "status": status, "missed": ["status"] if r["is_passing"] is False else []}
        )
    note = (
        "Each platform's indicator over its assessment period ending "
        f"{esc(p['rows'][0]['biz_date']) if p['rows'] else ''}."
    )
    if p["source"] != "platform_service_assessed":
        note += " Pass marks not available (platform_service_assessed not published yet)."
    return (
        f'<p class="note">{note}</p>'
        + chart("chart-platform", 260)
        + table(columns, rows, "table-platform")
    )


def _alerts_section(data: dict) -> str:
    a = data["alerts"]
    if not a["available"]:
        return NOT_AVAILABLE.format(mart="service_alerts")
    counts = " · ".join(
        f"{esc(c['zh'])} {esc(c['en'])}: <b>{c['count']:,}</b>" for c in a["counts"]
    )
    columns = [
        ("biz_date", "日期", "Date", "text"),
        ("alert_type", "类型", "Type", "text"),
        ("agent_id", "客服", "Agent", "text"),
        ("buyer_id", "买家", "Buyer", "text"),
        ("occurred_at", "时间", "At", "text"),
        ("figure", "数值", "Figure", "text"),
        ("threshold", "阈值", "Threshold", "text"),
        ("detail", "说明", "Detail", "text"),
    ]
    shown = a["rows"][:ALERT_ROWS_IN_PAGE]
    more = ""
    if a["total"] > len(shown):
        more = (
            f'<p class="note">The first {len(shown):,} of {a["total"]:,} alerts; '
            "the workbook lists them all. 完整列表见 Excel。</p>"
        )
    summary = f"<p>共 Total <b>{a['total']:,}</b>{' — ' + counts if counts else ''}</p>"
    return summary + more + table(columns, shown, "table-alerts")


def _topics_section(data: dict) -> str:
    t = data["topics"]
    if not t["available"]:
        return NOT_AVAILABLE.format(mart="question_topics_daily")
    columns = [
        ("topic", "咨询主题", "Topic", "text"),
        ("reception_cnt", "接待数", "Receptions", "count"),
        ("buyer_cnt", "买家数", "Buyers", "count"),
        ("inquiry_cnt", "询单数", "Inquiries", "count"),
        ("inq_pay_final_cnt", "最终付款", "Paid (final)", "count"),
        ("inq_to_pay_rate_final", "转化率", "Conversion", "rate"),
        ("good_rate", "好评率", "Good rate", "rate"),
    ]
    return chart("chart-topics", 280) + table(columns, t["rows"], "table-topics")


def _sales_note(data: dict) -> str:
    t = data["totals"]
    return (
        f"Paid sales 付款总额 {fmt(t['paid_sales_amt'], 'cny')} = CS 客服 "
        f"{fmt(t['cs_sales_amt'], 'cny')} + silent 静默 {fmt(t['silent_sales_amt'], 'cny')}; "
        f"CS share 客服占比 {fmt(t['cs_sales_share'], 'rate')}. "
        f"客单价 AOV: 询单(客服) CS {fmt(t['cs_aov'], 'cny')} vs 静默 silent "
        f"{fmt(t['silent_aov'], 'cny')} (over buyer-days)."
    )


def embedded(data: dict) -> dict:
    """The figures the page embeds: all of them, but only the alerts the page lists (a
    large shop has thousands a month; the workbook holds them all)."""
    alerts = data["alerts"]
    return {**data, "alerts": {**alerts, "rows": alerts["rows"][:ALERT_ROWS_IN_PAGE]}}


def render_html(data: dict, source_name: str) -> str:
    zh, en = PERIOD_TITLES[data["period"]]
    period = data["period_start"]
    if data["period_end"] != data["period_start"]:
        period += f" – {data['period_end']}"
    leader_cols = list(LEADERBOARD_COLUMNS)
    funnel_note = (
        "询单 funnel of the period; days whose final payments can still arrive "
        "(docs/metrics.md §4.6) are shaded as 未定 maturing."
    )
    maturing_days = data["totals"]["maturing_day_cnt"]
    if maturing_days:
        funnel_note += f" <b>{maturing_days} day(s) of this period are still maturing.</b>"
    body = "".join(
        [
            section(
                "kpis",
                "核心指标",
                "Headline KPIs",
                kpi_cards(data["kpis"]),
                f"vs previous period 对比上期 {esc(data['previous_start'])}"
                f" – {esc(data['previous_end'])}; colour = target met (green) or missed "
                "(red); arrow colour = better / worse than before.",
            ),
            section(
                "leaderboard",
                "客服排行",
                "Agent leaderboard",
                table(leader_cols, data["leaderboard"], "table-leaderboard"),
                "Click a column to sort 点击表头排序. Red = misses its target. "
                "转化状态 shows whether the final conversion is settled.",
            ),
            section(
                "trend",
                "每日趋势",
                "Daily trend",
                chart("chart-trend-rates") + chart("chart-trend-times"),
                "Dashed lines: targets 目标线.",
            ),
            section(
                "waits",
                "等待分布",
                "Distribution of waits",
                chart("chart-waits"),
                "Rounds 轮次 by wait 等待时长 (30-second bins); the red line is the "
                "3-minute reply threshold (reply_sla_s).",
            ),
            section(
                "load",
                "接待压力",
                "Reception load (hour × day)",
                chart("chart-load", 150 + 22 * len(data["heatmap"]["dates"])),
                "Buyers asking per hour at shop level: distinct buyers who opened a "
                "round in that hour (a buyer writing to two accounts counts once).",
            ),
            section(
                "funnel",
                "转化漏斗",
                "Conversion funnel",
                chart("chart-funnel", 300) + chart("chart-funnel-daily"),
                funnel_note,
            ),
            section(
                "sales",
                "静默 vs 询单",
                "Silent vs served sales",
                chart("chart-sales"),
                esc(_sales_note(data)),
            ),
            section("platform", "平台考核", "Platform assessment", _platform_section(data)),
            section("alerts", "预警", "Alerts", _alerts_section(data)),
            section("topics", "咨询主题", "Question topics", _topics_section(data)),
        ]
    )
    blob = json.dumps(embedded(data), ensure_ascii=False, separators=(",", ":"))
    blob = blob.replace("</", "<\\/")
    style = (ASSETS_DIR / "report.css").read_text(encoding="utf-8")
    script = (ASSETS_DIR / "report.js").read_text(encoding="utf-8")
    echarts = ECHARTS_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")
    title = f"{zh} {en} · {data['shop_id']} · {period}"
    return (
        '<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{style}</style></head><body>"
        f'<header><h1>{esc(zh)} <span class="en">{esc(en)}</span></h1>'
        f'<p class="meta">店铺 Shop <b>{esc(data["shop_id"])}</b> · 周期 Period '
        f"<b>{esc(period)}</b> · 数据截至 Data as of <b>{esc(data['as_of_date'])}</b></p>"
        "</header><main>"
        f"{body}</main>"
        f"<footer>kefu report · source {esc(source_name)} · figures per the metric rules "
        "(rates from summed parts; buyer counts over several days are buyer-days).</footer>"
        f'<script type="application/json" id="kefu-report-data">{blob}</script>'
        f"<script>{echarts}</script><script>{script}</script></body></html>\n"
    )
