"""A sensor that starts the nightly job when new files appear in the landing zone.

Cursor: {path inside the landing zone: "size:mtime_ns"} of every file seen. A new or
changed file requests a run that plans its window from the loaded data (auto_window),
over the partitions of the window planned at the tick (schedules.sensor_partition_tags).
Hidden and Excel lock files are ignored, as the loader ignores them.
"""

import datetime as dt
import hashlib
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from kefu.loading.landing import is_ignored
from orchestration.assets import SCHEDULE_TIMEZONE
from orchestration.jobs import build_run_config, nightly_job
from orchestration.resources import KefuWarehouse
from orchestration.schedules import sensor_partition_tags


def landing_signatures(landing_dir: Path) -> dict[str, str]:
    """{relative path: "size:mtime_ns"} of the files of the landing zone."""
    if not landing_dir.is_dir():
        return {}
    signatures = {}
    for path in sorted(p for p in landing_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(landing_dir)
        if is_ignored(relative):
            continue
        stat = path.stat()
        signatures[relative.as_posix()] = f"{stat.st_size}:{stat.st_mtime_ns}"
    return signatures


def new_files(seen: dict[str, str], current: dict[str, str]) -> dict[str, str]:
    return {path: sig for path, sig in current.items() if seen.get(path) != sig}


def _run_in_progress(context: dg.SensorEvaluationContext) -> bool:
    runs = context.instance.get_run_records(
        dg.RunsFilter(
            job_name=nightly_job.name,
            statuses=[
                dg.DagsterRunStatus.QUEUED,
                dg.DagsterRunStatus.NOT_STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.STARTED,
            ],
        ),
        limit=1,
    )
    return bool(runs)


@dg.sensor(name="landing_zone_sensor", job=nightly_job, minimum_interval_seconds=60)
def landing_zone_sensor(context: dg.SensorEvaluationContext, warehouse: KefuWarehouse):
    seen = json.loads(context.cursor) if context.cursor else {}
    current = landing_signatures(warehouse.landing_dir())
    arrived = new_files(seen, current)
    if not arrived:
        return dg.SkipReason(f"no new files in {warehouse.landing_dir()}")
    if _run_in_progress(context):
        # The warehouse has one writer: look again once the running job is done.
        return dg.SkipReason(f"{len(arrived)} new file(s); waiting for the running job")
    context.update_cursor(json.dumps(current, sort_keys=True))
    digest = hashlib.sha256(json.dumps(arrived, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(
        run_key=f"landing-{digest}",
        run_config=build_run_config(None, None, auto_window=True),
        tags={
            "kefu/trigger": "landing_zone_sensor",
            "kefu/new_files": str(len(arrived)),
            **sensor_partition_tags(
                warehouse.db_path(), dt.datetime.now(ZoneInfo(SCHEDULE_TIMEZONE)).date()
            ),
        },
    )
