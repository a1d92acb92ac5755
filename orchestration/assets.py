"""Assets: the landing-zone load, the dbt models (groups staging / intermediate / marts),
the GX data-quality checks of kefu.checks on them, and the publication row.

Lineage: landing_files → (every dbt source) → staging → intermediate → marts →
marts/publication. The marts' GX checks are blocking: a failed critical expectation
stops the publication, as in `kefu run-nightly`.
"""

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from kefu import warehouse as wh
from kefu.build import BuildWindow, dbt_env, temporary_environment
from kefu.loader import load_landing
from kefu.nightly import Publication, plan_build, publish
from kefu.schema import ensure_raw_schema
from kefu.windows import FULL_BUILD, Window, maturing_days, widen_window
from orchestration.resources import DBT_PROJECT, KefuWarehouse, prepare_manifest

LANDING_KEY = dg.AssetKey("landing_files")
PUBLICATION_KEY = dg.AssetKey(["marts", "publication"])
LAYER_GROUPS = ("staging", "intermediate", "marts")

# Run tags that carry the as-of date and the refresh window (set by the schedule, then
# overwritten by the dbt step with the window it actually built).
TAG_AS_OF = "kefu/as_of_date"
TAG_START = "kefu/window_start"
TAG_END = "kefu/window_end"


def window_tags(as_of: dt.date | None, window: Window) -> dict[str, str]:
    start, end = window
    return {
        TAG_AS_OF: as_of.isoformat() if as_of else "",
        TAG_START: start.isoformat() if start else "full",
        TAG_END: end.isoformat() if end else "full",
    }


# ---------------------------------------------------------------- landing zone


@dg.asset(
    key=LANDING_KEY,
    group_name="landing",
    kinds={"duckdb"},
    description="New export files of the landing zone loaded into the raw schema (kefu load).",
    check_specs=[
        dg.AssetCheckSpec(
            "no_rejected_files",
            asset=LANDING_KEY,
            description="Every file of the load was accepted (a rejected file is named).",
        )
    ],
)
def landing_files(context: dg.AssetExecutionContext, warehouse: KefuWarehouse):
    report = load_landing(warehouse.db_path(), warehouse.landing_dir())
    for line in report.summary().splitlines():
        context.log.info(line)
    totals = report.totals()
    return dg.MaterializeResult(
        metadata={
            "load_run_id": report.load_run_id,
            "loaded_file_ids": dg.MetadataValue.json(
                [r.file_id for r in report.loaded if r.file_id is not None]
            ),
            "files_loaded": len(report.loaded),
            "files_skipped": len(report.skipped),
            "files_rejected": len(report.rejected),
            **{key: dg.MetadataValue.int(value) for key, value in totals.items()},
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="no_rejected_files",
                passed=not report.rejected,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"reason": report.reason() or "no file rejected"},
            )
        ],
    )


def _landing_metadata_of_run(context: dg.AssetExecutionContext) -> Mapping[str, Any]:
    """The landing_files materialisation metadata of this run ({} when it did not load)."""
    event = context.instance.get_latest_materialization_event(LANDING_KEY)
    if event is None or event.run_id != context.run.run_id or event.asset_materialization is None:
        return {}
    return {key: value.value for key, value in event.asset_materialization.metadata.items()}


# ---------------------------------------------------------------- dbt models


