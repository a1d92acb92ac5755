"""`kefu check`: the data-quality rules of the warehouse, each run where it lives.

- The dbt data tests (staging, intermediate and mart models, tests/dbt): every rule on
  the models' rows is written once there. They run in SQL inside DuckDB (`dbt test`),
  over the days of a window when one is given (the get_where_subquery override of
  macros/build_window.sql), else over every row.
- The Great Expectations suite of incoming batches (expectations/suites.py): the rows of
  the latest load (one batch, read into pandas and validated by GX 1.x in an ephemeral
  context). GX is imported only when there are rows to validate.
- The marts' shape (expectations/tables.py: the contract's columns, no message text),
  read in SQL from information_schema.

The results replace those of the same suites and tables in `marts.dq_results`: one row
per expectation or dbt test, no timestamps.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import duckdb

from kefu.build import BuildWindow, TestOutcome, broken_rule_rows, dbt_env, run_dbt_tests
from kefu.paths import PROJECT_DIR

if TYPE_CHECKING:
    # Types only: a night imports pandas when GX validates a batch (0.23 s otherwise).
    import pandas as pd

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


def _expectations_module(name: str) -> ModuleType:
    """expectations.<name>, imported on first use (`kefu` run from outside the repo before a
    reinstall finds it in the project folder)."""
    try:
        return importlib.import_module(f"expectations.{name}")
    except ModuleNotFoundError:
        sys.path.append(str(PROJECT_DIR))
        return importlib.import_module(f"expectations.{name}")


def suite_definitions() -> ModuleType:
    """expectations.suites, the GX incoming suite (GX takes seconds to import)."""
    _quiet_gx_logging()
    return _expectations_module("suites")


def tables() -> ModuleType:
    """expectations.tables: the checked tables and the marts' shape (no GX import)."""
    return _expectations_module("tables")


_BUILD_HINT = "run kefu build first"

INCOMING_SUITE = "incoming"  # GX on the rows of a load run (expectations/suites.py)
SHAPE_SUITE = "marts"  # the marts' shape, in SQL (expectations/tables.py)
ALL_MARTS = "marts.*"  # the shape rule on every table of schema marts

# The layers whose models' dbt data tests `kefu check` runs (suite = the layer's schema).
DBT_SUITES = ("staging", "intermediate", "marts")


@dataclass(frozen=True)
class Selection:
    """What one `kefu check` runs: the GX incoming suite's tables, the marts whose shape is
    checked, and the dbt tests of some models."""

    incoming: tuple[str, ...] = ()  # raw tables of the GX incoming suite
    shapes: tuple[str, ...] = ()  # marts.<name> (MART_KEYS) and ALL_MARTS
    dbt_all: bool = False  # every dbt test of the project
    dbt_layers: tuple[str, ...] = ()  # the tests of these layers' models
    dbt_models: tuple[str, ...] = ()  # the tests of these models
    load_runs: tuple[int, ...] | None = None  # what the incoming suite reads (None: latest)

    @property
    def runs_dbt(self) -> bool:
        return self.dbt_all or bool(self.dbt_layers or self.dbt_models)

    @property
    def checked_tables(self) -> list[tuple[str, str]]:
        """(suite, table) of the GX and shape checks selected."""
        return [(INCOMING_SUITE, table) for table in self.incoming] + [
            (SHAPE_SUITE, table) for table in self.shapes
        ]

    @property
    def suites(self) -> list[str]:
        """The suite names of the GX and shape checks selected."""
        return sorted({suite for suite, _ in self.checked_tables})


def _model_names() -> set[str]:
    """The models and seeds of the dbt project (the stems of models/**/*.sql and
    seeds/*.csv): the names a check selects by."""
    models = {path.stem for path in (PROJECT_DIR / "models").rglob("*.sql")}
    return models | {path.stem for path in (PROJECT_DIR / "seeds").glob("*.csv")}


