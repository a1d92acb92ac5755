"""`kefu run-nightly`: load → decide the refresh window → build it → check → publish.

- The window is `kefu.windows.refresh_window`: the days whose conversion is still maturing
  (as_of − final_pay_days … as_of), widened back to the earliest day the rows of every
  load run no successful build took in yet touch (the build watermark, raw.build_runs:
  whoever loaded them, whatever failed in between), stretched over the days of builds
  that were started and never finished, or a full build when the marts do not exist yet,
  or master data (shops, agents, filters) was loaded or the seeds changed since the last
  successful build.
- as_of defaults to the last day the loaded data covers, read from the warehouse.
- The whole night holds the warehouse lock (kefu.lock): one writer at a time.
- Publish, only when no critical check failed: the single row of `marts.publication`
  (what the build took in since the last publication), then schema `marts` copied into
  the published file (kefu.publish). A rejected file does not stop the night: the good
  files are loaded, built, checked and published, but the outcome is a failure (exit
  status 1) naming the file, so that someone looks at it; the publication row counts
  the rejected files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, dataclass, field
from pathlib import Path

import duckdb

from kefu import warehouse
from kefu.build import (
    BuildError,
    BuildWindow,
    build,
    dbt_env,
    parsed_once,
    refuse_windowed_full_refresh,
)
from kefu.checks import CheckReport, run_checks
from kefu.loader import LoadReport, load_landing
from kefu.lock import warehouse_lock
from kefu.pseudonyms import PseudonymKeyError
from kefu.publish import (
    PublishError,
    Refresh,
    publish_marts,
    resolve_publish_path,
    window_marts,
)
from kefu.schema import ensure_raw_schema
from kefu.windows import (
    FULL_BUILD,
    Window,
    cover_unfinished,
    needs_full_build,
    pending_load_runs,
    refresh_window,
)

PUBLICATION_DDL = """
    create or replace table marts.publication (
        as_of_date date not null,
        window_start date,
        window_end date,
        is_full_build boolean not null,
        checks_passed boolean not null,
        critical_failed_cnt integer not null,
        warning_failed_cnt integer not null,
        load_run_id integer,
        load_run_ids varchar not null,
        files_loaded_cnt integer not null,
        files_skipped_cnt integer not null,
        files_rejected_cnt integer not null,
        rows_loaded_cnt bigint not null,
        rows_quarantined_cnt bigint not null,
        rows_duplicate_cnt bigint not null
    )"""


@dataclass(frozen=True)
class Publication:
    """The row of marts.publication: what BI may rely on, and what the builds since the
    previous publication took in (load_run_id: the latest of those load runs)."""

    as_of_date: dt.date
    window_start: dt.date | None
    window_end: dt.date | None
    is_full_build: bool
    checks_passed: bool
    critical_failed_cnt: int
    warning_failed_cnt: int
    load_run_id: int | None
    load_run_ids: str
    files_loaded_cnt: int
    files_skipped_cnt: int
    files_rejected_cnt: int
    rows_loaded_cnt: int
    rows_quarantined_cnt: int
    rows_duplicate_cnt: int


@dataclass(frozen=True)
class Plan:
    """What the night builds: its as-of date and refresh window, and why."""

    as_of: dt.date
    window: Window
    final_pay_days: int
    earliest_new_date: dt.date | None
    marts_existed: bool
    master_data_changed: bool
    load_run_ids: tuple[int, ...] = ()  # the load runs this build takes in
    unfinished_builds: int = 0
    up_to_date_build: int | None = None  # a no-op night: the published build that stands

    def describe(self) -> str:
        start, end = self.window
        if self.up_to_date_build is not None:
            return (
                f"as of {self.as_of}: nothing new since build {self.up_to_date_build} "
                "(published, same as-of date): build and checks skipped, "
                "load runs taken in: none"
            )
        if self.window == FULL_BUILD:
            if not self.marts_existed:
                why = "marts missing"
            elif self.master_data_changed:
                why = "master data or seeds changed"
            else:
                why = "an unfinished full build"
            span = f"full build ({why})"
        else:
            span = f"window {start} … {end}"
            if self.earliest_new_date and start == self.earliest_new_date:
                span += " (widened to late-arriving data)"
        runs = ", ".join(str(run) for run in self.load_run_ids) or "none"
        text = f"as of {self.as_of}: {span}, final_pay_days {self.final_pay_days}"
        text += f", load runs taken in: {runs}"
        if self.unfinished_builds:
            text += f", covering {self.unfinished_builds} unfinished build(s)"
        return text


@dataclass
class NightlyOutcome:
    """What one nightly run did."""

    load: LoadReport | None = None
    plan: Plan | None = None
    checks: CheckReport | None = None
    published: bool = False
    published_to: Path | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        """A no-op night: nothing new since the published build of the same as-of date."""
        return self.plan is not None and self.plan.up_to_date_build is not None

    @property
    def success(self) -> bool:
        checked = self.skipped or (self.checks is not None and self.checks.success)
        return not self.errors and self.load is not None and not self.load.rejected and checked

    def summary(self) -> str:
        lines = []
        if self.load is not None:
            lines.append(self.load.summary())
        if self.plan is not None:
            lines.append(f"build: {self.plan.describe()}")
        if self.checks is not None:
            lines.append(self.checks.summary())
        if self.skipped and self.published:
            lines.append(f"published {self.published_to} (unchanged: the marts are up to date)")
        else:
            lines.append(
                f"published {self.published_to} (schema marts, checks passed)"
                if self.published
                else "not published (the published file keeps the previous good night)"
            )
        return "\n".join(lines)

    def reason(self) -> str:
        """One line: why the night is not a success ('' when it is)."""
        parts = list(self.errors)
        if self.load is not None and self.load.rejected:
            parts.append(f"load: {self.load.reason()}")
        if self.checks is not None and not self.checks.success:
            parts.append(f"checks: {self.checks.reason()}")
        return "; ".join(parts)


def plan_build(db_path: Path, as_of: dt.date | None = None, read_only: bool = False) -> Plan | None:
    """The as-of date and refresh window of the next build, from the build watermark: every
    load run no successful build took in yet; None when the warehouse holds no data.
    read_only suits another process than the writer's (a schedule tick)."""
    with warehouse.connect(db_path, read_only=read_only) as con:
        as_of = as_of or warehouse.data_last_day(con)
        if as_of is None or con is None:
            return None
        final_pay_days = warehouse.ruleset_parameter(con, "final_pay_days")
        lookback = max(1, warehouse.ruleset_parameter(con, "consult_window_days"))
        mark = warehouse.read_watermark(con)
        pending = pending_load_runs(mark.loaded_runs, mark.taken_in_runs)
        file_ids = warehouse.loaded_file_ids(con, pending)
        earliest = warehouse.new_rows_earliest_date(
            con, file_ids, lookback, max(lookback, final_pay_days)
        )
        full = needs_full_build(
            warehouse.loaded_entities(con, file_ids),
            warehouse.MASTER_DATA_ENTITIES,
            warehouse.seeds_digest(),
            mark.last_seeds_sha256,
        )
        marts_existed = warehouse.marts_exist(con)
    window = refresh_window(
        as_of, final_pay_days, earliest, marts_existed, master_data_changed=full
    )
    window = cover_unfinished(window, mark.unfinished_windows)
    up_to_date = None
    if not (pending or full or mark.unfinished_windows) and marts_existed:
        up_to_date = _published_build_as_of(db_path, as_of, read_only)
    return Plan(
        as_of,
        window,
        final_pay_days,
        earliest,
        marts_existed,
        full,
        tuple(pending),
        len(mark.unfinished_windows),
        up_to_date,
    )