class KefuDbtTranslator(DagsterDbtTranslator):
    """dbt folders → asset groups; every dbt source → the landing_files asset."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return LANDING_KEY
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        if len(fqn) > 2 and fqn[1] in LAYER_GROUPS:
            return fqn[1]
        return super().get_group_name(dbt_resource_props)


TRANSLATOR = KefuDbtTranslator(
    settings=DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True)
)


class BuildConfig(dg.Config):
    """The days a dbt build refreshes. The nightly schedule sets as_of_date and the window;
    the landing sensor sets auto_window; with nothing set the build covers every day."""

    as_of_date: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    auto_window: bool = False

    def planned_window(self) -> Window | None:
        if self.start_date or self.end_date:
            return (_iso(self.start_date), _iso(self.end_date))
        return None


def _iso(text: str | None) -> dt.date | None:
    """A date from config or a run tag ('' and 'full' mean none)."""
    return dt.date.fromisoformat(text) if text and text != "full" else None


def effective_build(
    db_path: Path, config: BuildConfig, new_file_ids: list[int]
) -> tuple[dt.date | None, Window]:
    """The as-of date and window a run builds: the configured (or, with auto_window, the
    maturing) days widened for late data, a full build when the marts are missing or
    master data changed; a full build when nothing is configured."""
    as_of = _iso(config.as_of_date)
    plan = plan_build(db_path, new_file_ids, as_of)
    if plan is None:
        return as_of, FULL_BUILD
    planned = config.planned_window()
    if planned is None and config.auto_window:
        planned = maturing_days(plan.as_of, plan.final_pay_days)
    if planned is None:
        return plan.as_of, FULL_BUILD
    window = widen_window(
        planned,
        plan.earliest_new_date,
        plan.marts_existed,
        master_data_changed=plan.master_data_changed,
    )
    return plan.as_of, window


@dbt_assets(
    manifest=prepare_manifest(),
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
)
def kefu_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: KefuWarehouse,
    config: BuildConfig,
):
    db_path = warehouse.db_path()
    ensure_raw_schema(db_path)
    new_file_ids = list(_landing_metadata_of_run(context).get("loaded_file_ids") or [])
    as_of, (start, end) = effective_build(db_path, config, new_file_ids)
    context.instance.add_run_tags(context.run.run_id, window_tags(as_of, (start, end)))
    context.log.info(f"dbt build of {db_path}: as of {as_of}, window {start} … {end}")
    build_vars = BuildWindow(start=start, end=end, as_of=as_of).dbt_vars()
    env = dbt_env(db_path)
    target_path = Path(env["DBT_TARGET_PATH"]).parent / "dagster"
    with temporary_environment({"KEFU_DB": env["KEFU_DB"]}):
        invocation = dbt.cli(
            ["build", "--vars", json.dumps(build_vars)], context=context, target_path=target_path
        )
    yield from invocation.stream()


# ---------------------------------------------------------------- GX checks (kefu.checks)


def _model_names(layer: str) -> set[str]:
    return {
        spec.key.path[-1]
        for spec in kefu_dbt_models.specs
        if spec.group_name == layer and len(spec.key.path) == 2
    }


def _gx_check_specs() -> dict[dg.AssetCheckKey, tuple[str, str]]:
    """Check key → (suite, table) for every suite table Dagster has an asset for."""
    from kefu.checks import suite_definitions

    specs: dict[dg.AssetCheckKey, tuple[str, str]] = {}
    models = {layer: _model_names(layer) for layer in ("staging", "marts")}
    for suite, entries in suite_definitions().SUITES.items():
        for table, _ in entries:
            schema, name = table.split(".", 1)
            if suite == "incoming":
                key = dg.AssetCheckKey(LANDING_KEY, f"gx_incoming_{name}")
            elif schema in models and name in models[schema]:
                key = dg.AssetCheckKey(dg.AssetKey([schema, name]), f"gx_{schema}")
            else:
                continue  # the schema-wide text check, or a model not in this project
            specs[key] = (suite, table)
    return specs


GX_CHECKS = _gx_check_specs()


def _check_result(key: dg.AssetCheckKey, results: list) -> dg.AssetCheckResult:
    critical = [r for r in results if r.is_critical and not r.success]
    warnings = [r for r in results if not r.is_critical and not r.success]
    failed = critical or warnings
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=not failed,
        severity=dg.AssetCheckSeverity.ERROR if critical else dg.AssetCheckSeverity.WARN,
        metadata={
            "expectations": len(results),
            "failed": len(failed),
            "critical_failed": len(critical),
            "failures": dg.MetadataValue.md(
                "\n".join(f"- {r.describe()}" for r in failed) or "none"
            ),
        },
    )


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            key.name,
            asset=key.asset_key,
            # The marts' checks gate the publication; a warning never blocks.
            blocking=key.asset_key.path[0] == "marts",
            description=f"Great Expectations suite '{suite}' on {table} (kefu check)",
        )
        for key, (suite, table) in GX_CHECKS.items()
    ],
    can_subset=True,
    name="gx_suites",
)
def gx_suites(context: dg.AssetCheckExecutionContext, warehouse: KefuWarehouse):
    from kefu.checks import run_checks

    selected = [key for key in GX_CHECKS if key in context.selected_asset_check_keys]
    report = run_checks(warehouse.db_path(), [GX_CHECKS[key][1] for key in selected])
    context.log.info(report.summary())
    for key in selected:
        table = GX_CHECKS[key][1]
        yield _check_result(key, [r for r in report.results if r.table == table])


# ---------------------------------------------------------------- publication


def _mart_keys() -> list[dg.AssetKey]:
    return sorted(
        (spec.key for spec in kefu_dbt_models.specs if spec.group_name == "marts"),
        key=lambda key: key.to_user_string(),
    )


@dg.asset(
    key=PUBLICATION_KEY,
    group_name="marts",
    kinds={"duckdb"},
    deps=_mart_keys(),
    description=(
        "One row: the as-of date and window of the last build whose checks passed, and what"
        " its load brought. BI shows data as of publication.as_of_date."
    ),
)
def publication(context: dg.AssetExecutionContext, warehouse: KefuWarehouse):
    db_path = warehouse.db_path()
    run = context.instance.get_run_by_id(context.run.run_id)
    tags = run.tags if run else {}
    as_of = _iso(tags.get(TAG_AS_OF))
    if as_of is None:
        with wh.connect(db_path) as con:
            as_of = wh.data_last_day(con)
    if as_of is None:
        raise dg.Failure(f"nothing to publish: {db_path} holds no messages or orders")
    with duckdb.connect(str(db_path)) as con:
        if "dq_results" not in wh.existing_tables(con, "marts"):
            raise dg.Failure("not published: no data-quality results (run the gx_suites checks)")
        critical, warnings = con.execute(
            "select count(*) filter (where is_critical and not success),"
            " count(*) filter (where not is_critical and not success) from marts.dq_results"
        ).fetchone()
    if critical:
        raise dg.Failure(f"not published: {critical} critical expectation(s) failed (kefu check)")
    load = _landing_metadata_of_run(context)
    start, end = _iso(tags.get(TAG_START)), _iso(tags.get(TAG_END))
    row = Publication(
        as_of_date=as_of,
        window_start=start,
        window_end=end,
        is_full_build=(start, end) == FULL_BUILD,
        checks_passed=True,
        critical_failed_cnt=0,
        warning_failed_cnt=int(warnings),
        load_run_id=load.get("load_run_id"),
        files_loaded_cnt=int(load.get("files_loaded", 0)),
        files_skipped_cnt=int(load.get("files_skipped", 0)),
        files_rejected_cnt=int(load.get("files_rejected", 0)),
        rows_loaded_cnt=int(load.get("rows_loaded", 0)),
        rows_quarantined_cnt=int(load.get("rows_quarantined", 0)),
        rows_duplicate_cnt=int(load.get("rows_duplicate", 0)),
    )
    publish(db_path, row)
    return dg.MaterializeResult(
        metadata={
            "as_of_date": as_of.isoformat(),
            "window": f"{row.window_start} … {row.window_end}",
        }
    )