def select_suites(names: list[str] | None) -> Selection:
    """What to run for the named suites (incoming, staging, intermediate, marts) or tables
    (agent_daily_kpis, marts.agent_daily_kpis); None = everything."""
    shape_tables = (*(f"marts.{mart}" for mart in tables().MART_KEYS), ALL_MARTS)

    def chosen(suite: str, listed: tuple[str, ...]) -> tuple[str, ...]:
        if names is None:
            return listed
        return tuple(
            table
            for table in listed
            if any(n in (suite, table, table.split(".", 1)[-1]) for n in names)
        )

    incoming = chosen(INCOMING_SUITE, tables().INCOMING_TABLES)
    shapes = chosen(SHAPE_SUITE, shape_tables)
    if names is None:
        return Selection(incoming, shapes, dbt_all=True)
    layers = tuple(layer for layer in DBT_SUITES if layer in names)
    models = tuple(bare for bare in (n.split(".", 1)[-1] for n in names) if bare in _model_names())
    selection = Selection(incoming, shapes, dbt_layers=layers, dbt_models=models)
    if not (selection.incoming or selection.shapes or selection.runs_dbt):
        known = ", ".join(sorted({INCOMING_SUITE, SHAPE_SUITE, *DBT_SUITES}))
        raise ValueError(f"no data-quality suite named {', '.join(names)} (suites: {known})")
    return selection


def _for_load_runs(chosen: Selection, load_runs: tuple[int, ...]) -> Selection:
    """The selection with its incoming suite reading `load_runs` (left out when empty:
    their rows were validated when they were loaded and built)."""
    return replace(chosen, incoming=chosen.incoming if load_runs else (), load_runs=load_runs)


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str] | None:
    """The columns of schema.table in order, or None when it does not exist."""
    schema, name = table.split(".", 1)
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
    """The GX results of one table's suite, or its table_exists failure."""
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


def _shape_results(con: duckdb.DuckDBPyConnection, table: str) -> list[ExpectationResult]:
    """The shape rules of one mart (docs/metrics.md §14), from information_schema: the
    contract's columns are present (more are welcome) and none carries message text; for
    ALL_MARTS, no table of schema marts has a message-text column. The expectation names
    are those of the GX expectations that checked them before (marts.dq_results keeps its
    labels)."""
    if table == ALL_MARTS:
        text_columns = tables().MESSAGE_TEXT_COLUMNS
        found = [
            str(row[0])
            for row in con.execute(
                "select lower(column_name) from information_schema.columns"
                " where table_schema = 'marts' and table_catalog = current_database()"
                " and list_contains(?, lower(column_name)) order by table_name, column_name",
                [text_columns],
            ).fetchall()
        ]
        return [
            ExpectationResult(
                suite=SHAPE_SUITE,
                table=ALL_MARTS,
                expectation="expect_column_values_to_not_be_in_set",
                column="column_name",
                is_critical=True,
                success=not found,
                unexpected_count=len(found),
                detail="e.g. " + ", ".join(found[:3]) if found else None,
            )
        ]
    existing = _table_columns(con, table)
    if existing is None:
        return [_missing(SHAPE_SUITE, table, _BUILD_HINT)]
    names = {column.lower() for column in existing}
    contract = tables().MART_COLUMNS[table.split(".", 1)[1]]
    missing = [column for column in contract if column not in names]
    text = sorted(names & set(tables().MESSAGE_TEXT_COLUMNS))
    return [
        ExpectationResult(
            suite=SHAPE_SUITE,
            table=table,
            expectation=expectation,
            column=None,
            is_critical=True,
            success=not wrong,
            detail=f"{label}: " + ", ".join(wrong) if wrong else None,
        )
        for expectation, label, wrong in (
            ("expect_table_columns_to_match_set", "missing columns", missing),
            ("expect_table_columns_to_exclude", "found", text),
        )
    ]


RESULT_ROWS_PER_INSERT = 250


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
        # A few hundred rows at a time, one statement each: executemany runs one
        # statement per row, about 1 ms each (0.9 s of a night's checks; issue 13).
        for start in range(0, len(rows), RESULT_ROWS_PER_INSERT):
            chunk = rows[start : start + RESULT_ROWS_PER_INSERT]
            marks = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
            con.execute(
                f"insert into marts.dq_results values {marks}",
                [value for row in chunk for value in row],
            )
        con.execute("commit")
    except duckdb.Error:
        con.execute("rollback")
        raise


