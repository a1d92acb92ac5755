"""`kefu check`: run the data-quality suites (expectations/suites.py) with Great Expectations.

Each table is read from DuckDB into a pandas DataFrame and validated by GX 1.x in an
ephemeral context (GX's SQL path is not reliable with DuckDB). The results replace
those of the same suites in `marts.dq_results`: one row per expectation, no timestamps.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from kefu.paths import PROJECT_DIR

if TYPE_CHECKING:
    from expectations import suites as suite_defs

DQ_RESULTS_DDL = """
    create table if not exists marts.dq_results (
        suite varchar not null,
        "table" varchar not null,
        expectation varchar not null,
        "column" varchar,
        is_critical boolean not null,
        success boolean not null,
        unexpected_count bigint,
        detail varchar
    )"""


@dataclass(frozen=True)
class ExpectationResult:
    """The outcome of one expectation on one table."""

    suite: str
    table: str
    expectation: str  # GX expectation type, or table_exists
    column: str | None
    is_critical: bool
    success: bool
    unexpected_count: int | None = None
    detail: str | None = None

    def describe(self) -> str:
        where = f"[{self.column}]" if self.column else ""
        if self.expectation == "table_exists":
            return self.detail or f"table {self.table} missing"
        extra = []
        if self.unexpected_count:
            extra.append(f"{self.unexpected_count} unexpected")
        if self.detail:
            extra.append(self.detail)
        tail = f" ({'; '.join(extra)})" if extra else ""
        return f"{self.table}: {self.expectation}{where}{tail}"


@dataclass
class CheckReport:
    """Results of the suites run, one entry per expectation."""

    suites: list[str]
    results: list[ExpectationResult] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return not self.failed_critical()

    def failed_critical(self) -> list[ExpectationResult]:
        return [r for r in self.results if r.is_critical and not r.success]

    def failed_warnings(self) -> list[ExpectationResult]:
        return [r for r in self.results if not r.is_critical and not r.success]

    def summary(self) -> str:
        """A line per suite and table: expectations passed / failed, criticals failed."""
        lines = []
        tables: dict[tuple[str, str], list[ExpectationResult]] = {}
        for result in self.results:
            tables.setdefault((result.suite, result.table), []).append(result)
        for (suite, table), results in tables.items():
            passed = sum(r.success for r in results)
            failed = len(results) - passed
            critical = sum(r.is_critical and not r.success for r in results)
            lines.append(
                f"{suite:<9} {table:<36} {passed:>3} passed {failed:>3} failed"
                f" ({critical} critical)"
            )
        verdict = "checks passed" if self.success else "checks FAILED"
        warnings = len(self.failed_warnings())
        lines.append(
            f"{verdict}: {len(self.results)} expectations, "
            f"{len(self.failed_critical())} critical failed, {warnings} warnings"
        )
        return "\n".join(lines)

    def reason(self) -> str:
        """One line naming the failed critical expectations."""
        failed = self.failed_critical()
        if not failed:
            return "no critical expectation failed"
        return f"{len(failed)} critical expectation(s) failed: " + "; ".join(
            r.describe() for r in failed
        )


# ---------------------------------------------------------------- running the suites


def _quiet_gx_logging() -> None:
    """GX logs its import and ephemeral set-up at INFO; one module pins its logger to INFO
    when imported, so this runs before and after the imports."""
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)


def suite_definitions() -> ModuleType:
    """expectations.suites, imported on first use (GX takes seconds to import)."""
    _quiet_gx_logging()
    try:
        from expectations import suites
    except ModuleNotFoundError:  # `kefu` run from outside the repo before a reinstall
        sys.path.append(str(PROJECT_DIR))
        from expectations import suites
    return suites


def select_suites(
    names: list[str] | None,
) -> list[tuple[str, str, suite_defs.SuiteFunction]]:
    """(suite, table, function) of the named suites: suite names (incoming, staging,
    marts), or table names (agent_daily_kpis, marts.agent_daily_kpis); None = all."""
    chosen = []
    suites = suite_definitions().SUITES
    for suite, entries in suites.items():
        for table, function in entries:
            bare = table.split(".", 1)[-1]
            wanted = names is None or any(n in (suite, table, bare) for n in names)
            if wanted:
                chosen.append((suite, table, function))
    if names and not chosen:
        known = ", ".join(suites)
        raise ValueError(f"no data-quality suite named {', '.join(names)} (suites: {known})")
    return chosen


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str] | None:
    """The columns of schema.table in order, or None when it does not exist."""
    schema, name = table.split(".", 1)
    if schema == "information_schema":
        return ["table_name", "column_name"]
    rows = con.execute(
        "select column_name from information_schema.columns"
        " where table_catalog = current_database() and table_schema = ? and table_name = ?"
        " order by ordinal_position",
        [schema, name],
    ).fetchall()
    return [row[0] for row in rows] or None


def _missing(suite: str, table: str, hint: str) -> ExpectationResult:
    return ExpectationResult(
        suite=suite,
        table=table,
        expectation="table_exists",
        column=None,
        is_critical=True,
        success=False,
        detail=f"table {table} missing — {hint}",
    )


def _column_label(kwargs: dict[str, Any]) -> str | None:
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(str(c) for c in kwargs["column_list"])
    return None  # table-level (column_set): the detail names the missing columns


def _detail(result: Any) -> str | None:
    info = result.exception_info or {}
    if isinstance(info, dict) and info.get("raised_exception"):
        return f"error: {str(info.get('exception_message') or '')[:200]}"
    mismatched = (result.result or {}).get("details", {}).get("mismatched", {})
    if mismatched.get("missing"):
        return "missing columns: " + ", ".join(mismatched["missing"])
    observed = (result.result or {}).get("observed_value")
    if not result.success and isinstance(observed, list) and observed:
        return "found: " + ", ".join(str(o) for o in observed)
    examples = (result.result or {}).get("partial_unexpected_list") or []
    if not result.success and examples:
        return "e.g. " + ", ".join(str(e) for e in examples[:3])
    return None


class _Validator:
    """One ephemeral GX context validating DataFrames against lists of expectations."""

    def __init__(self) -> None:
        _quiet_gx_logging()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _quiet_gx_logging()
        self._gx = gx
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._datasource = self._context.data_sources.add_pandas("kefu_warehouse")

    def validate(self, table_suite: suite_defs.TableSuite, frame: pd.DataFrame) -> list[Any]:
        gx = self._gx
        name = table_suite.table.replace(".", "__").replace("*", "all")
        asset = self._datasource.add_dataframe_asset(name=name)
        batch_definition = asset.add_batch_definition_whole_dataframe(f"{name}__whole")
        # Expectations go in before the suite is stored: adding them one by one to a stored
        # suite serialises it on every call.
        suite = self._context.suites.add(
            gx.ExpectationSuite(
                name=f"{table_suite.suite}__{name}",
                expectations=[check.expectation for check in table_suite.checks],
            )
        )
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        return list(batch.validate(suite).results)


def _run_table(
    con: duckdb.DuckDBPyConnection,
    validator: _Validator,
    suite: str,
    table: str,
    function: suite_defs.SuiteFunction,
) -> list[ExpectationResult]:
    existing = _table_columns(con, table)
    if existing is None:
        hint = function([]).missing_hint
        return [_missing(suite, table, hint)]
    table_suite = function(existing)
    frame = con.execute(table_suite.sql).df()
    results = []
    for result in validator.validate(table_suite, frame):
        config = result.expectation_config
        results.append(
            ExpectationResult(
                suite=suite,
                table=table_suite.table,
                expectation=config.type,
                column=_column_label(config.kwargs),
                is_critical=str(getattr(config.severity, "value", config.severity)) == "critical",
                success=bool(result.success),
                unexpected_count=(result.result or {}).get("unexpected_count"),
                detail=_detail(result),
            )
        )
    return results


def write_results(con: duckdb.DuckDBPyConnection, report: CheckReport) -> None:
    """Replace the rows of the tables checked in marts.dq_results."""
    con.execute("create schema if not exists marts")
    con.execute(DQ_RESULTS_DDL)
    con.execute("begin transaction")
    try:
        checked = sorted({(r.suite, r.table) for r in report.results})
        for suite, table in checked:
            con.execute(
                'delete from marts.dq_results where suite = ? and "table" = ?', [suite, table]
            )
        rows = [
            (
                r.suite,
                r.table,
                r.expectation,
                r.column,
                r.is_critical,
                r.success,
                r.unexpected_count,
                r.detail,
            )
            for r in report.results
        ]
        if rows:
            con.executemany("insert into marts.dq_results values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("commit")
    except duckdb.Error:
        con.execute("rollback")
        raise


def run_checks(db_path: Path, suites: Iterable[str] | None = None) -> CheckReport:
    """Run the data-quality suites on the warehouse; record the results in
    marts.dq_results. `.success` is False when any critical expectation failed."""
    chosen = select_suites(list(suites) if suites is not None else None)
    report = CheckReport(suites=sorted({suite for suite, _, _ in chosen}))
    if not Path(db_path).exists():
        report.results = [
            _missing(suite, table, f"warehouse {db_path} not found: run kefu load and kefu build")
            for suite, table, _ in chosen
        ]
        return report
    validator = _Validator()
    with duckdb.connect(str(db_path)) as con:
        for suite, table, function in chosen:
            report.results += _run_table(con, validator, suite, table, function)
        write_results(con, report)
    return report
