"""The nightly schedule: 02:00 Asia/Shanghai, as of the day before.

The tick plans the refresh window from the build watermark (kefu.nightly.plan_build,
read-only): the maturing days D-final_pay_days … D, widened back to the earliest day of
every load run no successful build took in yet, or a full build. It requests one run
over those daily partitions (a full build: the days with data, see partition_tags),
passes the window in the run config (the dbt step hands it to dbt through the
environment) and shows it in the run's tags. The dbt step plans again at run time, after
the run's own load, and widens the window if that load brought more.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from kefu import warehouse as wh
from kefu.nightly import plan_build
from kefu.windows import FULL_BUILD, Window, maturing_days, refresh_window, schedule_as_of
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


def partition_tags(
    window: Window, as_of: dt.date, first_day: dt.date | None = None
) -> dict[str, str]:
    """The run's partition range. Every run has one: Dagster fails a run of the
    partitioned dbt assets that has none when it records their materialisations. The
    range is the window's days; an open start (a full build) starts at `first_day`, the
    data's first day, or at the window's end when that is not known yet (no warehouse
    before the first load); an open end is `as_of`. Days before the first partition
    count from it. The range is what Dagster records as materialised; the days dbt
    builds are the run's window (its tags and raw.build_runs)."""
    first = dt.date.fromisoformat(DAILY_PARTITIONS.get_first_partition_key())
    end = max(window[1] or as_of, first)
    start = min(max(window[0] or first_day or end, first), end)
    return {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}


def first_data_day(db_path) -> dt.date | None:
    """The first local day of the loaded messages and orders; None without a warehouse
    or data, or while a writer holds the warehouse (the range then starts later, see
    partition_tags)."""
    try:
        with wh.connect(db_path, read_only=True) as con:
            if con is None or not {"messages", "orders"} <= wh.existing_tables(con, "raw"):
                return None
            return con.execute(
                "select least((select min(cast(sent_at as date)) from raw.messages),"
                " (select min(cast(created_at as date)) from raw.orders))"
            ).fetchone()[0]
    except (duckdb.IOException, duckdb.ConnectionException):
        return None


def sensor_partition_tags(db_path, local_date: dt.date) -> dict[str, str]:
    """The partition range of a landing-sensor run: the window of what is loaded so far,
    planned as a tick plans it (the run plans again after its load); before the first
    load, or while a writer holds the warehouse, the day before `local_date`."""
    try:
        plan = plan_build(db_path, None, read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException):
        plan = None
    if plan is None:
        return partition_tags(FULL_BUILD, schedule_as_of(local_date))
    first_day = first_data_day(db_path) if plan.window[0] is None else None
    return partition_tags(plan.window, plan.as_of, first_day)


def nightly_run_request(scheduled_at: dt.datetime, db_path) -> dg.RunRequest:
    local_date = scheduled_at.astimezone(ZoneInfo(SCHEDULE_TIMEZONE)).date()
    as_of = schedule_as_of(local_date)
    window = planned_window(db_path, as_of)
    first_day = first_data_day(db_path) if window[0] is None else None
    return dg.RunRequest(
        run_key=f"nightly-{as_of.isoformat()}",
        run_config=build_run_config(as_of, window),
        tags={
            **window_tags(as_of, window),
            **partition_tags(window, as_of, first_day),
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
