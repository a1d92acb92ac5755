"""`kefu run-nightly`: load → decide the refresh window → build it → check → publish.

- The window is `kefu.windows.refresh_window`: the days whose conversion is still maturing
  (as_of − final_pay_days … as_of), widened back to the earliest day newly loaded rows
  touch, or a full build when the marts do not exist yet or master data (shops, agents,
  filters) changed.
- as_of defaults to the last day the loaded data covers, read from the warehouse.
- Publish writes the single row of `marts.publication` only when no critical check
  failed. A rejected file does not stop the night: the good files are loaded, built,
  checked and published, but the outcome is a failure (exit status 1) naming the file,
  so that someone looks at it; the publication row counts the rejected files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, dataclass, field
from pathlib import Path

import duckdb

from kefu import warehouse
from kefu.build import BuildError, BuildWindow, build
from kefu.checks import CheckReport, run_checks
from kefu.loader import LoadReport, load_landing
from kefu.windows import FULL_BUILD, Window, refresh_window

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
        files_loaded_cnt integer not null,
        files_skipped_cnt integer not null,
        files_rejected_cnt integer not null,
        rows_loaded_cnt bigint not null,
        rows_quarantined_cnt bigint not null,
        rows_duplicate_cnt bigint not null
    )"""


@dataclass(frozen=True)
class Publication:
    """The row of marts.publication: what BI may rely on, and what the last load brought."""

    as_of_date: dt.date
    window_start: dt.date | None
    window_end: dt.date | None
    is_full_build: bool
    checks_passed: bool
    critical_failed_cnt: int
    warning_failed_cnt: int
    load_run_id: int | None
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

    def describe(self) -> str:
        start, end = self.window
        if self.window == FULL_BUILD:
            why = "marts missing" if not self.marts_existed else "master data changed"
            span = f"full build ({why})"
        else:
            span = f"window {start} … {end}"
            if self.earliest_new_date and start == self.earliest_new_date:
                span += " (widened to late-arriving data)"
        return f"as of {self.as_of}: {span}, final_pay_days {self.final_pay_days}"


@dataclass
class NightlyOutcome:
    """What one nightly run did."""

    load: LoadReport | None = None
    plan: Plan | None = None
    checks: CheckReport | None = None
    published: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return (
            not self.errors
            and self.load is not None
            and not self.load.rejected
            and self.checks is not None
            and self.checks.success
        )

    def summary(self) -> str:
        lines = []
        if self.load is not None:
            lines.append(self.load.summary())
        if self.plan is not None:
            lines.append(f"build: {self.plan.describe()}")
        if self.checks is not None:
            lines.append(self.checks.summary())
        lines.append(
            "published marts.publication"
            if self.published
            else "not published (marts.publication keeps the previous run)"
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


def plan_build(db_path: Path, new_file_ids: list[int], as_of: dt.date | None) -> Plan | None:
    """The as-of date and refresh window once the files `new_file_ids` are loaded;
    None when the warehouse holds no data at all."""
    with warehouse.connect(db_path) as con:
        as_of = as_of or warehouse.data_last_day(con)
        if as_of is None or con is None:
            return None
        final_pay_days = warehouse.ruleset_parameter(con, "final_pay_days")
        lookback = max(1, warehouse.ruleset_parameter(con, "consult_window_days"))
        earliest = warehouse.new_rows_earliest_date(con, new_file_ids, lookback)
        master_changed = bool(
            warehouse.loaded_entities(con, new_file_ids) & set(warehouse.MASTER_DATA_ENTITIES)
        )
        marts_existed = warehouse.marts_exist(con)
    window = refresh_window(
        as_of, final_pay_days, earliest, marts_existed, master_data_changed=master_changed
    )
    return Plan(as_of, window, final_pay_days, earliest, marts_existed, master_changed)


def publication_of(plan: Plan, load: LoadReport, checks: CheckReport) -> Publication:
    totals = load.totals()
    start, end = plan.window
    return Publication(
        as_of_date=plan.as_of,
        window_start=start,
        window_end=end,
        is_full_build=plan.window == FULL_BUILD,
        checks_passed=checks.success,
        critical_failed_cnt=len(checks.failed_critical()),
        warning_failed_cnt=len(checks.failed_warnings()),
        load_run_id=load.load_run_id,
        files_loaded_cnt=len(load.loaded),
        files_skipped_cnt=len(load.skipped),
        files_rejected_cnt=len(load.rejected),
        rows_loaded_cnt=totals["rows_loaded"],
        rows_quarantined_cnt=totals["rows_quarantined"],
        rows_duplicate_cnt=totals["rows_duplicate"],
    )


def publish(db_path: Path, publication: Publication) -> None:
    """Replace the single row of marts.publication (no wall-clock time in it)."""
    values = list(astuple(publication))
    marks = ", ".join("?" for _ in values)
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("begin transaction")
        con.execute(PUBLICATION_DDL)
        con.execute(f"insert into marts.publication values ({marks})", values)
        con.execute("commit")


def run_nightly(db_path: Path, landing_dir: Path, as_of: dt.date | None = None) -> NightlyOutcome:
    """Load the landing zone, rebuild the refresh window, run the checks, publish."""
    outcome = NightlyOutcome()
    outcome.load = load_landing(db_path, landing_dir)
    new_file_ids = [r.file_id for r in outcome.load.loaded if r.file_id is not None]
    outcome.plan = plan_build(db_path, new_file_ids, as_of)
    if outcome.plan is None:
        outcome.errors.append(
            f"no messages or orders in {db_path}: nothing to build (landing zone {landing_dir})"
        )
        return outcome
    start, end = outcome.plan.window
    try:
        build(db_path, BuildWindow(start=start, end=end, as_of=outcome.plan.as_of))
    except BuildError as exc:
        outcome.errors.append(str(exc))
        return outcome
    outcome.checks = run_checks(db_path)
    if outcome.checks.success:
        publish(db_path, publication_of(outcome.plan, outcome.load, outcome.checks))
        outcome.published = True
    return outcome
