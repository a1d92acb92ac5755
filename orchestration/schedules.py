"""The nightly schedule: 02:00 Asia/Shanghai, as of the day before.

The tick plans the refresh window from the build watermark (kefu.nightly.plan_build,
read-only): the maturing days D-final_pay_days … D, widened back to the earliest day of
every load run no successful build took in yet, or a full build. It requests one run
over those daily partitions (a full build: a run without partitions), passes the window
in the run config (the dbt step hands it to dbt through the environment) and shows it
in the run's tags. The dbt step plans again at run time, after the run's own load, and
widens the window if that load brought more.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from kefu import warehouse as wh
from kefu.nightly import plan_build
from kefu.windows import Window, maturing_days, refresh_window, schedule_as_of
from orchestration.assets import DAILY_PARTITIONS, SCHEDULE_TIMEZONE, WAREHOUSE_TAG, window_tags
from orchestration.jobs import build_run_config, nightly_job
from orchestration.resources import KefuWarehouse

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def planned_window(db_path, as_of: dt.date) -> Window:
    """The window of the night as of `as_of`, from what the warehouse holds. A warehouse
    locked by a running writer gives the maturing days: the dbt step plans again."""
    try:
        plan = plan_build(db_path, as_of, read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException):
        return maturing_days(as_of, wh.ruleset_parameter(None, "final_pay_days"))
    if plan is None:  # no warehouse or no data yet: the first build is a full one
        return refresh_window(as_of, wh.ruleset_parameter(None, "final_pay_days"), None, False)
    return plan.window


def partition_tags(window: Window) -> dict[str, str]:
    """The run's partition range: the window's days (none for a full build, or a window
    reaching before the first partition)."""
    start, end = window
    if start is None or end is None:
        return {}
    first = dt.date.fromisoformat(DAILY_PARTITIONS.get_first_partition_key())
    if start < first:
        return {}
    return {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}


def nightly_run_request(scheduled_at: dt.datetime, db_path) -> dg.RunRequest:
    local_date = scheduled_at.astimezone(ZoneInfo(SCHEDULE_TIMEZONE)).date()
    as_of = schedule_as_of(local_date)
    window = planned_window(db_path, as_of)
    return dg.RunRequest(
        run_key=f"nightly-{as_of.isoformat()}",
        run_config=build_run_config(as_of, window),
        tags={
            **window_tags(as_of, window),
            **partition_tags(window),
            **WAREHOUSE_TAG,
            "kefu/trigger": "schedule",
        },
    )


@dg.schedule(
    name="kefu_nightly_schedule",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone=SCHEDULE_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_schedule(context: dg.ScheduleEvaluationContext, warehouse: KefuWarehouse):
    return nightly_run_request(context.scheduled_execution_time, warehouse.db_path())
