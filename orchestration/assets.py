"""Assets: the landing-zone load, the dbt models (groups staging / intermediate / marts),
the data-quality checks of kefu.checks on them (GX on the incoming rows, dbt data tests
and the marts' shape in SQL), and the publication.

Lineage: landing_files → (every dbt source) → staging → intermediate → marts →
marts/publication. The marts' checks are blocking: a failed critical expectation
stops the publication, as in `kefu run-nightly`.

The dbt assets are daily-partitioned by biz_date (the shop's local date), and every run
has a partition range (schedules.partition_tags). A backfill from the UI (one run, by
BackfillPolicy.single_run) builds exactly its days; the schedule's and the sensor's runs
build the window their config asks for (see effective_build). The window reaches dbt as
KEFU_START_DATE / KEFU_END_DATE in its environment, as in `kefu build` (not --vars: dbt
would parse the whole project again whenever they change). The dbt step runs no test:
the checks step runs every dbt data test once, over the run's days.
Every step that writes the warehouse holds its lock (kefu.lock), and every build is
recorded in the build watermark (raw.build_runs), as `kefu run-nightly` does.
"""

import datetime as dt
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
from kefu.build import (
    WITHOUT_TESTS,
    BuildWindow,
    dbt_env,
    makes_tables_anew,
    temporary_environment,
)
from kefu.loader import load_landing
from kefu.lock import warehouse_lock
from kefu.nightly import plan_build, publication_row, publish, unpublished_days
from kefu.pseudonyms import mark_rekeyed
from kefu.schema import ensure_raw_schema
from kefu.windows import FULL_BUILD, Window, widen_window
from orchestration.resources import DBT_PROJECT, KefuWarehouse, prepare_manifest

LANDING_KEY = dg.AssetKey("landing_files")
PUBLICATION_KEY = dg.AssetKey(["marts", "publication"])
LAYER_GROUPS = ("staging", "intermediate", "marts")
SCHEDULE_TIMEZONE = "Asia/Shanghai"
# One partition per biz_date; the first one only bounds what the UI offers to backfill.
DAILY_PARTITIONS = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone=SCHEDULE_TIMEZONE)
# Run tag of every kefu run: dagster.yaml lets one run with it go at a time.
WAREHOUSE_TAG = {"kefu/warehouse": "writer"}

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
    with warehouse_lock(warehouse.db_path(), f"dagster run {context.run.run_id[:8]} load"):
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


# dbt's data tests are not Dagster asset checks of the dbt step: they run once per run,
# in the checks step (gx_suites: `kefu check` over the run's window, every test of the
# project), as in `kefu run-nightly`. As checks of the dbt step they ran a second time
# there for the staging models and marts.
TRANSLATOR = KefuDbtTranslator(
    settings=DagsterDbtTranslatorSettings(
        enable_duplicate_source_asset_keys=True, enable_asset_checks=False
    )
)


class BuildConfig(dg.Config):
    """The days a dbt build refreshes. The nightly schedule sets as_of_date and the window
    (full_build when it planned every day); the landing sensor sets auto_window; with
    nothing set the run's partitions are the days (a backfill)."""

    as_of_date: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    auto_window: bool = False
    full_build: bool = False

    def planned_window(self) -> Window | None:
        if self.start_date or self.end_date:
            return (_iso(self.start_date), _iso(self.end_date))
        return None


def _iso(text: str | None) -> dt.date | None:
    """A date from config or a run tag ('' and 'full' mean none)."""
    return dt.date.fromisoformat(text) if text and text != "full" else None


def effective_build(
    db_path: Path, config: BuildConfig, partitions: Window | None = None
) -> tuple[dt.date | None, Window, list[int]]:
    """The as-of date, window and taken-in load runs of a run's dbt build.

    - A partition range and nothing configured (a backfill): exactly those days; it
      takes in no load run (the watermark stays for the next nightly).
    - full_build (whatever else is set), or no data yet: every day, taking in every
      pending load run.
    - auto_window (the sensor): the night's plan (kefu.nightly.plan_build: the maturing
      days widened for every load run not built yet and every unfinished build).
    - Else the configured or partition days, widened for every load run not built yet,
      a full build when the marts are missing or master data or seeds changed: it takes
      in every pending load run.
    - No partitions and nothing configured: a full build, as full_build (a run of the
      partitioned dbt assets needs partitions in Dagster, see schedules.partition_tags)."""
    as_of = _iso(config.as_of_date)
    planned = config.planned_window()
    backfill = partitions is not None and not (
        planned or config.auto_window or config.as_of_date or config.full_build
    )
    plan = plan_build(db_path, as_of)
    if plan is None:
        return as_of, partitions if backfill else FULL_BUILD, []
    if backfill:
        return plan.as_of, partitions, []
    if config.full_build:
        return plan.as_of, FULL_BUILD, list(plan.load_run_ids)
    if planned is None and config.auto_window:
        # the night's own plan: maturing days, widened, and every unfinished build's days
        return plan.as_of, plan.window, list(plan.load_run_ids)
    planned = planned or partitions
    if planned is None:
        return plan.as_of, FULL_BUILD, list(plan.load_run_ids)
    window = widen_window(
        planned,
        plan.earliest_new_date,
        plan.marts_existed,
        master_data_changed=plan.master_data_changed,
    )
    return plan.as_of, window, list(plan.load_run_ids)


