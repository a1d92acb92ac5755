"""Measure `kefu report` on a large shop: 200 agents, 90 days of synthetic marts written
straight into a DuckDB file (no dbt), then the day and month reports rendered, their
sizes, and the time headless Chromium takes to open the page and draw every chart.

    .venv/bin/python -m kefu.report.bench [--agents 200] [--days 90] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import duckdb

from kefu.report import write_reports

END = dt.date(2026, 6, 30)

SYNTHETIC_MARTS = """
create schema marts;
select setseed(0.42);
create table marts.agent_daily_kpis as
with grid as (
    select 'big_shop' as shop_id, 'agent' || lpad(a::varchar, 3, '0') as agent_id,
        'Agent ' || a as agent_name, ($end::date - d::int) as biz_date,
        20 + (random() * 40)::int as received_buyer_cnt
    from range(1, $agents + 1) as t(a), range(0, $days) as u(d)
)
select *, received_buyer_cnt - (random() * 3)::int as replied_buyer_cnt,
    received_buyer_cnt * (10 + random() * 30) as first_response_total_s,
    received_buyer_cnt as first_response_cnt,
    received_buyer_cnt * 3 * (20 + random() * 60) as response_total_s,
    received_buyer_cnt * 3 as response_cnt,
    (received_buyer_cnt * 3 * (0.7 + random() * 0.3))::int as replied_3min_round_cnt,
    received_buyer_cnt * 3 as round_cnt,
    (received_buyer_cnt * 0.7)::int as inquiry_buyer_cnt,
    (received_buyer_cnt * 0.2)::int as inq_pay_final_cnt,
    biz_date <= $end::date - 4 as is_final,
    (received_buyer_cnt * 0.2 * (150 + random() * 200))::decimal(18, 2) as cs_sales_amt,
    (received_buyer_cnt * 0.2)::int as cs_sales_buyer_cnt,
    (random() * 6)::int + 1 as rating_cnt,
    (random() * 5)::int as satisfied_cnt
from grid;
create table marts.shop_daily_kpis as
select shop_id, biz_date,
    sum(received_buyer_cnt) * 1.05 as consult_buyer_cnt,
    sum(received_buyer_cnt) as received_buyer_cnt, sum(replied_buyer_cnt) as replied_buyer_cnt,
    sum(first_response_total_s) as first_response_total_s,
    sum(first_response_cnt) as first_response_cnt, sum(response_total_s) as response_total_s,
    sum(response_cnt) as response_cnt, sum(replied_3min_round_cnt) as replied_3min_round_cnt,
    sum(round_cnt) as round_cnt, sum(inquiry_buyer_cnt) as inquiry_buyer_cnt,
    sum(inq_pay_final_cnt) * 1.3 as inq_order_cnt, sum(inq_pay_final_cnt) * 0.9
        as inq_pay_next_day_cnt, sum(inq_pay_final_cnt) as inq_pay_final_cnt,
    biz_date <= $end::date - 1 as is_next_day_final, bool_and(is_final) as is_final,
    sum(cs_sales_amt) * 2 as paid_sales_amt, sum(cs_sales_amt) as cs_sales_amt,
    sum(cs_sales_amt) as silent_sales_amt, sum(cs_sales_buyer_cnt) as cs_sales_buyer_cnt,
    sum(cs_sales_buyer_cnt) * 1.4 as silent_buyer_cnt
from marts.agent_daily_kpis group by all;
create table marts.fct_rounds as
with drawn as (
    select k.shop_id, k.agent_id,
        'b' || (hash(k.agent_id, k.biz_date, r) % 1000000) as buyer_id,
        k.biz_date, k.biz_date + to_seconds((28800 + random() * 54000)::bigint) as asked_at,
        case when random() < 0.03 then null else pow(random(), 3) * 900 end as wait_s
    from marts.agent_daily_kpis as k, range(0, k.round_cnt) as t(r)
)
select *, wait_s is not null as is_replied from drawn;
create table marts.reception_load_hourly as
select shop_id, agent_id, biz_date, hour(asked_at) as hour,
    count(distinct buyer_id) as consult_buyer_cnt, count(*) * 2 as buyer_msg_cnt
from marts.fct_rounds group by all;
create table marts.platform_service_daily as
select k.shop_id, k.agent_id, k.biz_date, p.preset, k.round_cnt as assessed_cnt,
    k.replied_3min_round_cnt as within_sla_cnt, k.round_cnt as capped_round_cnt,
    k.response_total_s as capped_wait_total_s
from marts.agent_daily_kpis as k,
    (values ('taobao_platform'), ('pdd'), ('kuaishou'), ('douyin'), ('jd')) as p(preset);
create table marts.service_alerts as
select shop_id, biz_date, 'late_reply' as alert_type, agent_id, buyer_id,
    asked_at as occurred_at, wait_s as figure, 600.0 as threshold,
    'reply after ' || round(wait_s) || ' s' as detail
from marts.fct_rounds where wait_s > 850;
create table marts.publication as select $end::date as as_of_date;
"""


def make_marts(path: Path, agents: int, days: int) -> None:
    sql = (
        SYNTHETIC_MARTS.replace("$end", f"'{END}'")
        .replace("$agents", str(agents))
        .replace("$days", str(days))
    )
    with duckdb.connect(str(path)) as con:
        con.execute(sql)


def open_in_chromium(page: Path, profile: Path) -> tuple[float, str]:
    """Wall-clock seconds from launch to the dumped DOM, and the page's own ready time."""
    started = time.perf_counter()
    dom = subprocess.run(
        [
            shutil.which("chromium") or "/usr/bin/chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=30000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seconds = time.perf_counter() - started
    drawn = re.search(r'data-charts-rendered="(\d+)"', dom)
    total = dom.count('<div class="chart"')
    return seconds, f"{drawn.group(1) if drawn else 0}/{total} charts drawn"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--workdir", help="scratch folder (default: a temp folder)")
    args = parser.parse_args(argv)
    work = Path(args.workdir or tempfile.mkdtemp(prefix="kefu-report-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    marts = work / "kefu.duckdb"
    marts.unlink(missing_ok=True)
    started = time.perf_counter()
    make_marts(marts, args.agents, args.days)
    with duckdb.connect(str(marts), read_only=True) as con:
        rounds = con.execute("select count(*) from marts.fct_rounds").fetchone()[0]
    print(
        f"marts: {args.agents} agents x {args.days} days, {rounds:,} rounds "
        f"({time.perf_counter() - started:.1f} s to generate) in {marts}"
    )
    blank = work / "blank.html"
    blank.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
    base, _ = open_in_chromium(blank, work / "profile-blank")
    print(f"chromium on a blank page: {base:.2f} s (launch overhead)")
    for period in ("day", "week", "month"):
        started = time.perf_counter()
        (report,) = write_reports(marts, work / "reports", period)
        render = time.perf_counter() - started
        opened, drawn = open_in_chromium(report.html, work / f"profile-{period}")
        print(
            f"{period:5}: render {render:.2f} s; html {report.html.stat().st_size / 1e6:.2f} MB,"
            f" xlsx {report.xlsx.stat().st_size / 1e6:.2f} MB; chromium open+draw "
            f"{opened:.2f} s ({opened - base:.2f} s over a blank page), {drawn}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