# ---------------------------------------------------------------- dbt data tests


def _layer_of(unique_id: str, nodes: dict[str, Any]) -> tuple[str, str]:
    """(schema, name) of a model of the manifest."""
    node = nodes.get(unique_id, {})
    name = node.get("identifier") if unique_id.startswith("source.") else node.get("name")
    return str(node.get("schema") or "?"), str(name or unique_id.rsplit(".", 1)[-1])


def _tested_table(test: dict[str, Any], nodes: dict[str, Any]) -> tuple[str, str]:
    """(schema, table) a dbt test reports on: the model it is attached to, else (a
    singular test) the most downstream model it reads (marts before intermediate)."""
    attached = test.get("attached_node")
    if attached:
        return _layer_of(attached, nodes)
    parents = [
        _layer_of(uid, nodes)
        for uid in (test.get("depends_on") or {}).get("nodes", [])
        if uid.startswith(("model.", "seed.", "source."))
    ]
    rank = {layer: position for position, layer in enumerate(DBT_SUITES)}
    parents.sort(key=lambda parent: (-rank.get(parent[0], -1), parent[1]))
    return parents[0] if parents else ("tests", str(test.get("name")))


def _test_label(test: dict[str, Any]) -> tuple[str, str | None]:
    """(expectation, column) of a dbt test: the generic test's name and the column(s) it
    reads (a kefu_at_most names both), or the singular test's name."""
    metadata = test.get("test_metadata") or {}
    if not metadata:
        return str(test.get("name")), None
    kwargs = metadata.get("kwargs") or {}
    column = test.get("column_name") or kwargs.get("column_name")
    if column and kwargs.get("other"):
        column = f"{column},{kwargs['other']}"
    elif not column and kwargs.get("columns"):
        column = ",".join(str(c) for c in kwargs["columns"])
    return str(metadata.get("name")), column


def dbt_test_results(
    db_path: Path, selection: Selection, window: BuildWindow, exclude: list[str]
) -> list[ExpectationResult]:
    """Run the selected dbt data tests in DuckDB (over the window's days, if any) and
    return one result per test."""
    # Unit tests check the models' code, not the data: `kefu build` and CI run them.
    args = ["test", "--exclude-resource-type", "unit_test"]
    if not selection.dbt_all:
        select = [f"path:models/{layer}" for layer in selection.dbt_layers]
        args += ["--select", *select, *selection.dbt_models]
    if exclude:
        args += ["--exclude", *exclude]
    run = run_dbt_tests(db_path, args, window)
    manifest = Path(dbt_env(db_path)["DBT_TARGET_PATH"]) / "manifest.json"
    graph = json.loads(manifest.read_text(encoding="utf-8"))
    nodes = {**graph["nodes"], **graph["sources"]}
    results = []
    for outcome in run:
        test = nodes.get(outcome.unique_id, {})
        schema, table = _tested_table(test, nodes)
        expectation, column = _test_label(test)
        failed = outcome.status != "pass"
        result = ExpectationResult(
            suite=schema,
            table=f"{schema}.{table}",
            expectation=expectation,
            column=column,
            is_critical=outcome.severity == "error",
            success=not failed,
            unexpected_count=outcome.failures,
            detail=" ".join(outcome.message.split())[:300] if failed else None,
        )
        if expectation == RULES_TEST:
            results += rule_results(db_path, result, test, outcome)
        else:
            results.append(result)
    return results


# The generic test holding all the row rules of one model (macros/test_kefu_rules.sql).
RULES_TEST = "kefu_rules"
# The column a failed query names as missing (DuckDB: `column "x" not found`; Spark:
# "with name `x` cannot be resolved").
MISSING_COLUMN = re.compile(r'column "(\w+)" not found|name (?:`\w+`\.)*`(\w+)` cannot be resolved')


