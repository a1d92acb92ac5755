"""`kefu report`: a 日报 / 周报 / 月报 per shop, as a self-contained HTML page and an
Excel workbook, read from the published marts (read-only)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from kefu.report.data import as_of_date, mart_tables, report_data, shops
from kefu.report.html import render_html
from kefu.report.periods import PERIODS, period_of
from kefu.report.source import ReportError, open_marts, report_source, resolve_publish_path
from kefu.report.xlsx import render_xlsx

__all__ = [
    "PERIODS",
    "ReportError",
    "WrittenReport",
    "report_source",
    "resolve_publish_path",
    "write_reports",
]
REQUIRED_MARTS = {"shop_daily_kpis", "agent_daily_kpis", "fct_rounds", "reception_load_hourly"}


@dataclass(frozen=True)
class WrittenReport:
    shop_id: str
    html: Path
    xlsx: Path


def file_stem(shop: str, period: str, label: str) -> str:
    """<shop>_<period>_<date>, the shop id made safe for a file name."""
    safe = re.sub(r"[^\w.-]", "_", shop).strip(".") or "shop"
    return f"{safe}_{period}_{label}"


def write_reports(
    source: Path,
    out_dir: Path,
    period: str = "day",
    date: dt.date | None = None,
    shop: str | None = None,
) -> list[WrittenReport]:
    """Write the HTML page and the workbook of every shop (or `shop`) for the period that
    contains `date` (default: the as-of date of the marts). Reads `source` read-only."""
    written = []
    with open_marts(source) as con:
        tables = mart_tables(con)
        missing = REQUIRED_MARTS - tables
        if missing:
            raise ReportError(
                f"{source}: marts missing: {', '.join(sorted(missing))} (run `kefu build`)"
            )
        as_of = as_of_date(con, tables)
        day = date or as_of
        if day is None:
            raise ReportError(f"{source}: marts.shop_daily_kpis is empty: nothing to report")
        known = shops(con)
        if shop is not None and shop not in known:
            raise ReportError(
                f"{source}: shop {shop!r} not in marts.shop_daily_kpis "
                f"(known: {', '.join(known[:10]) or 'none'})"
            )
        chosen = [shop] if shop else known
        the_period = period_of(period, day)
        out_dir.mkdir(parents=True, exist_ok=True)
        for shop_id in chosen:
            data = report_data(con, shop_id, the_period, as_of)
            stem = file_stem(shop_id, period, the_period.label)
            html_path, xlsx_path = out_dir / f"{stem}.html", out_dir / f"{stem}.xlsx"
            html_path.write_text(render_html(data, source.name), encoding="utf-8")
            render_xlsx(data, xlsx_path)
            written.append(WrittenReport(shop_id, html_path, xlsx_path))
    return written
