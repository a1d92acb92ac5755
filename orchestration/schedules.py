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
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from kefu import warehouse as wh
from kefu.lock import LockTimeout, warehouse_lock
from kefu.nightly import Plan, plan_build
from kefu.windows import FULL_BUILD, Window, maturing_days, refresh_window, schedule_as_of
from orchestration.assets import DAILY_PARTITIONS, SCHEDULE_TIMEZONE, WAREHOUSE_TAG, window_tags
from orchestration.jobs import build_run_config, nightly_job
from orchestration.resources import KefuWarehouse

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class _Busy(Exception):
    """A writer holds the warehouse: the tick does not read it."""


def read_plan(db_path, as_of: dt.date | None) -> tuple[Plan | None, dt.date | None]:
    """The plan of the next build (kefu.nightly.plan_build, read-only; None: no warehouse
    or data yet) and, for a full build, the data's first day. Read under the warehouse's
    writer lock taken without waiting: a writer opening the file while a tick reads it
    would fail on DuckDB's own lock, and with the writer lock held it waits instead.
    Raises _Busy while a writer holds the warehouse."""
    if not Path(db_path).exists():
        return None, None
    try:
        with warehouse_lock(db_path, "kefu tick (reading the plan)", timeout=0, notify=_quiet):
            plan = plan_build(db_path, as_of, read_only=True)
            first_day = first_data_day(db_path) if plan and plan.window[0] is None else None
    except (LockTimeout, duckdb.IOException, duckdb.ConnectionException) as exc:
        raise _Busy from exc
    return plan, first_day


def _quiet(_line: str) -> None:
    """A tick does not print lock waits (it does not wait)."""


def planned_run(db_path, as_of: dt.date) -> tuple[Window, dict[str, str]]:
    """The window of the night as of `as_of`, from what the warehouse holds, and the run's
    partition range. A warehouse held by a running writer gives the maturing days: the
    dbt step plans again."""
    final_pay_days = wh.ruleset_parameter(None, "final_pay_days")
    try:
        plan, first_day = read_plan(db_path, as_of)
    except _Busy:
        window = maturing_days(as_of, final_pay_days)
        return window, partition_tags(window, as_of)
    if plan is None:  # no warehouse or no data yet: the first build is a full one
        window = refresh_window(as_of, final_pay_days, None, False)
        return window, partition_tags(window, as_of)
    return plan.window, partition_tags(plan.window, as_of, first_day)


def partition_tags(
    window: Window, as_of: dt.date, first_day: dt.date | None = None
) -> dict[str, str]:
    """The run's partition range. Every run has one: Dagster fails a run of the
    partitioned dbt assets that has none when it records their materialisations. The
    range is the window's days; an open start (a full build) starts at `first_day`, the
    data's first day, or at the window's end when that is not known yet (no warehouse
    before the first load); an open end is `as_of`. Days outside the partitions that
    exist count from the first or up to the last one. The range is what Dagster records
    as materialised; the days dbt builds are the run's window (its tags and
    raw.build_runs)."""
    first = dt.date.fromisoformat(DAILY_PARTITIONS.get_first_partition_key())
    last = dt.date.fromisoformat(DAILY_PARTITIONS.get_last_partition_key())
    end = min(max(window[1] or as_of, first), last)
    start = min(max(window[0] or first_day or end, first), end)
    return {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}


def first_data_day(db_path) -> dt.date | None:
    """The first local day of the loaded messages and orders; None without a warehouse
    or data."""
    with wh.connect(db_path, read_only=True) as con:
        if con is None or not {"messages", "orders"} <= wh.existing_tables(con, "raw"):
            return None
        return con.execute(
            "select least((select min(cast(sent_at as date)) from raw.messages),"
            " (select min(cast(created_at as date)) from raw.orders))"
        ).fetchone()[0]


def sensor_partition_tags(db_path, local_date: dt.date) -> dict[str, str]:
    """The partition range of a landing-sensor run: the window of what is loaded so far,
    planned as a tick plans it (the run plans again after its load); before the first
    load, or while a writer holds the warehouse, the day before `local_date`."""
    try:
        plan, first_day = read_plan(db_path, None)
    except _Busy:
        plan, first_day = None, None
    if plan is None:
        return partition_tags(FULL_BUILD, schedule_as_of(local_date))
    return partition_tags(plan.window, plan.as_of, first_day)


def nightly_run_request(scheduled_at: dt.datetime, db_path) -> dg.RunRequest:
    local_date = scheduled_at.astimezone(ZoneInfo(SCHEDULE_TIMEZONE)).date()
    as_of = schedule_as_of(local_date)
    window, partitions = planned_run(db_path, as_of)
    return dg.RunRequest(
        run_key=f"nightly-{as_of.isoformat()}",
        run_config=build_run_config(as_of, window),
        tags={
            **window_tags(as_of, window),
            **partitions,
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