def _partition_window(context: dg.AssetExecutionContext) -> Window | None:
    if not context.has_partition_key_range:
        return None
    keys = context.partition_key_range
    return (dt.date.fromisoformat(keys.start), dt.date.fromisoformat(keys.end))


@dbt_assets(
    manifest=prepare_manifest(),
    project=DBT_PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    partitions_def=DAILY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def kefu_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: KefuWarehouse,
    config: BuildConfig,
):
    db_path = warehouse.db_path()
    with warehouse_lock(db_path, f"dagster run {context.run.run_id[:8]} dbt build"):
        ensure_raw_schema(db_path, pseudonyms=False)
        as_of, (start, end), load_runs = effective_build(
            db_path, config, _partition_window(context)
        )
        window = BuildWindow(start=start, end=end, as_of=as_of)
        ensure_raw_schema(db_path, every_day=window.every_day)
        context.instance.add_run_tags(context.run.run_id, window_tags(as_of, (start, end)))
        context.log.info(
            f"dbt build of {db_path}: as of {as_of}, window {start} … {end},"
            f" load runs taken in: {load_runs or 'none'}"
        )
        with duckdb.connect(str(db_path)) as con:
            build_id = wh.start_build(
                con, f"dagster run {context.run.run_id}", as_of, (start, end), load_runs
            )
        env = dbt_env(db_path, window)
        target_path = Path(env["DBT_TARGET_PATH"]).parent / "dagster"
        # the warehouse, the window (KEFU_START_DATE …: not --vars, whose change makes dbt
        # parse the whole project again each night), dbt threads and DuckDB's memory
        # limit / spill folder (kefu.machine)
        every_model = context.selected_asset_keys == context.assets_def.keys
        # every day of every model: incremental tables made anew, as `kefu build` does
        # the data and unit tests run in the checks step (see TRANSLATOR), as `kefu
        # run-nightly` leaves them to `kefu check`
        args = ["build", *WITHOUT_TESTS]
        if makes_tables_anew(window, every_model):
            args.append("--full-refresh")
        with temporary_environment({k: v for k, v in env.items() if k.startswith("KEFU_")}):
            invocation = dbt.cli(args, context=context, target_path=target_path)
        yield from invocation.stream()  # raises when dbt fails: the build stays 'started'
        with duckdb.connect(str(db_path)) as con:
            wh.finish_build(con, build_id)
        if window.every_day and every_model:
            mark_rekeyed(db_path)  # every day of every model: pseudonyms current everywhere


# ---------------------------------------------------------------- GX checks (kefu.checks)


def _model_names(layer: str) -> set[str]:
    return {
        spec.key.path[-1]
        for spec in kefu_dbt_models.specs
        if spec.group_name == layer and len(spec.key.path) == 2
    }


# The dbt tests of the sources (schema raw): one check on landing_files.
SOURCES_CHECK = dg.AssetCheckKey(LANDING_KEY, "dq_sources")
SOURCES_SUITE = "raw"


def _gx_check_specs() -> dict[dg.AssetCheckKey, tuple[str, str]]:
    """Check key → (suite, table) for every checked table Dagster has an asset for: the
    GX suites of the latest load (on landing_files), the dbt data tests of the sources
    (dq_sources, on landing_files), and the data-quality rules of each model and seed
    (its dbt data tests in SQL; a mart's shape in SQL too)."""
    from expectations.tables import INCOMING_TABLES

    specs: dict[dg.AssetCheckKey, tuple[str, str]] = {}
    for table in INCOMING_TABLES:
        name = table.split(".", 1)[1]
        specs[dg.AssetCheckKey(LANDING_KEY, f"gx_incoming_{name}")] = ("incoming", table)
    specs[SOURCES_CHECK] = (SOURCES_SUITE, f"{SOURCES_SUITE}.*")
    for layer in ("staging", "intermediate", "marts", "seeds"):
        for name in sorted(_model_names(layer)):
            key = dg.AssetCheckKey(dg.AssetKey([layer, name]), f"dq_{layer}")
            specs[key] = (layer, f"{layer}.{name}")
    return specs


GX_CHECKS = _gx_check_specs()


