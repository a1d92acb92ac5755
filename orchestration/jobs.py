"""The nightly job: load, dbt build, GX checks and publication, one step after another.

In-process execution: DuckDB has one writer per file, so the steps of a run share the
process instead of racing for the warehouse lock.
"""

import datetime as dt
from typing import Any

import dagster as dg

from kefu.windows import Window
from orchestration.assets import WAREHOUSE_TAG, kefu_dbt_models

nightly_job = dg.define_asset_job(
    name="kefu_nightly",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    tags=WAREHOUSE_TAG,
    description="kefu run-nightly in Dagster: load → dbt build of the refresh window → checks"
    " → publish.",
)


def build_run_config(
    as_of: dt.date | None, window: Window | None, *, auto_window: bool = False
) -> dict[str, Any]:
    """Run config of the dbt step: the as-of date and refresh window it builds (a window
    open on both sides: a full build; none: the step plans it, see auto_window)."""
    start, end = window or (None, None)
    config = {
        "as_of_date": as_of.isoformat() if as_of else None,
        "start_date": start.isoformat() if start else None,
        "end_date": end.isoformat() if end else None,
        "auto_window": auto_window,
        "full_build": window is not None and start is None and end is None,
    }
    return {"ops": {kefu_dbt_models.op.name: {"config": config}}}
