"""`kefu build`: run the dbt project against the warehouse file."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kefu import progress
from kefu.build_errors import failure_of, failure_summary
from kefu.machine import memory_limit, temp_directory
from kefu.paths import PROJECT_DIR
from kefu.pseudonyms import PseudonymKeyError, mark_rekeyed
from kefu.schema import ensure_raw_schema


class BuildError(RuntimeError):
    """dbt reported a failed model or test."""


@dataclass(frozen=True)
class BuildWindow:
    """The biz_dates a build refreshes (None = all days) and the as-of date."""

    start: dt.date | None = None
    end: dt.date | None = None
    as_of: dt.date | None = None

    @property
    def every_day(self) -> bool:
        """No bound on either side: the build rewrites every day (an end alone bounds it)."""
        return self.start is None and self.end is None

    def dbt_vars(self) -> dict[str, str | None]:
        return {
            "start_date": self.start.isoformat() if self.start else None,
            "end_date": self.end.isoformat() if self.end else None,
            "as_of_date": self.as_of.isoformat() if self.as_of else None,
        }

    def dbt_env(self) -> dict[str, str]:
        """The window as the environment the project's kefu_window_var macro reads
        (KEFU_START_DATE, ...; empty = none). Not `--vars`: a changed `--vars` makes dbt
        parse the whole project again, and the window changes every night."""
        return {f"KEFU_{name.upper()}": value or "" for name, value in self.dbt_vars().items()}


def dbt_env(db_path: Path, window: BuildWindow | None = None) -> dict[str, str]:
    """Environment for a dbt process: the warehouse path, the build window (none: every
    day), and target/logs kept per warehouse so that two builds of different warehouses
    never share dbt's working files."""
    work = db_path.parent / ".dbt" / db_path.stem
    return {
        **(window or BuildWindow()).dbt_env(),
        "KEFU_DB": str(db_path),
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_PROJECT_DIR": str(PROJECT_DIR),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "KEFU_DBT_THREADS": os.environ.get("KEFU_DBT_THREADS") or str(dbt_threads()),
        "KEFU_DUCKDB_MEMORY_LIMIT": memory_limit(),
        "KEFU_DUCKDB_TEMP_DIR": str(temp_directory(db_path)),
    }


def dbt_threads() -> int:
    """dbt threads for this machine: one per CPU, at least 2 and at most 8 (DuckDB runs
    each model's query on all cores already; a few threads keep small nodes overlapping)."""
    return max(2, min(8, os.cpu_count() or 2))