def _published_build_as_of(db_path: Path, as_of: dt.date, read_only: bool) -> int | None:
    """The last successful build when a publication shipped it and it was built for
    `as_of` (nothing loaded since, no build started since: the caller checked), else None.
    The marts then already hold what a build for `as_of` would write."""
    with warehouse.connect(db_path, read_only=read_only) as con:
        if con is None or "build_runs" not in warehouse.existing_tables(con, "raw"):
            return None
        row = con.execute(
            "select build_id, as_of_date, published from raw.build_runs"
            " where status = 'built' order by build_id desc limit 1"
        ).fetchone()
    if row is None or not row[2] or row[1] != as_of:
        return None
    return int(row[0])


def pending_runs(db_path: Path) -> list[int]:
    """Every load run no successful build took in yet (a full build takes them all in)."""
    with warehouse.connect(db_path) as con:
        mark = warehouse.read_watermark(con)
    return pending_load_runs(mark.loaded_runs, mark.taken_in_runs)


def build_recorded(
    db_path: Path,
    window: BuildWindow,
    load_run_ids: tuple[int, ...] | list[int],
    command: str,
    full_refresh: bool = False,
    data_tests: bool = True,
) -> int:
    """Build, recorded in raw.build_runs: 'started' before dbt runs, 'built' once it
    succeeded (then `load_run_ids` count as taken in); the build_id. Without data_tests
    the caller runs them (kefu.checks.run_checks over the same window)."""
    refuse_windowed_full_refresh(window, full_refresh)  # before a build is recorded
    try:
        ensure_raw_schema(db_path, every_day=window.every_day)
    except PseudonymKeyError as exc:
        raise BuildError(str(exc)) from exc
    with duckdb.connect(str(db_path)) as con:
        seeded = seeds_loaded(con, window, full_refresh)
        build_id = warehouse.start_build(
            con, command, window.as_of, (window.start, window.end), list(load_run_ids)
        )
    build(db_path, window, full_refresh=full_refresh, data_tests=data_tests, seeds=not seeded)
    with duckdb.connect(str(db_path)) as con:
        warehouse.finish_build(con, build_id)
    return build_id


