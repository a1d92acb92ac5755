"""The Excel workbook: the page's tables as sheets (frozen headers, number formats for
percent, seconds and CNY), native Excel charts for the trend and the leaderboard, and
every text cell passed through `spreadsheet_safe` so that no cell is ever evaluated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xlsxwriter

from kefu.report.data import FUNNEL_STAGES, LEADERBOARD_COLUMNS
from kefu.safe_text import spreadsheet_safe

NUMBER_FORMATS = {
    "rate": "0.0%",
    "seconds": '#,##0.0" s"',
    "cny": '"¥"#,##0.00',
    "count": "#,##0",
    "ratio": "0.00",
}
LEADERBOARD_CHART_ROWS = 20  # the chart shows the first rows of the sheet (most received)

Column = tuple[str, str, str, str]  # key, 中文, English, unit


class Sheets:
    """A workbook writer that knows the report's units."""

    def __init__(self, path: Path) -> None:
        self.book = xlsxwriter.Workbook(
            str(path),
            {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
        )
        self.head = self.book.add_format(
            {"bold": True, "bg_color": "#F2F2F2", "text_wrap": True, "valign": "bottom"}
        )
        self.formats = {
            unit: self.book.add_format({"num_format": f}) for unit, f in NUMBER_FORMATS.items()
        }
        self.miss = {
            unit: self.book.add_format({"num_format": f, "font_color": "#CF222E"})
            for unit, f in NUMBER_FORMATS.items()
        }

    def cell(self, sheet: Any, row: int, col: int, value: Any, unit: str, miss: bool = False):
        if value is None:
            sheet.write_blank(row, col, None)
        elif unit == "text" or isinstance(value, str):
            sheet.write_string(row, col, str(spreadsheet_safe(str(value))))
        elif isinstance(value, bool):
            sheet.write_boolean(row, col, value)
        else:
            formats = self.miss if miss else self.formats
            sheet.write_number(row, col, float(value), formats.get(unit))

    def table(self, name: str, columns: list[Column], rows: list[dict], note: str = "") -> Any:
        """A sheet with one header row (中文 / English), frozen, and one row per item."""
        sheet = self.book.add_worksheet(name)
        for col, (_, zh, en, unit) in enumerate(columns):
            sheet.write_string(0, col, f"{zh} / {en}", self.head)
            sheet.set_column(col, col, 22 if unit == "text" else 14)
        sheet.set_row(0, 32)
        sheet.freeze_panes(1, 0)
        for r, row in enumerate(rows, start=1):
            missed = set(row.get("missed", ()))
            for col, (key, _, _, unit) in enumerate(columns):
                self.cell(sheet, r, col, row.get(key), unit, key in missed)
        if note:
            sheet.write_string(len(rows) + 2, 0, str(spreadsheet_safe(note)))
        if rows:
            sheet.autofilter(0, 0, len(rows), len(columns) - 1)
        return sheet


KPI_COLUMNS: list[Column] = [
    ("zh", "指标", "Metric (zh)", "text"),
    ("en", "指标", "Metric (en)", "text"),
    ("value", "本期", "This period", "unit"),
    ("previous", "上期", "Previous", "unit"),
    ("comparator", "比较", "Comparator", "text"),
    ("target", "目标", "Target", "unit"),
    ("status", "状态", "Status", "text"),
]
TREND_COLUMNS: list[Column] = [
    ("date", "日期", "Date", "text"),
    ("received_buyer_cnt", "接待人数", "Received", "count"),
    ("reply_rate", "回复率", "Reply rate", "rate"),
    ("reply_3min_rate", "3分钟回复率", "3-min rate", "rate"),
    ("avg_first_response_s", "首次响应", "First response", "seconds"),
    ("avg_response_s", "平均响应", "Avg response", "seconds"),
    ("good_rate", "好评率", "Good rate", "rate"),
    ("target_reply_rate", "回复率目标", "Reply-rate target", "rate"),
    ("target_avg_first_response_s", "首响目标", "First-response target", "seconds"),
    ("target_avg_response_s", "平响目标", "Avg-response target", "seconds"),
]
FUNNEL_COLUMNS: list[Column] = [
    ("date", "日期", "Date", "text"),
    *[(key, zh, en, "count") for key, zh, en in FUNNEL_STAGES],
    ("maturity", "成熟度", "Maturity", "text"),
]
SALES_COLUMNS: list[Column] = [
    ("date", "日期", "Date", "text"),
    ("paid_sales_amt", "付款总额", "Paid sales", "cny"),
    ("cs_sales_amt", "客服销售额", "CS sales", "cny"),
    ("silent_sales_amt", "静默销售额", "Silent sales", "cny"),
    ("cs_sales_share", "客服占比", "CS share", "rate"),
    ("cs_aov", "询单客单价", "CS AOV", "cny"),
    ("silent_aov", "静默客单价", "Silent AOV", "cny"),
]
WAIT_COLUMNS: list[Column] = [
    ("from_s", "等待自(秒)", "Wait above (s)", "seconds"),
    ("to_s", "至(秒)", "Up to (s)", "seconds"),
    ("round_cnt", "轮次", "Rounds", "count"),
    ("within_sla", "3分钟内", "Within 3 min", "text"),
]
LOAD_COLUMNS: list[Column] = [("date", "日期", "Date", "text")] + [
    (f"h{h}", f"{h}时", f"{h}:00", "count") for h in range(24)
]
PLATFORM_COLUMNS: list[Column] = [
    ("preset", "平台口径", "Preset", "text"),
    ("biz_date", "截至", "Day", "text"),
    ("assessment_days", "考核天数", "Days", "count"),
    ("assessed_cnt", "考核数", "Assessed", "count"),
    ("within_sla_cnt", "达标数", "Within SLA", "count"),
    ("sla_reply_rate", "回复率", "SLA reply rate", "rate"),
    ("pass_rate", "合格线", "Pass mark", "rate"),
    ("passing", "是否合格", "Passing", "text"),
    ("capped_avg_response_s", "平均响应(封顶)", "Capped avg response", "seconds"),
]
ALERT_COLUMNS: list[Column] = [
    ("biz_date", "日期", "Date", "text"),
    ("alert_type", "类型", "Type", "text"),
    ("agent_id", "客服", "Agent", "text"),
    ("buyer_id", "买家", "Buyer", "text"),
    ("occurred_at", "时间", "At", "text"),
    ("figure", "数值", "Figure", "ratio"),
    ("threshold", "阈值", "Threshold", "ratio"),
    ("detail", "说明", "Detail", "text"),
]
TOPIC_COLUMNS: list[Column] = [
    ("topic", "咨询主题", "Topic", "text"),
    ("reception_cnt", "接待数", "Receptions", "count"),
    ("buyer_cnt", "买家数", "Buyers", "count"),
    ("inquiry_cnt", "询单数", "Inquiries", "count"),
    ("inq_pay_final_cnt", "最终付款", "Paid (final)", "count"),
    ("inq_to_pay_rate_final", "转化率", "Conversion", "rate"),
    ("rating_cnt", "评价数", "Ratings", "count"),
    ("good_rate", "好评率", "Good rate", "rate"),
]
SHEET_NAMES = (
    "KPIs 核心指标",
    "Leaderboard 客服排行",
    "Trend 每日趋势",
    "Waits 等待分布",
    "Load 接待压力",
    "Funnel 转化",
    "Sales 销售",
    "Platform 平台考核",
    "Alerts 预警",
    "Topics 咨询主题",
)
NA = "Not available 暂无: the marts do not hold {mart} yet."


def _kpi_sheet(w: Sheets, data: dict) -> None:
    sheet = w.book.add_worksheet(SHEET_NAMES[0])
    for col, (_, zh, en, _) in enumerate(KPI_COLUMNS):
        sheet.write_string(0, col, f"{zh} / {en}", w.head)
        sheet.set_column(col, col, 24 if col < 2 else 14)
    sheet.freeze_panes(1, 0)
    for r, k in enumerate(data["kpis"], start=1):
        status = {True: "met 达标", False: "missed 未达标", None: ""}[k["is_met"]]
        if k["is_maturing"]:
            status = (status + " maturing 未定").strip()
        row = {**k, "status": status}
        for col, (key, _, _, unit) in enumerate(KPI_COLUMNS):
            unit = k["unit"] if unit == "unit" else unit
            w.cell(sheet, r, col, row.get(key), unit, key == "value" and k["is_met"] is False)
    sheet.write_string(len(data["kpis"]) + 2, 0, f"Shop 店铺: {spreadsheet_safe(data['shop_id'])}")
    sheet.write_string(
        len(data["kpis"]) + 3,
        0,
        f"Period 周期: {data['period_start']} – {data['period_end']}; previous 上期: "
        f"{data['previous_start']} – {data['previous_end']}; as of 截至 {data['as_of_date']}",
    )


def _leaderboard_sheet(w: Sheets, data: dict) -> None:
    rows = data["leaderboard"]
    columns = list(LEADERBOARD_COLUMNS)
    sheet = w.table(SHEET_NAMES[1], columns, rows, "Red: misses its target 未达标.")
    if not rows:
        return
    n = min(len(rows), LEADERBOARD_CHART_ROWS)
    keys = [c[0] for c in columns]
    chart = w.book.add_chart({"type": "bar"})
    for key, colour in (("received_buyer_cnt", "#4E79A7"), ("inquiry_buyer_cnt", "#F28E2B")):
        col = keys.index(key)
        chart.add_series(
            {
                "name": [SHEET_NAMES[1], 0, col],
                "categories": [SHEET_NAMES[1], 1, 0, n, 0],
                "values": [SHEET_NAMES[1], 1, col, n, col],
                "fill": {"color": colour},
            }
        )
    chart.set_title({"name": f"接待与询单 Received and inquiries (top {n})"})
    chart.set_y_axis({"reverse": True})
    chart.set_size({"width": 640, "height": max(320, 22 * n + 80)})
    sheet.insert_chart(1, len(columns) + 1, chart)


def _trend_sheet(w: Sheets, data: dict) -> None:
    targets = data["targets"]
    rows = [
        {
            **d,
            **{
                f"target_{m}": (targets.get(m) or {}).get("value")
                for m in ("reply_rate", "avg_first_response_s", "avg_response_s")
            },
        }
        for d in data["trend"]
    ]
    sheet = w.table(SHEET_NAMES[2], TREND_COLUMNS, rows)
    n = len(rows)
    if not n:
        return
    keys = [c[0] for c in TREND_COLUMNS]

    def line(title: str, series: list[tuple[str, bool]], percent: bool):
        chart = w.book.add_chart({"type": "line"})
        for key, dashed in series:
            col = keys.index(key)
            spec = {
                "name": [SHEET_NAMES[2], 0, col],
                "categories": [SHEET_NAMES[2], 1, 0, n, 0],
                "values": [SHEET_NAMES[2], 1, col, n, col],
            }
            if dashed:
                spec["line"] = {"dash_type": "dash", "color": "#CF222E"}
            chart.add_series(spec)
        chart.set_title({"name": title})
        chart.set_y_axis({"num_format": "0%" if percent else "0", "min": 0})
        chart.show_blanks_as("gap")
        chart.set_size({"width": 720, "height": 300})
        return chart

    rates = line(
        "回复率 Reply rates",
        [("reply_rate", False), ("reply_3min_rate", False), ("target_reply_rate", True)],
        True,
    )
    times = line(
        "响应时间 Response times (s)",
        [
            ("avg_first_response_s", False),
            ("avg_response_s", False),
            ("target_avg_first_response_s", True),
            ("target_avg_response_s", True),
        ],
        False,
    )
    sheet.insert_chart(n + 3, 0, rates)
    sheet.insert_chart(n + 19, 0, times)


def _waits_rows(data: dict) -> list[dict]:
    w = data["waits"]
    rows = [
        {
            "from_s": lo,
            "to_s": hi,
            "round_cnt": n,
            "within_sla": "yes" if hi <= w["sla_s"] else "no",
        }
        for lo, hi, n in w["bins"]
    ]
    last = w["bins"][-1][1] if w["bins"] else 0
    rows.append(
        {"from_s": last, "to_s": 1800, "round_cnt": w["over_10min_cnt"], "within_sla": "no"}
    )
    rows.append({"from_s": 1800, "to_s": None, "round_cnt": w["late_cnt"], "within_sla": "no"})
    rows.append(
        {
            "from_s": None,
            "to_s": None,
            "round_cnt": w["unreplied_cnt"],
            "within_sla": "unreplied 未回复",
        }
    )
    return rows


def _load_rows(data: dict) -> list[dict]:
    h = data["heatmap"]
    rows = [{"date": d} for d in h["dates"]]
    for hour, day, n in h["cells"]:
        rows[day][f"h{hour}"] = n
    return rows


def render_xlsx(data: dict, path: Path) -> None:
    w = Sheets(path)
    _kpi_sheet(w, data)
    _leaderboard_sheet(w, data)
    _trend_sheet(w, data)
    w.table(
        SHEET_NAMES[3],
        WAIT_COLUMNS,
        _waits_rows(data),
        "A bin holds waits above 'from' up to 'to' seconds; 180 s is the 3-minute line.",
    )
    w.table(
        SHEET_NAMES[4],
        LOAD_COLUMNS,
        _load_rows(data),
        "Distinct buyers opening a round in the hour, shop level (no double counting).",
    )
    funnel = [
        {
            **d,
            "maturity": "final 已定"
            if d["is_final"]
            else ("maturing 未定" if d["has_data"] else ""),
        }
        for d in data["trend"]
    ]
    w.table(SHEET_NAMES[5], FUNNEL_COLUMNS, funnel)
    w.table(SHEET_NAMES[6], SALES_COLUMNS, data["trend"])
    p = data["platform"]
    platform_rows = [
        {
            **r,
            "passing": {True: "pass 合格", False: "fail 不合格", None: "no pass mark"}[
                r["is_passing"]
            ],
        }
        for r in p["rows"]
    ]
    w.table(
        SHEET_NAMES[7],
        PLATFORM_COLUMNS,
        platform_rows,
        "" if p["available"] else NA.format(mart="platform_service_assessed"),
    )
    a = data["alerts"]
    w.table(
        SHEET_NAMES[8],
        ALERT_COLUMNS,
        a["rows"],
        "" if a["available"] else NA.format(mart="service_alerts"),
    )
    t = data["topics"]
    w.table(
        SHEET_NAMES[9],
        TOPIC_COLUMNS,
        t["rows"],
        "" if t["available"] else NA.format(mart="question_topics_daily"),
    )
    w.book.close()
