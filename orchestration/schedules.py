"""The nightly schedule: 02:00 Asia/Shanghai, as of the day before.

The tick plans the refresh window with kefu.windows.refresh_window and passes it to dbt
as vars (run config) and shows it in the run's tags. The dbt step widens it at run time
if the load brings older data or the marts are missing.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb

from kefu import warehouse as wh
from kefu.windows import refresh_window, schedule_as_of
from orchestration.assets import window_tags
from orchestration.jobs import build_run_config, nightly_job
from orchestration.resources import KefuWarehouse

SCHEDULE_TIMEZONE = "Asia/Shanghai"


def _warehouse_state(db_path) -> tuple[int, bool]:
    """(final_pay_days, marts exist). A warehouse locked by a running build counts as
    built: the dbt step checks again and falls back to a full build if marts are missing."""
    try:
        with wh.connect(db_path, read_only=True) as con:
            return wh.ruleset_parameter(con, "final_pay_days"), wh.marts_exist(con)
    except (duckdb.IOException, duckdb.ConnectionException):
        return wh.ruleset_parameter(None, "final_pay_days"), True


def nightly_run_request(scheduled_at: dt.datetime, db_path) -> dg.RunRequest:
    local_date = scheduled_at.astimezone(ZoneInfo(SCHEDULE_TIMEZONE)).date()
    as_of = schedule_as_of(local_date)
    final_pay_days, marts_exist = _warehouse_state(db_path)
    window = refresh_window(as_of, final_pay_days, None, marts_exist)
    return dg.RunRequest(
        run_key=f"nightly-{as_of.isoformat()}",
        run_config=build_run_config(as_of, window),
        tags={**window_tags(as_of, window), "kefu/trigger": "schedule"},
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