def seeds_loaded(
    con: duckdb.DuckDBPyConnection, window: BuildWindow, full_refresh: bool = False
) -> bool:
    """Whether a window build may keep the seed tables: the last successful build loaded
    the seed files as they are now (same digest), and no build started since stopped
    half-way (one may have left a seed table half-loaded). A full build, or a full
    refresh, loads them again."""
    if window.every_day or full_refresh:
        return False
    mark = warehouse.read_watermark(con)
    return not mark.unfinished_windows and mark.last_seeds_sha256 == warehouse.seeds_digest()


def unpublished_days(
    db_path: Path, build_id: int, window: BuildWindow, target: Path
) -> BuildWindow:
    """The days a night's checks cover before it publishes to `target`: the days every
    build since the last publication rewrote, this one included. A night whose checks
    failed took its rows in unchecked, and the publication copies all those days
    (kefu.publish.Refresh). Every day when one of those builds was a full build, or the
    file at `target` is not the last publication's."""
    if window.every_day:
        return window
    with duckdb.connect(str(db_path)) as con:
        days = warehouse.days_since_publication(con, build_id, target)
    if days is None:
        return BuildWindow(as_of=window.as_of)
    return BuildWindow(start=days[0], end=days[1], as_of=window.as_of)


def publication_row(
    db_path: Path,
    build_id: int,
    as_of: dt.date,
    window: Window,
    warning_failed_cnt: int = 0,
    files_skipped_cnt: int = 0,
) -> Publication:
    """The publication of build `build_id`: its window, and what the builds since the
    previous publication took in."""
    with duckdb.connect(str(db_path)) as con:
        totals = warehouse.unpublished_load_totals(con, build_id)
    runs = totals["load_run_ids"]
    start, end = window
    return Publication(
        as_of_date=as_of,
        window_start=start,
        window_end=end,
        is_full_build=window == FULL_BUILD,
        checks_passed=True,
        critical_failed_cnt=0,
        warning_failed_cnt=warning_failed_cnt,
        load_run_id=max(runs) if runs else None,
        load_run_ids=",".join(str(run) for run in runs),
        files_loaded_cnt=totals["files_loaded"],
        files_skipped_cnt=files_skipped_cnt,
        files_rejected_cnt=totals["files_rejected"],
        rows_loaded_cnt=totals["rows_loaded"],
        rows_quarantined_cnt=totals["rows_quarantined"],
        rows_duplicate_cnt=totals["rows_duplicate"],
    )


