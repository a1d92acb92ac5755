"""The Great Expectations (GX 1.x) suite of incoming batches as data: for each raw table,
the SQL that reads the rows of the load runs checked from DuckDB and the expectations
they must meet, each critical or a warning.

GX validates what arrives, never the marts' rows: the rows of the latest load run in
raw.messages / raw.orders / raw.ratings (one batch, whatever the history; in the
nightly, the load runs its build took in), and the quarantine share of each file of that
run (a warning, not critical).

Every rule on the rows of staging, intermediate and mart models (keys, not null, rates in
[0, 1], numerators ≤ denominators, the sales identity, ...) is a dbt data test, written
once in the models' yml or tests/dbt: `kefu build` runs it, and `kefu check` runs it again
in SQL over the window (kefu.checks) and records it beside these. The marts' shape (the
contract's columns, no message text) is checked in SQL by kefu.checks from
expectations/tables.py.

A table function receives the columns the table has (from information_schema), so that
rules written for "every rate column" cover the columns that exist, and reads only the
columns its expectations look at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import great_expectations.expectations as gxe
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations.tables import INCOMING_TABLES

# A file of one load whose quarantined rows exceed this share of its rows gets a warning.
QUARANTINE_SHARE_WARN = 0.05

SENDER_ROLES = ["buyer", "agent", "assist", "auto", "system"]
RATING_SCORES = [
    *("1", "2", "3", "4", "5"),
    *("满意", "非常满意", "一般", "失望", "不满意", "非常不满意"),
]


@dataclass(frozen=True)
class Check:
    """One expectation and whether its failure fails the run (critical) or only warns."""

    expectation: gxe.Expectation
    is_critical: bool = True


@dataclass(frozen=True)
class TableSuite:
    """What one suite checks in one table."""

    suite: str
    table: str  # schema.table as named in reports
    sql: str  # the query read into pandas and validated
    checks: list[Check]
    missing_hint: str  # what to run when the table does not exist yet


# ---------------------------------------------------------------- expectation helpers


def _critical(expectation: gxe.Expectation) -> Check:
    return Check(expectation, is_critical=True)


def _warning(expectation: gxe.Expectation) -> Check:
    expectation.severity = FailureSeverity.WARNING
    return Check(expectation, is_critical=False)


def not_null(column: str) -> Check:
    return _critical(gxe.ExpectColumnValuesToNotBeNull(column=column))


def at_least(column: str, minimum: float) -> Check:
    """column ≥ minimum; NULL allowed (a rate or average with an empty denominator)."""
    return _critical(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=minimum))


def expectation_columns(expectation: gxe.Expectation) -> list[str]:
    """The columns an expectation reads, in order."""
    found: list[str] = []
    for name in ("column", "column_A", "column_B"):
        value = getattr(expectation, name, None)
        if isinstance(value, str):
            found.append(value)
    for name in ("column_list", "column_set"):
        value = getattr(expectation, name, None)
        if isinstance(value, list | tuple | set):
            found.extend(str(item) for item in value)
    return found


def _select(table: str, checks: list[Check], existing: list[str], where: str = "") -> str:
    """`select` of the existing columns the checks read (quoted), from table."""
    wanted: list[str] = []
    for check in checks:
        for column in expectation_columns(check.expectation):
            if column in existing and column not in wanted:
                wanted.append(column)
    select_list = ", ".join(f'"{column}"' for column in wanted) or "1 as no_columns"
    return f"select {select_list} from {table}" + (f" where {where}" if where else "")


# ---------------------------------------------------------------- incoming (raw layer)

_RAW_HINT = "run kefu load first"


def load_run_ids(load_runs: tuple[int, ...] | None) -> str:
    """The load runs an incoming suite reads, as a SQL list: the given ones (the runs a
    nightly build took in), else the latest."""
    if load_runs is None:
        return "(select max(load_run_id) from raw.load_files)"
    return "(" + ", ".join(str(int(run)) for run in load_runs) + ")"


def _in_load_runs(load_runs: tuple[int, ...] | None) -> str:
    return (
        "_file_id in (select file_id from raw.load_files"
        f" where load_run_id in {load_run_ids(load_runs)})"
    )


def raw_messages(existing: list[str], load_runs: tuple[int, ...] | None = None) -> TableSuite:
    checks = [
        *(not_null(c) for c in ["message_id", "shop_id", "buyer_id", "agent_id", "sender_role"]),
        not_null("sent_at"),
        _critical(gxe.ExpectColumnValuesToBeInSet(column="sender_role", value_set=SENDER_ROLES)),
    ]
    sql = _select("raw.messages", checks, existing, _in_load_runs(load_runs))
    return TableSuite("incoming", "raw.messages", sql, checks, _RAW_HINT)


def raw_orders(existing: list[str], load_runs: tuple[int, ...] | None = None) -> TableSuite:
    checks = [
        *(not_null(c) for c in ["order_id", "shop_id", "buyer_id", "created_at", "amount"]),
        at_least("amount", 0),
        at_least("quantity", 1),
        at_least("refund_amount", 0),
    ]
    sql = _select("raw.orders", checks, existing, _in_load_runs(load_runs))
    return TableSuite("incoming", "raw.orders", sql, checks, _RAW_HINT)


def raw_ratings(existing: list[str], load_runs: tuple[int, ...] | None = None) -> TableSuite:
    checks = [
        *(not_null(c) for c in ["rating_id", "shop_id", "buyer_id", "agent_id", "rated_at"]),
        not_null("score"),
        _warning(gxe.ExpectColumnValuesToBeInSet(column="score", value_set=RATING_SCORES)),
    ]
    sql = _select("raw.ratings", checks, existing, _in_load_runs(load_runs))
    return TableSuite("incoming", "raw.ratings", sql, checks, _RAW_HINT)


def raw_load_files(existing: list[str], load_runs: tuple[int, ...] | None = None) -> TableSuite:
    """Quarantine share of every file the latest load run (or `load_runs`) read (a
    warning, not critical)."""
    checks = [
        _warning(
            gxe.ExpectColumnValuesToBeBetween(
                column="quarantine_share", min_value=0, max_value=QUARANTINE_SHARE_WARN
            )
        )
    ]
    sql = (
        "select file_path, entity, rows_read, rows_quarantined,"
        " cast(rows_quarantined as double) / nullif(rows_read, 0) as quarantine_share"
        " from raw.load_files where status = 'loaded'"
        f" and load_run_id in {load_run_ids(load_runs)}"
    )
    return TableSuite("incoming", "raw.load_files", sql, checks, _RAW_HINT)


# ---------------------------------------------------------------- registry

SuiteFunction = Callable[[list[str]], TableSuite]

# Suite name -> (table the suite reads, whose columns the function receives; function).
SUITES: dict[str, list[tuple[str, SuiteFunction]]] = {
    "incoming": list(
        zip(INCOMING_TABLES, (raw_messages, raw_orders, raw_ratings, raw_load_files), strict=True)
    ),
}