@contextlib.contextmanager
def temporary_environment(values: Mapping[str, str]) -> Iterator[None]:
    """os.environ with `values` for the duration (dbt, in-process or a subprocess, reads it)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# The parsed dbt project (manifest) of each dbt target folder, while `parsed_once()` is
# open; None outside it.
_PARSED: dict[str, Any] | None = None


@contextlib.contextmanager
def parsed_once() -> Iterator[None]:
    """dbt commands run inside parse the project once, before the first of them, instead
    of once each: a night's build and its data tests share dbt's parsed project
    (loading it again cost about 2 s a night). The project's files must not change
    inside (the nightly's do not); the window may, since dbt reads it from the
    environment when it compiles each node, not when it parses. A project with an
    ephemeral model is parsed by each command as before (shareable)."""
    global _PARSED
    outer = _PARSED is not None
    if not outer:
        _PARSED = {}
    try:
        yield
    finally:
        if not outer:
            _PARSED = None


def shareable(manifest: Any) -> bool:
    """Whether dbt commands may share this parsed project: not when it has an ephemeral
    model. dbt compiles nodes in place on its manifest and injects an ephemeral model's
    CTE once, so a second command would run the first one's window in that CTE."""
    return not any(
        getattr(node.config, "materialized", None) == "ephemeral"
        for node in manifest.nodes.values()
    )


def _invoke_dbt(db_path: Path, args: list[str], window: BuildWindow | None) -> Any:
    """One dbt command in-process, in the environment of `db_path` and `window`: the
    dbtRunner's result. Inside parsed_once(), with the manifest parsed there."""
    from dbt.cli.main import dbtRunner

    env = dbt_env(db_path, window)
    where = ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    with temporary_environment(env):
        manifest = None
        if _PARSED is not None:
            manifest = _PARSED.get(env["DBT_TARGET_PATH"])
            if manifest is None:
                parsed = dbtRunner(callbacks=progress.dbt_callbacks()).invoke(["parse", *where])
                # A project that does not parse: the command itself says so below.
                if parsed.success and shareable(parsed.result):
                    manifest = _PARSED[env["DBT_TARGET_PATH"]] = parsed.result
        runner = dbtRunner(manifest=manifest, callbacks=progress.dbt_callbacks())
        return runner.invoke([*args, *where])


def run_dbt(db_path: Path, args: list[str], window: BuildWindow | None = None) -> None:
    """Run one dbt command in-process over `window` (none: every day); raise BuildError
    naming what failed."""
    try:
        ensure_raw_schema(db_path, every_day=window is None or window.every_day)
    except PseudonymKeyError as exc:
        raise BuildError(str(exc)) from exc
    try:
        result = _invoke_dbt(db_path, args, window)
    finally:
        release_dbt_connection()
    raise_if_failed(result, f"dbt {args[0]}", db_path)


def raise_if_failed(result: Any, what: str, db_path: Path | None = None) -> None:
    """Raise BuildError naming the failed dbt nodes of a dbtRunner result (or its exception);
    a failed kefu_rules test names its broken rules (read again from `db_path`)."""
    if result.success:
        return
    failed = []
    if result.result is not None and hasattr(result.result, "results"):
        failed = [
            failure_of(r, broken_rules(db_path, r))
            for r in result.result.results
            if str(r.status) in ("error", "fail")
        ]
    detail = failure_summary(failed) if failed else str(result.exception)
    raise BuildError(f"{what} failed: {detail}")


def broken_rules(db_path: Path | None, run_result: Any) -> str:
    """`kefu_at_most(a,b) on 3 row(s); not_null(c) on 1 row(s)` for a failed kefu_rules
    test (its compiled SQL run again in DuckDB), else ''."""
    node = getattr(run_result, "node", None)
    metadata = getattr(node, "test_metadata", None)
    code = getattr(node, "compiled_code", None)
    if db_path is None or getattr(metadata, "name", None) != "kefu_rules" or not code:
        return ""
    import duckdb

    try:
        rows = broken_rule_rows(db_path, code)
    except duckdb.Error:
        return ""
    return "; ".join(f"{rule}({column}) on {count} row(s)" for rule, column, count in rows)


def broken_rule_rows(db_path: Path, compiled_code: str) -> list[tuple[str, str, int]]:
    """(rule, column label, failing rows) of each broken rule: a kefu_rules test's compiled
    SQL run again, read-only."""
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as con:
        rows = con.execute(compiled_code).fetchall()
    return [(str(rule), str(column), int(count)) for rule, column, count in rows]


@dataclass(frozen=True)
class TestOutcome:
    """The outcome of one dbt data test."""

    unique_id: str
    status: str  # pass, fail, warn, error, skipped
    severity: str  # error or warn (its config)
    failures: int | None
    message: str
    compiled_code: str | None = None  # the test's SQL as it ran


def run_dbt_tests(
    db_path: Path, args: list[str], window: BuildWindow | None = None
) -> list[TestOutcome]:
    """Run `dbt test` in-process over `window` and return every test's outcome, failed ones
    included; raise BuildError only when dbt could not run the tests at all (e.g. a parse
    error)."""
    try:
        result = _invoke_dbt(db_path, args, window)
    finally:
        release_dbt_connection()
    if result.result is None or not hasattr(result.result, "results"):
        raise BuildError(f"dbt {args[0]} failed: {result.exception}")
    return [
        TestOutcome(
            unique_id=r.node.unique_id,
            status=str(r.status),
            severity=str(getattr(r.node.config, "severity", "error")).lower(),
            failures=r.failures,
            message=str(r.message or ""),
            compiled_code=getattr(r.node, "compiled_code", None),
        )
        for r in result.result.results
    ]


def release_dbt_connection() -> None:
    """Close the connection dbt-duckdb keeps open in this process after a run, so that
    the warehouse file is free again for other processes (a waiting writer, a check run
    from another shell) as soon as the build is over."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if environment is not None:
        environment.close()


# dbt build arguments that leave out the data and unit tests: the nightly (and Dagster's
# dbt step) builds the models only and runs the data tests once, in `kefu check`.
WITHOUT_TESTS = ("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def makes_tables_anew(window: BuildWindow, every_model: bool) -> bool:
    """A build of every day and every model runs with `--full-refresh`: each incremental table
    is made anew with one `create table as`, instead of dbt writing every day to a
    temporary table, deleting every row of the table and inserting them again (on a
    year: about 8 s of the models' 91 s). The rows are the same either way (the
    window's days are every day); a build of some models keeps the incremental tables
    of the others as they are."""
    return window.every_day and every_model


def refuse_windowed_full_refresh(window: BuildWindow, full_refresh: bool) -> None:
    """A full refresh of a window is refused (BuildError): tables made anew hold what
    their query reads, and the marts read the window's days only."""
    if full_refresh and not window.every_day:
        raise BuildError(
            "a full refresh makes every table anew, so it builds every day, not a window"
            f" ({window.start} … {window.end})"
        )


def build(
    db_path: Path,
    window: BuildWindow = BuildWindow(),
    select: str | None = None,
    full_refresh: bool = False,
    data_tests: bool = True,
    seeds: bool = True,
) -> None:
    """Seed, run and test the dbt project (all days, or the window's days). A full
    refresh drops and re-creates the incremental tables (needed after a column change);
    a build of every day and every model is one always (makes_tables_anew).
    Without data_tests, the data tests are left to a `kefu check` that follows (the
    nightly), so that each runs once. Without seeds, the seed tables are the last
    build's (the caller knows the seed files are the same)."""
    refuse_windowed_full_refresh(window, full_refresh)
    args = ["build"]
    if not data_tests:
        args += WITHOUT_TESTS
    if not seeds:
        args += ["--exclude-resource-type", "seed"]
    if full_refresh or makes_tables_anew(window, every_model=not select):
        args.append("--full-refresh")
    if select:
        # Only the tests whose every parent is selected: a test that also reads an
        # unselected model would fail on a table this build did not make.
        args += ["--select", select, "--indirect-selection", "cautious"]
    run_dbt(db_path, args, window)
    if window.every_day and not select:
        mark_rekeyed(db_path)
