"""`kefu report`: hand-made marts with known figures → the figures in the page's embedded
data and in the workbook; the page drawn in headless Chromium with the network refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import socket
import subprocess
import threading
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from kefu.cli import main
from kefu.paths import PROJECT_DIR
from kefu.report import ReportError, report_source, resolve_publish_path, write_reports
from kefu.report.xlsx import SHEET_NAMES

D = dt.date(2026, 5, 10)  # the report day (as of); D - 1 is the previous day
EVIL_NAME = '=HYPERLINK("http://x","y")'
EVIL_DETAIL = "@SUM(1+1)*cmd|' /C calc'!A0"

SHOP_COLUMNS = (
    "shop_id, biz_date, consult_buyer_cnt, received_buyer_cnt, replied_buyer_cnt,"
    " first_response_total_s, first_response_cnt, response_total_s, response_cnt,"
    " replied_3min_round_cnt, round_cnt, inquiry_buyer_cnt, inq_order_cnt,"
    " inq_pay_next_day_cnt, inq_pay_final_cnt, is_next_day_final, is_final,"
    " paid_sales_amt, cs_sales_amt, silent_sales_amt, cs_sales_buyer_cnt, silent_buyer_cnt"
)
AGENT_COLUMNS = (
    "shop_id, agent_id, agent_name, biz_date, received_buyer_cnt, replied_buyer_cnt,"
    " first_response_total_s, first_response_cnt, response_total_s, response_cnt,"
    " replied_3min_round_cnt, round_cnt, inquiry_buyer_cnt, inq_pay_final_cnt, is_final,"
    " cs_sales_amt, cs_sales_buyer_cnt, rating_cnt, satisfied_cnt"
)
V1_DDL = {
    "shop_daily_kpis": """
        shop_id varchar, biz_date date, consult_buyer_cnt int, received_buyer_cnt int,
        replied_buyer_cnt int, first_response_total_s double, first_response_cnt int,
        response_total_s double, response_cnt int, replied_3min_round_cnt int, round_cnt int,
        inquiry_buyer_cnt int, inq_order_cnt int, inq_pay_next_day_cnt int,
        inq_pay_final_cnt int, is_next_day_final boolean, is_final boolean,
        paid_sales_amt decimal(18, 2), cs_sales_amt decimal(18, 2),
        silent_sales_amt decimal(18, 2), cs_sales_buyer_cnt int, silent_buyer_cnt int""",
    "agent_daily_kpis": """
        shop_id varchar, agent_id varchar, agent_name varchar, biz_date date,
        received_buyer_cnt int, replied_buyer_cnt int, first_response_total_s double,
        first_response_cnt int, response_total_s double, response_cnt int,
        replied_3min_round_cnt int, round_cnt int, inquiry_buyer_cnt int,
        inq_pay_final_cnt int, is_final boolean, cs_sales_amt decimal(18, 2),
        cs_sales_buyer_cnt int, rating_cnt int, satisfied_cnt int""",
    "fct_rounds": """
        shop_id varchar, agent_id varchar, buyer_id varchar, biz_date date,
        asked_at timestamp, wait_s double, is_replied boolean""",
    "reception_load_hourly": """
        shop_id varchar, agent_id varchar, biz_date date, hour int,
        consult_buyer_cnt int, buyer_msg_cnt int""",
    "platform_service_daily": """
        shop_id varchar, agent_id varchar, biz_date date, preset varchar,
        assessed_cnt int, within_sla_cnt int, capped_round_cnt int,
        capped_wait_total_s double""",
}


def _shop_rows() -> list[tuple]:
    prev, day = D - dt.timedelta(days=1), D
    return [
        # reply 14/20, first 300/10 = 30 s, avg 500/10 = 50 s, final
        ("s1", prev, 22, 20, 14, 300, 10, 500, 10, 15, 20, 12, 5, 4, 4, True, True,
         800, 500, 300, 5, 3),
        # reply 9/10, first 150/10 = 15 s, avg 700/10 = 70 s, 3-min 16/20, maturing
        ("s1", day, 12, 10, 9, 150, 10, 700, 10, 16, 20, 8, 4, 3, 2, False, False,
         1000, 600, 400, 3, 4),
        ("s2", day, 3, 3, 3, 30, 3, 30, 3, 3, 3, 1, 0, 0, 0, False, False, 0, 0, 0, 0, 0),
    ]  # fmt: skip


def _agent_rows() -> list[tuple]:
    prev = D - dt.timedelta(days=1)
    return [
        ("s1", "a1", "Ann", D, 6, 6, 60, 6, 300, 6, 10, 12, 5, 2, False, 400, 2, 4, 3),
        ("s1", "a2", EVIL_NAME, D, 4, 3, 90, 4, 400, 4, 6, 8, 3, 0, False, 200, 1, 1, 0),
        ("s1", "a1", "Ann", prev, 20, 14, 300, 10, 500, 10, 15, 20, 12, 4, True, 500, 5, 2, 2),
        ("s2", "b1", "Bo", D, 3, 3, 30, 3, 30, 3, 3, 3, 1, 0, False, 0, 0, 0, 0),
    ]


def _round_rows() -> list[tuple]:
    def at(hhmm: str) -> dt.datetime:
        return dt.datetime.fromisoformat(f"{D} {hhmm}:00")

    return [
        # buyer x writes to two accounts in hour 10: one buyer there, not two
        ("s1", "a1", "x", D, at("10:05"), 10.0, True),
        ("s1", "a2", "x", D, at("10:20"), 35.0, True),
        ("s1", "a1", "y", D, at("10:30"), 180.0, True),  # exactly 3 min: within
        ("s1", "a1", "y", D, at("14:00"), 181.0, True),
        ("s1", "a2", "z", D, at("14:10"), 700.0, True),  # over 10 min
        ("s1", "a2", "z", D, at("15:00"), 2000.0, True),  # late (> max_wait_s)
        ("s1", "a2", "z", D, at("16:00"), None, False),  # unreplied
    ]


def make_marts(path: Path, v2: bool = False) -> Path:
    """A marts file by hand: schema marts with the figures above (v2 adds the scorecard
    marts of docs/metrics.md §14)."""
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    for name, ddl in V1_DDL.items():
        con.execute(f"create table marts.{name} ({ddl})")
    con.executemany(
        f"insert into marts.shop_daily_kpis ({SHOP_COLUMNS}) values ({', '.join(['?'] * 22)})",
        _shop_rows(),
    )
    con.executemany(
        f"insert into marts.agent_daily_kpis ({AGENT_COLUMNS}) values ({', '.join(['?'] * 19)})",
        _agent_rows(),
    )
    con.executemany("insert into marts.fct_rounds values (?, ?, ?, ?, ?, ?, ?)", _round_rows())
    con.executemany(
        "insert into marts.reception_load_hourly values (?, ?, ?, ?, ?, ?)",
        [("s1", "a1", D, 10, 1, 3), ("s1", "a2", D, 10, 2, 4), ("s1", "a1", D, 14, 1, 1)],
    )
    con.executemany(
        "insert into marts.platform_service_daily values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            ("s1", "a1", D - dt.timedelta(days=29), "kuaishou", 10, 6, 10, 1000),
            ("s1", "a1", D, "kuaishou", 10, 9, 10, 500),
            ("s1", "a1", D - dt.timedelta(days=30), "kuaishou", 100, 0, 100, 60000),  # outside
        ],
    )
    con.execute("create table marts.publication (as_of_date date)")
    con.execute("insert into marts.publication values (?)", [D])
    if v2:
        _add_v2_marts(con)
    con.close()
    return path


def _add_v2_marts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """create table marts.kpi_target_status (shop_id varchar, agent_id varchar,
        period varchar, period_start date, metric varchar, value double,
        target_value double, comparator varchar, is_met boolean)"""
    )
    con.execute(
        """insert into marts.kpi_target_status values
        ('s1', 'a1', 'day', ?, 'reply_rate', 1.0, 0.95, '>=', true),
        ('s1', 'a2', 'day', ?, 'reply_rate', 0.75, 0.95, '>=', false),
        ('s1', 'a1', 'day', ?, 'avg_response_s', 50, 60, '<=', true)""",
        [D, D, D],
    )
    con.execute(
        """create table marts.service_alerts (shop_id varchar, biz_date date,
        alert_type varchar, agent_id varchar, buyer_id varchar, occurred_at timestamp,
        figure double, threshold double, detail varchar)"""
    )
    con.execute(
        """insert into marts.service_alerts values
        ('s1', ?, 'late_reply', 'a2', 'z', ?, 2000, 1800, 'reply after 2000 s'),
        ('s1', ?, 'unreplied_buyer', 'a2', 'z', ?, null, null, ?),
        ('s1', ?, 'late_reply', 'a1', 'q', ?, 1900, 1800, 'previous day')""",
        [D, f"{D} 15:00:00", D, f"{D} 16:00:00", EVIL_DETAIL,
         D - dt.timedelta(days=1), f"{D - dt.timedelta(days=1)} 09:00:00"],
    )  # fmt: skip
    con.execute(
        """create table marts.question_topics_daily (shop_id varchar, biz_date date,
        topic varchar, reception_cnt int, buyer_cnt int, inquiry_cnt int,
        inq_pay_final_cnt int, inq_to_pay_rate_final double, rating_cnt int,
        satisfied_cnt int, good_rate double)"""
    )
    con.execute(
        """insert into marts.question_topics_daily values
        ('s1', ?, '尺码', 6, 5, 4, 1, 0.25, 2, 1, 0.5),
        ('s1', ?, '尺码', 4, 4, 4, 3, 0.75, 2, 2, 1.0),
        ('s1', ?, 'other', 2, 2, 1, 0, 0.0, 0, 0, null)""",
        [D, D - dt.timedelta(days=3), D],
    )
    con.execute(
        """create table marts.platform_service_assessed (shop_id varchar, preset varchar,
        biz_date date, assessment_days int, assessed_cnt int, within_sla_cnt int,
        sla_reply_rate double, capped_round_cnt int, capped_wait_total_s double,
        capped_avg_response_s double, pass_rate double, is_passing boolean)"""
    )
    con.execute(
        """insert into marts.platform_service_assessed values
        ('s1', 'kuaishou', ?, 30, 20, 13, 0.65, 20, 1500, 75, 0.70, false),
        ('s1', 'pdd', ?, 30, 20, 19, 0.95, 20, 600, 30, null, null)""",
        [D, D],
    )


def page_data(html_path: Path) -> dict:
    text = html_path.read_text(encoding="utf-8")
    match = re.search(
        r'<script type="application/json" id="kefu-report-data">(.*?)</script>', text, re.S
    )
    assert match, "the page embeds its figures"
    return json.loads(match.group(1))


def kpi(data: dict, metric: str) -> dict:
    return next(k for k in data["kpis"] if k["metric"] == metric)


@pytest.fixture(scope="module")
def v1_reports(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("report_v1")
    marts = make_marts(root / "kefu.duckdb")
    day = write_reports(marts, root / "out", "day", shop="s1")[0]
    month = write_reports(marts, root / "out", "month", date=D, shop="s1")[0]
    return {"marts": marts, "day": day, "month": month}


@pytest.fixture(scope="module")
def v2_reports(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("report_v2")
    marts = make_marts(root / "kefu.duckdb", v2=True)
    written = write_reports(marts, root / "out", "day")
    return {w.shop_id: w for w in written}


# ---------------------------------------------------------------- the page's figures


def test_headline_kpis_come_from_summed_parts_against_targets_and_previous_day(v1_reports):
    data = page_data(v1_reports["day"].html)
    assert v1_reports["day"].html.name == "s1_day_2026-05-10.html"
    assert (data["period_start"], data["previous_start"]) == ("2026-05-10", "2026-05-09")
    reply = kpi(data, "reply_rate")
    assert (reply["value"], reply["previous"], reply["target"]) == (0.9, 0.7, 0.8)
    assert reply["is_met"] is True and reply["is_better"] is True
    first = kpi(data, "avg_first_response_s")
    assert (first["value"], first["previous"], first["is_met"]) == (15.0, 30.0, True)
    assert first["is_better"] is True  # lower is better for a response time
    avg = kpi(data, "avg_response_s")
    assert (avg["value"], avg["target"], avg["is_met"], avg["is_better"]) == (
        70.0,
        60,
        False,
        False,
    )
    assert kpi(data, "reply_3min_rate")["value"] == 0.8
    good = kpi(data, "good_rate")  # ratings of both agents: 3 / 5
    assert (good["value"], good["is_met"]) == (0.6, False)
    conv = kpi(data, "inq_to_pay_rate_final")
    assert (conv["value"], conv["is_maturing"]) == (0.25, True)
    assert kpi(data, "cs_sales_share")["value"] == 0.6
    assert (data["totals"]["cs_aov"], data["totals"]["silent_aov"]) == (200.0, 100.0)
    assert [s["value"] for s in data["funnel"]] == [12, 8, 4, 3, 2]


def test_leaderboard_rates_per_agent_and_their_missed_targets(v1_reports):
    board = page_data(v1_reports["day"].html)["leaderboard"]
    assert [r["agent_id"] for r in board] == ["a1", "a2"]  # most received first
    a1, a2 = board
    assert (a1["reply_rate"], a1["avg_response_s"], a1["cs_aov"]) == (1.0, 50.0, 200.0)
    assert (a2["reply_rate"], a2["avg_first_response_s"], a2["good_rate"]) == (0.75, 22.5, 0.0)
    assert a1["conversion_status"] == "maturing 未定"
    assert set(a2["missed"]) == {"reply_rate", "avg_first_response_s", "avg_response_s",
                                 "good_rate"}  # fmt: skip
    assert a1["missed"] == ["good_rate"]  # 3 of 4 ratings good: 0.75
    assert a1["alert_cnt"] is None  # no service_alerts mart: unknown, not zero


def test_wait_histogram_puts_exactly_three_minutes_left_of_the_line(v1_reports):
    waits = page_data(v1_reports["day"].html)["waits"]
    counts = {lo: n for lo, _, n in waits["bins"]}
    assert (counts[0], counts[30], counts[150], counts[180]) == (1, 1, 1, 1)
    assert sum(counts.values()) == 4
    assert (waits["within_sla_cnt"], waits["over_10min_cnt"], waits["late_cnt"]) == (3, 1, 1)
    assert (waits["unreplied_cnt"], waits["round_cnt"], waits["sla_s"]) == (1, 7, 180)


def test_load_heatmap_counts_a_buyer_on_two_accounts_once(v1_reports):
    heat = page_data(v1_reports["day"].html)["heatmap"]
    assert heat["dates"][-1] == "2026-05-10" and len(heat["dates"]) == 7  # a week of context
    row = len(heat["dates"]) - 1
    assert sorted(heat["cells"]) == [[10, row, 2], [14, row, 2], [15, row, 1], [16, row, 1]]
    assert [10, row, 7] in heat["messages"]  # buyer messages summed over the accounts


def test_month_report_rolls_up_the_month_and_shades_maturing_days(v1_reports):
    data = page_data(v1_reports["month"].html)
    assert v1_reports["month"].html.name == "s1_month_2026-05-01.html"
    assert (data["period_start"], data["period_end"], data["shown_end"]) == (
        "2026-05-01",
        "2026-05-31",
        "2026-05-10",
    )
    assert data["previous_start"] == "2026-04-01"
    assert kpi(data, "reply_rate")["value"] == pytest.approx(23 / 30)
    assert kpi(data, "avg_response_s")["value"] == 60.0  # 1200 s / 20 timed rounds
    assert kpi(data, "received_buyer_cnt")["previous"] == 0
    maturing = [d["date"] for d in data["trend"] if d["is_final"] is False]
    assert maturing == ["2026-05-10"]
    assert data["totals"]["maturing_day_cnt"] == 1


def test_sections_without_their_mart_say_not_available(v1_reports):
    data = page_data(v1_reports["day"].html)
    text = v1_reports["day"].html.read_text(encoding="utf-8")
    assert data["alerts"]["available"] is False and data["topics"]["available"] is False
    assert "Not available: the marts do not hold <code>service_alerts</code>" in text
    assert "<code>question_topics_daily</code>" in text
    # the platform indicator falls back to platform_service_daily, 30 days ending D
    (row,) = data["platform"]["rows"]
    assert (row["preset"], row["assessed_cnt"], row["within_sla_cnt"]) == ("kuaishou", 20, 15)
    assert row["sla_reply_rate"] == 0.75 and row["pass_rate"] is None


def test_scorecard_marts_give_targets_alerts_topics_and_pass_marks(v2_reports):
    assert sorted(v2_reports) == ["s1", "s2"]
    data = page_data(v2_reports["s1"].html)
    reply = kpi(data, "reply_rate")  # the shop's own target from kpi_target_status
    assert (reply["target"], reply["is_met"]) == (0.95, False)
    assert kpi(data, "avg_first_response_s")["target"] == 20  # default where none is there
    alerts = data["alerts"]
    assert alerts["total"] == 2  # the previous day's alert is not in the day's report
    assert {c["alert_type"]: c["count"] for c in alerts["counts"]} == {
        "late_reply": 1,
        "unreplied_buyer": 1,
    }
    board = {r["agent_id"]: r for r in data["leaderboard"]}
    assert (board["a1"]["alert_cnt"], board["a2"]["alert_cnt"]) == (0, 2)
    topics = {t["topic"]: t for t in data["topics"]["rows"]}
    assert (topics["尺码"]["reception_cnt"], topics["尺码"]["inq_to_pay_rate_final"]) == (6, 0.25)
    assert topics["other"]["good_rate"] is None
    platform = {r["preset"]: r for r in data["platform"]["rows"]}
    assert (platform["kuaishou"]["pass_rate"], platform["kuaishou"]["is_passing"]) == (0.7, False)
    html = v2_reports["s1"].html.read_text(encoding="utf-8")
    assert "不合格 fail" in html and EVIL_DETAIL.replace("'", "&#x27;") in html


# ---------------------------------------------------------------- the workbook


def _string_cells(book: openpyxl.Workbook):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    yield cell


def test_workbook_has_the_tables_with_number_formats_and_native_charts(v1_reports):
    path = v1_reports["day"].xlsx
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == list(SHEET_NAMES)
    kpis = book[SHEET_NAMES[0]]
    assert kpis.freeze_panes == "A2"
    rows = {r[1].value: r for r in kpis.iter_rows(min_row=2) if r[2].value is not None}
    assert rows["Reply rate"][2].value == 0.9 and rows["Reply rate"][2].number_format == "0.0%"
    assert rows["Reply rate"][3].value == 0.7 and rows["Reply rate"][5].value == 0.8
    assert rows["Average response"][2].value == 70
    assert rows["Average response"][2].number_format == '#,##0.0" s"'
    assert rows["CS sales"][2].value == 600 and rows["CS sales"][2].number_format == '"¥"#,##0.00'
    assert rows["Average response"][6].value == "missed 未达标"
    board = book[SHEET_NAMES[1]]
    assert board.freeze_panes == "A2"
    header = [c.value for c in board[1]]
    col = header.index("回复率 / Reply rate")
    assert [board.cell(r, col + 1).value for r in (2, 3)] == [1.0, 0.75]
    assert board.cell(3, col + 1).number_format == "0.0%"
    trend = book[SHEET_NAMES[2]]
    dates = [c.value for c in trend["A"][1:] if c.value and c.value.startswith("2026")]
    assert dates[-1] == "2026-05-10" and len(dates) == 14
    waits = book[SHEET_NAMES[3]]
    assert [waits.cell(r, 3).value for r in range(2, 9)] == [1, 1, 0, 0, 0, 1, 1]
    with zipfile.ZipFile(path) as archive:  # openpyxl does not read charts back
        charts = [n for n in archive.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        kinds = sorted(
            "bar" if "<c:barChart>" in archive.read(n).decode() else "line" for n in charts
        )
    assert kinds == ["bar", "line", "line"]  # leaderboard, trend rates, trend times


def test_no_workbook_cell_would_be_evaluated(v1_reports, v2_reports):
    for path in (v1_reports["day"].xlsx, v2_reports["s1"].xlsx):
        book = openpyxl.load_workbook(path)
        for cell in _string_cells(book):
            assert not cell.value.startswith(("=", "+", "-", "@")), (path, cell.coordinate)
            assert cell.data_type != "f"
        texts = {cell.value for cell in _string_cells(book)}
        assert "'" + EVIL_NAME in texts
    alerts = openpyxl.load_workbook(v2_reports["s1"].xlsx)[SHEET_NAMES[8]]
    assert "'" + EVIL_DETAIL in [c.value for c in alerts["H"]]


# ---------------------------------------------------------------- source and command


def test_report_reads_the_published_file_and_falls_back_to_the_warehouse(tmp_path, monkeypatch):
    monkeypatch.delenv("KEFU_PUBLISH", raising=False)
    db = tmp_path / "warehouse.duckdb"
    default = resolve_publish_path(db)
    assert default == tmp_path / "published" / "kefu.duckdb"
    with pytest.raises(ReportError, match="run `kefu run-nightly` first"):
        report_source(db, default)
    make_marts(db)
    assert report_source(db, default) == db
    default.parent.mkdir()
    make_marts(default)
    assert report_source(db, default) == default
    monkeypatch.setenv("KEFU_PUBLISH", str(tmp_path / "other.duckdb"))
    assert resolve_publish_path(db) == tmp_path / "other.duckdb"
    assert resolve_publish_path(db, str(default)) == default


def test_kefu_report_command_writes_both_files_and_leaves_the_marts_alone(tmp_path, capsys):
    marts = make_marts(tmp_path / "kefu.duckdb")
    before = hashlib.sha256(marts.read_bytes()).hexdigest()
    out = tmp_path / "reports"
    args = ["report", "--db", str(tmp_path / "none.duckdb"), "--publish", str(marts)]
    assert main([*args, "--period", "week", "--date", "2026-05-06", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "s1_week_2026-05-04.html",
        "s1_week_2026-05-04.xlsx",
        "s2_week_2026-05-04.html",
        "s2_week_2026-05-04.xlsx",
    ]
    assert str(out / "s1_week_2026-05-04.html") in capsys.readouterr().out
    assert hashlib.sha256(marts.read_bytes()).hexdigest() == before
    assert main([*args, "--shop", "nope", "--out", str(out)]) == 1
    assert "shop 'nope' not in marts.shop_daily_kpis" in capsys.readouterr().err


def test_hand_made_marts_use_only_columns_the_real_marts_have():
    documented: dict[str, set[str]] = {}
    for yml in (PROJECT_DIR / "models" / "marts").rglob("_*__models.yml"):
        for model in yaml.safe_load(yml.read_text(encoding="utf-8"))["models"]:
            documented[model["name"]] = {c["name"] for c in model.get("columns", [])}
    for name, ddl in V1_DDL.items():
        columns = {line.split()[0] for line in re.split(r",\s*(?![^(]*\))", ddl.strip())}
        assert columns <= documented[name], (name, columns - documented[name])


# ---------------------------------------------------------------- in a browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--virtual-time-budget=15000",
)


# Chromium's own service traffic (network time, component updater, Google account
# sign-in), which the browser sends whatever page it shows; anything else is the page's.
# What a version sends beyond these (Chromium 150 preconnects to its search engine,
# www.google.com) the `browser` fixture learns from a blank page with the same flags.
BROWSER_OWN = re.compile(
    r"^(GET http://clients2\.google\.com/time/"
    r"|POST http://update\.googleapis\.com/service/update2/"
    r"|CONNECT (update\.googleapis\.com|accounts\.google\.com):443 )"
)


def request_key(line: str) -> str:
    """A proxy request line without its query and protocol: 'GET http://h/p?q HTTP/1.1'
    gives 'GET http://h/p'; 'CONNECT h:443 HTTP/1.1' gives 'CONNECT h:443'."""
    return " ".join(line.split(" ")[:2]).split("?", 1)[0]


DRAIN = "KEFU-DRAIN / HTTP/1.1"  # the recorder's own marker, never recorded


class RequestRecorder:
    """A proxy that refuses every request and remembers it: Chromium is pointed at it for
    every URL (loopback included), so any network request of the page shows up here."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.own: set[str] = set()  # request_key of what a blank page also sends
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    first = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    first = "?"
                if first == DRAIN:
                    pass
                elif not BROWSER_OWN.match(first) and request_key(first) not in self.own:
                    self.requests.append(first)
                try:  # the browser may have gone already
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def drain(self) -> None:
        """Return once every connection made before this call has been recorded: the
        recorder takes connections one at a time, in the order they came."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as conn:
            conn.sendall(f"{DRAIN}\r\n".encode("latin-1"))
            conn.recv(64)

    def close(self) -> None:
        self.server.close()


def chromium(page: Path, profile: Path, proxy: RequestRecorder, *args: str) -> str:
    result = subprocess.run(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--proxy-server=http://127.0.0.1:{proxy.port}",
            "--proxy-bypass-list=<-loopback>",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    proxy.drain()  # every request the browser made is recorded before this returns
    return result.stdout


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
    proxy = RequestRecorder()
    # What this Chromium sends for a page that fetches nothing, in both modes the tests
    # use, is the browser's own: a report page may add nothing to it.
    blank_dir = tmp_path_factory.mktemp("blank_page")
    blank = blank_dir / "blank.html"
    blank.write_text("<!doctype html><title>blank</title><p>blank</p>", encoding="utf-8")
    chromium(blank, blank_dir / "p1", proxy, "--dump-dom")
    shot = f"--screenshot={blank_dir / 'blank.png'}"
    chromium(blank, blank_dir / "p2", proxy, "--window-size=1280,4000", shot)
    proxy.own = {request_key(r) for r in proxy.requests}
    proxy.requests.clear()
    yield proxy
    proxy.close()


def test_page_draws_every_chart_offline_in_chromium(v2_reports, browser, tmp_path):
    page = v2_reports["s1"].html
    dom = chromium(page, tmp_path / "p1", browser, "--dump-dom")
    charts = re.findall(r'<div class="chart" id="([\w-]+)"[^>]*?data-rendered="(\d+)"', dom)
    expected = re.findall(r'<div class="chart" id="([\w-]+)"', page.read_text(encoding="utf-8"))
    assert len(expected) == 9
    assert sorted(c for c, _ in charts) == sorted(expected)
    assert all(int(n) > 5 for _, n in charts), charts
    assert f'data-charts-rendered="{len(expected)}"' in dom
    for chart_id in expected:  # each container holds a drawn SVG
        start = dom.index(f'id="{chart_id}"')
        assert "<svg" in dom[start : start + 3000] and "<path" in dom[start:], chart_id
    shot = tmp_path / "report.png"
    chromium(page, tmp_path / "p2", browser, "--window-size=1280,4000", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    assert browser.requests == [], "\n".join(browser.requests)


def test_the_request_recorder_sees_a_page_that_does_fetch(browser, tmp_path):
    page = tmp_path / "fetching.html"
    page.write_text('<img src="http://kefu-report.example/x.png">', encoding="utf-8")
    chromium(page, tmp_path / "p", browser, "--dump-dom")
    assert any("kefu-report.example" in r for r in browser.requests), browser.requests
    browser.requests.clear()


# ---------------------------------------------------------------- Dagster


def test_scorecard_report_asset_writes_the_days_reports(tmp_path, monkeypatch):
    import dagster as dg

    from orchestration.assets import PUBLICATION_KEY, TAG_AS_OF
    from orchestration.definitions import defs
    from orchestration.report_assets import REPORT_KEY, scorecard_report
    from orchestration.resources import KefuWarehouse

    graph = defs.get_repository_def().asset_graph
    assert graph.get(REPORT_KEY).parent_keys == {PUBLICATION_KEY}
    monkeypatch.delenv("KEFU_PUBLISH", raising=False)
    monkeypatch.setenv("KEFU_REPORTS", str(tmp_path / "reports"))
    db = make_marts(tmp_path / "warehouse.duckdb")  # no publication file yet: the warehouse
    result = dg.materialize(
        [scorecard_report],
        resources={"warehouse": KefuWarehouse(db=str(db))},
        tags={TAG_AS_OF: "2026-05-09"},
    )
    assert result.success
    names = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert names == [f"{s}_day_2026-05-09.{ext}" for s in ("s1", "s2") for ext in ("html", "xlsx")]
    data = page_data(tmp_path / "reports" / "s1_day_2026-05-09.html")
    assert kpi(data, "reply_rate")["value"] == 0.7
