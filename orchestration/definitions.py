"""The kefu code location: `dagster dev -m orchestration` (from the repo root)."""

import dagster as dg

from orchestration.assets import gx_suites, kefu_dbt_models, landing_files, publication
from orchestration.jobs import nightly_job
from orchestration.report_assets import scorecard_report
from orchestration.resources import RESOURCES
from orchestration.schedules import nightly_schedule
from orchestration.sensors import landing_zone_sensor

defs = dg.Definitions(
    assets=[landing_files, kefu_dbt_models, publication, scorecard_report],
    asset_checks=[gx_suites],
    jobs=[nightly_job],
    schedules=[nightly_schedule],
    sensors=[landing_zone_sensor],
    resources=RESOURCES,
    executor=dg.in_process_executor,
)