def results_of(key: dg.AssetCheckKey, results: list) -> list:
    """The results a check reports: its table's (a GX suite's rows only for gx_incoming_*,
    since the sources' dbt tests name the same raw tables), or every source test's."""
    suite, table = GX_CHECKS[key]
    if key == SOURCES_CHECK:
        return [r for r in results if r.suite == SOURCES_SUITE]
    return [r for r in results if r.table == table and (suite != "incoming" or r.suite == suite)]


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


def checked_days(db_path: Path, window: BuildWindow, target: Path) -> BuildWindow:
    """The days a run's checks cover: its window widened to every day the builds since
    the last publication to `target` rewrote (kefu.nightly.unpublished_days). A run whose
    checks failed still built its days, and the next publication copies them: checking
    only the next run's window would publish them unchecked. Every day for a run
    without a window, or when a full build is among them; never fewer than the run's
    own days."""
    if window.every_day or not db_path.exists():
        return window
    with duckdb.connect(str(db_path)) as con:
        build_id = wh.last_built(con)
    if build_id is None:
        return window
    days = unpublished_days(db_path, build_id, window, target)
    # Joined with the run's own days, in case the last build was another writer's.
    start = None if None in (days.start, window.start) else min(days.start, window.start)
    end = None if None in (days.end, window.end) else max(days.end, window.end)
    return BuildWindow(start=start, end=end, as_of=window.as_of)


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            key.name,
            asset=key.asset_key,
            # The marts' checks gate the publication; a warning never blocks.
            blocking=key.asset_key.path[0] == "marts",
            description=(
                f"Great Expectations suite '{suite}' on {table} (kefu check)"
                if suite == "incoming"
                else f"dbt data tests of {table} in SQL, over the run's window (kefu check)"
                if key != SOURCES_CHECK
                else "dbt data tests of the sources (schema raw), in SQL (kefu check)"
            ),
        )
        for key, (suite, table) in GX_CHECKS.items()
    ],
    can_subset=True,
    name="gx_suites",
)
def gx_suites(context: dg.AssetCheckExecutionContext, warehouse: KefuWarehouse):
    from kefu.checks import run_checks

    selected = [key for key in GX_CHECKS if key in context.selected_asset_check_keys]
    run = context.instance.get_run_by_id(context.run.run_id)
    tags = run.tags if run else {}
    window = BuildWindow(start=_iso(tags.get(TAG_START)), end=_iso(tags.get(TAG_END)))
    with warehouse_lock(warehouse.db_path(), f"dagster run {context.run.run_id[:8]} checks"):
        window = checked_days(warehouse.db_path(), window, warehouse.publish_path())
        # Every check (the nightly job), or the sources' (not selectable by table): every
        # dbt test and GX suite, as `kefu check` runs them; else the selected tables'.
        everything = len(selected) == len(GX_CHECKS) or SOURCES_CHECK in selected
        report = run_checks(
            warehouse.db_path(),
            None if everything else [GX_CHECKS[key][1] for key in selected],
            window=window,
        )
    context.log.info(report.summary())
    for key in selected:
        yield _check_result(key, results_of(key, report.results))


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
        "The published file BI opens (docs/metrics.md §14): schema marts of the last build whose"
        " checks passed, copied into a new DuckDB file (storage v1.0.0) renamed over the"
        " previous one, and one Parquet folder per mart beside it. Its marts.publication"
        " row: as-of date, window, and what the builds since the last publication took in."
    ),
)
def publication(context: dg.AssetExecutionContext, warehouse: KefuWarehouse):
    db_path = warehouse.db_path()
    with warehouse_lock(db_path, f"dagster run {context.run.run_id[:8]} publish"):
        return _publish(context, db_path, warehouse.publish_path())


def _publish(context: dg.AssetExecutionContext, db_path: Path, target: Path):
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
        build_id = wh.last_built(con)
    if critical:
        raise dg.Failure(f"not published: {critical} critical expectation(s) failed (kefu check)")
    if build_id is None:
        raise dg.Failure(f"not published: {db_path} records no successful build")
    window = (_iso(tags.get(TAG_START)), _iso(tags.get(TAG_END)))
    row = publication_row(db_path, build_id, as_of, window, warning_failed_cnt=int(warnings))
    # The manifest of the dbt build of this job (kefu_dbt_models' target path).
    manifest = Path(dbt_env(db_path)["DBT_TARGET_PATH"]).parent / "dagster" / "manifest.json"
    marts = publish(db_path, row, target, build_id, manifest)
    return dg.MaterializeResult(
        metadata={
            "as_of_date": as_of.isoformat(),
            "window": f"{row.window_start} … {row.window_end}",
            "published_file": dg.MetadataValue.path(str(target)),
            "marts": len(marts),
            "load_run_ids": row.load_run_ids or "none",
        }
    )