def rule_labels(kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    """(rule, column label) of each rule of a kefu_rules test, in the macro's order."""
    labels: list[tuple[str, str]] = []
    for name in ("not_null", "kefu_non_negative", "kefu_unit_interval"):
        labels += [(name, str(column)) for column in kwargs.get(name) or []]
    labels += [
        ("kefu_at_most", f"{part},{whole}") for part, whole in kwargs.get("kefu_at_most") or []
    ]
    for name in ("kefu_at_least", "kefu_between", "accepted_values"):
        labels += [(name, str(column)) for column in kwargs.get(name) or {}]
    if kwargs.get("kefu_unique_combination"):
        key = ",".join(str(column) for column in kwargs["kefu_unique_combination"])
        labels.append(("kefu_unique_combination", key))
    return labels


def rule_results(
    db_path: Path, merged: ExpectationResult, test: dict[str, Any], outcome: TestOutcome
) -> list[ExpectationResult]:
    """One result per rule of a kefu_rules test: the rules it returned as broken (read
    again from the database, only when the test failed) with their failing rows. When the
    test could not run (a column missing), the test itself fails with dbt's message,
    and so does each rule on a column the message names; its other rules did not run
    and are not reported."""
    kwargs = (test.get("test_metadata") or {}).get("kwargs") or {}
    labels = rule_labels(kwargs)
    if outcome.status not in ("pass", "fail", "warn"):
        named = {name for found in MISSING_COLUMN.findall(merged.detail or "") for name in found}
        named.discard("")
        return [merged] + [
            replace(merged, expectation=rule, column=column)
            for rule, column in labels
            if named & set(column.split(","))
        ]
    broken: dict[tuple[str, str], int] = {}
    if outcome.status in ("fail", "warn") and outcome.compiled_code:
        rows = broken_rule_rows(db_path, outcome.compiled_code)
        broken = {(rule, column): count for rule, column, count in rows}
    return [
        replace(
            merged,
            expectation=rule,
            column=column,
            success=(rule, column) not in broken,
            unexpected_count=broken.get((rule, column)),
            detail=None,
        )
        for rule, column in labels
    ]


def run_checks(
    db_path: Path,
    suites: Iterable[str] | None = None,
    window: BuildWindow | None = None,
    load_runs: Iterable[int] | None = None,
) -> CheckReport:
    """Run the data-quality rules on the warehouse (the dbt data tests over `window`'s
    days, or every row) and record the results in marts.dq_results. The incoming suite
    validates the latest load run, or the `load_runs` given (a nightly's: the runs its
    build took in; none, when nothing new was loaded: the suite is not run again).
    `.success` is False when any critical expectation or test failed."""
    chosen = select_suites(list(suites) if suites is not None else None)
    if load_runs is not None:
        chosen = _for_load_runs(chosen, tuple(load_runs))
    window = window or BuildWindow()
    layers = DBT_SUITES if chosen.dbt_all else chosen.dbt_layers
    report = CheckReport(suites=sorted({*chosen.suites, *layers}) or [SHAPE_SUITE])
    if not Path(db_path).exists():
        report.results = [
            _missing(suite, table, f"warehouse {db_path} not found: run kefu load and kefu build")
            for suite, table in chosen.checked_tables
        ]
        return report
    with duckdb.connect(str(db_path)) as con:
        if chosen.incoming:
            validator = _Validator()
            functions = dict(suite_definitions().SUITES[INCOMING_SUITE])
            for table in chosen.incoming:
                function = functools.partial(functions[table], load_runs=chosen.load_runs)
                report.results += _run_table(con, validator, INCOMING_SUITE, table, function)
        for table in chosen.shapes:
            report.results += _shape_results(con, table)
        marts = tables().MART_KEYS
        missing = [name for name in marts if _table_columns(con, f"marts.{name}") is None]
    if chosen.runs_dbt:
        if len(missing) < len(marts):
            # A mart not built is reported once (table_exists); its tests are left out.
            report.results += dbt_test_results(db_path, chosen, window, missing)
        reported = {r.table for r in report.results}
        report.results += [
            _missing(SHAPE_SUITE, f"marts.{name}", _BUILD_HINT)
            for name in missing
            if f"marts.{name}" not in reported and (chosen.dbt_all or "marts" in layers)
        ]
    with duckdb.connect(str(db_path)) as con:
        write_results(con, report)
    return report
