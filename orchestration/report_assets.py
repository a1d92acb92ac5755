"""The `scorecard_report` asset: after each publication, the day's report of every shop
(HTML page and Excel workbook, `kefu report`) written into the reports folder.

It reads the published marts file (docs/metrics.md §14) when there is one, else the warehouse,
read-only either way. The folder is env KEFU_REPORTS, default `reports/` next to the
warehouse file."""

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from kefu.report import report_source, resolve_publish_path, write_reports
from orchestration.assets import PUBLICATION_KEY, TAG_AS_OF
from orchestration.resources import KefuWarehouse

REPORT_KEY = dg.AssetKey("scorecard_report")


def reports_dir(db_path: Path) -> Path:
    raw = os.environ.get("KEFU_REPORTS")
    return Path(raw).expanduser().resolve() if raw else Path(db_path).parent / "reports"


@dg.asset(
    key=REPORT_KEY,
    group_name="reports",
    kinds={"html", "excel"},
    deps=[PUBLICATION_KEY],
    description=(
        "Each shop's daily scorecard (客服日报) for the published as-of date: a"
        " self-contained HTML page with charts and an Excel workbook (kefu report)."
    ),
)
def scorecard_report(context: dg.AssetExecutionContext, warehouse: KefuWarehouse):
    db_path = warehouse.db_path()
    source = report_source(db_path, resolve_publish_path(db_path))
    run = context.instance.get_run_by_id(context.run.run_id)
    tag = (run.tags if run else {}).get(TAG_AS_OF)
    day = dt.date.fromisoformat(tag) if tag else None
    written = write_reports(source, reports_dir(db_path), "day", date=day)
    for report in written:
        context.log.info(f"{report.shop_id}: {report.html} {report.xlsx}")
    return dg.MaterializeResult(
        metadata={
            "source": str(source),
            "shops": len(written),
            "reports": dg.MetadataValue.json(
                {w.shop_id: [str(w.html), str(w.xlsx)] for w in written}
            ),
        }
    )