def write_publication_row(db_path: Path, publication: Publication) -> None:
    """Replace the single row of marts.publication (no wall-clock time in it)."""
    values = list(astuple(publication))
    marks = ", ".join("?" for _ in values)
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("begin transaction")
        con.execute(PUBLICATION_DDL)
        con.execute(f"insert into marts.publication values ({marks})", values)
        con.execute("commit")


def publish(
    db_path: Path,
    publication: Publication,
    target: Path,
    build_id: int | None = None,
    manifest: Path | None = None,
) -> list[str]:
    """The publication row in the warehouse, then schema marts copied into the published
    file `target` (atomically replaced), then the build marked published; the marts.
    After window builds only, the per-day marts' window days go into a copy of the last
    publication (kefu.publish.Refresh); `manifest` is the dbt manifest of the build
    (default: kefu build's), which says which marts those are."""
    write_publication_row(db_path, publication)
    refresh = None
    if build_id is not None:
        with duckdb.connect(str(db_path)) as con:
            days = warehouse.days_since_publication(con, build_id, target)
        if days is not None:
            manifest = manifest or Path(dbt_env(db_path)["DBT_TARGET_PATH"]) / "manifest.json"
            refresh = Refresh(days[0], days[1], window_marts(manifest))
    marts = publish_marts(db_path, target, refresh)
    if build_id is not None:
        with duckdb.connect(str(db_path)) as con:
            warehouse.mark_published(con, build_id)
            warehouse.record_published_file(con, build_id, target)
    return marts


def run_nightly(
    db_path: Path,
    landing_dir: Path,
    as_of: dt.date | None = None,
    publish_path: Path | None = None,
    lock_timeout: float | str | None = None,
) -> NightlyOutcome:
    """Load the landing zone, rebuild the refresh window, run the checks, publish; all
    under the warehouse lock."""
    with warehouse_lock(db_path, "kefu run-nightly", lock_timeout), parsed_once():
        return _night(db_path, landing_dir, as_of, publish_path)


def _night(
    db_path: Path, landing_dir: Path, as_of: dt.date | None, publish_path: Path | None
) -> NightlyOutcome:
    outcome = NightlyOutcome()
    outcome.load = load_landing(db_path, landing_dir)
    outcome.plan = plan_build(db_path, as_of)
    if outcome.plan is None:
        outcome.errors.append(
            f"no messages or orders in {db_path}: nothing to build (landing zone {landing_dir})"
        )
        return outcome
    if outcome.skipped:
        return _keep_publication(db_path, publish_path, outcome)
    start, end = outcome.plan.window
    window = BuildWindow(start=start, end=end, as_of=outcome.plan.as_of)
    target = publish_path or resolve_publish_path(db_path)
    try:
        build_id = build_recorded(
            db_path, window, outcome.plan.load_run_ids, "kefu run-nightly", data_tests=False
        )
        # The data tests run once, here: over the days not published since they were
        # built, in SQL (kefu.checks). GX validates the rows of the load runs this build
        # took in (none: not again).
        outcome.checks = run_checks(
            db_path,
            window=unpublished_days(db_path, build_id, window, target),
            load_runs=outcome.plan.load_run_ids,
        )
    except BuildError as exc:
        outcome.errors.append(str(exc))
        return outcome
    if not outcome.checks.success:
        return outcome
    row = publication_row(
        db_path,
        build_id,
        outcome.plan.as_of,
        outcome.plan.window,
        warning_failed_cnt=len(outcome.checks.failed_warnings()),
        files_skipped_cnt=len(outcome.load.skipped),
    )
    try:
        publish(db_path, row, target, build_id)
    except PublishError as exc:
        outcome.errors.append(str(exc))
        return outcome
    outcome.published = True
    outcome.published_to = target
    return outcome


def _keep_publication(
    db_path: Path, publish_path: Path | None, outcome: NightlyOutcome
) -> NightlyOutcome:
    """A no-op night: the published file stands; copied again from the warehouse (whose
    marts and publication row are the published build's) only when it went missing."""
    target = publish_path or resolve_publish_path(db_path)
    if not target.exists():
        try:
            publish_marts(db_path, target)
        except PublishError as exc:
            outcome.errors.append(str(exc))
            return outcome
    outcome.published = True
    outcome.published_to = target
    return outcome
