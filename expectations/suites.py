"""The Great Expectations (GX 1.x) suites as data: for each table, the SQL that reads it
from DuckDB and the expectations it must meet, each critical or a warning.

GX validates what arrives and what the marts look like, never the marts' rows:

- `incoming`: the rows of the latest load run in raw.messages / raw.orders / raw.ratings
  (one batch, whatever the history; in the nightly, the load runs its build took in),
  and the quarantine share of each file of that run (a warning, not critical);
- `marts`: the shape of the published marts of docs/metrics.md §14 (the contract's
  columns exist, no message text anywhere in schema marts), read with zero rows.

Every rule on the rows of staging, intermediate and mart models (keys, not null, rates in
[0, 1], numerators ≤ denominators, the sales identity, ...) is a dbt data test, written
once in the models' yml or tests/dbt: `kefu build` runs it, and `kefu check` runs it again
in SQL over the window (kefu.checks) and records it beside these.

A table function receives the columns the table has (from information_schema), so that
rules written for "every rate column" cover the columns that exist, and reads only the
columns its expectations look at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import great_expectations.expectations as gxe
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations.custom import ExpectTableColumnsToExclude

# A file of one load whose quarantined rows exceed this share of its rows gets a warning.
QUARANTINE_SHARE_WARN = 0.05

SENDER_ROLES = ["buyer", "agent", "assist", "auto", "system"]
RATING_SCORES = [
    *("1", "2", "3", "4", "5"),
    *("满意", "非常满意", "一般", "失望", "不满意", "非常不满意"),
]
# Column names that would carry chat text; none may appear in schema marts.
MESSAGE_TEXT_COLUMNS = ["content"]


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


def no_message_text() -> Check:
    """No column that would carry chat text (docs/metrics.md §14: marts hold no message text)."""
    return _critical(ExpectTableColumnsToExclude(column_set=MESSAGE_TEXT_COLUMNS))


def columns_present(columns: list[str]) -> Check:
    """The contract's columns exist (more columns are welcome)."""
    return _critical(gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=False))


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


_BUILD_HINT = "run kefu build first"


# ---------------------------------------------------------------- marts (docs/metrics.md §14)

_AGENT_FIGURES = [
    "consult_buyer_cnt", "filtered_buyer_cnt", "received_buyer_cnt", "replied_buyer_cnt",
    "unreplied_buyer_cnt", "reply_rate",
    "buyer_msg_cnt", "agent_msg_cnt", "answer_question_ratio",
    "first_response_cnt", "first_response_total_s", "avg_first_response_s",
    "response_cnt", "response_total_s", "avg_response_s",
    "round_cnt", "replied_3min_round_cnt", "reply_3min_rate", "slow_reception_cnt",
    "reception_duration_s", "avg_reception_duration_s", "max_concurrent_receptions",
    "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt", "inq_to_pay_rate_next_day",
    "inq_pay_final_cnt", "inq_to_pay_rate_final", "is_next_day_final", "is_final",
    "cs_sales_amt", "cs_sales_qty", "cs_sales_buyer_cnt", "cs_order_cnt", "cs_aov",
    "cs_items_per_buyer", "assist_buyer_cnt",
    "rating_cnt", "satisfied_cnt", "neutral_cnt", "disappointed_cnt", "good_rate",
]  # fmt: skip

# docs/metrics.md §14: the key of each mart and the columns BI relies on.
MART_KEYS: dict[str, list[str]] = {
    "agent_daily_kpis": ["shop_id", "agent_id", "biz_date"],
    "shop_daily_kpis": ["shop_id", "biz_date"],
    "agent_weekly_kpis": ["shop_id", "agent_id", "week_start"],
    "agent_monthly_kpis": ["shop_id", "agent_id", "month_start"],
    "fct_rounds": ["shop_id", "agent_id", "buyer_id", "biz_date", "round_seq"],
    "fct_receptions": ["shop_id", "agent_id", "buyer_id", "biz_date"],
    "fct_order_credits": ["shop_id", "order_id"],
    "platform_service_daily": ["shop_id", "agent_id", "biz_date", "preset"],
    "reception_load_hourly": ["shop_id", "agent_id", "biz_date", "hour"],
}

MART_COLUMNS: dict[str, list[str]] = {
    "agent_daily_kpis": ["shop_id", "agent_id", "agent_name", "biz_date", *_AGENT_FIGURES],
    "shop_daily_kpis": [
        "shop_id", "biz_date", "consult_buyer_cnt", "filtered_buyer_cnt",
        "received_buyer_cnt", "replied_buyer_cnt", "unreplied_buyer_cnt", "reply_rate",
        "inquiry_buyer_cnt", "inq_order_cnt", "inq_pay_next_day_cnt",
        "inq_to_pay_rate_next_day", "inq_pay_final_cnt", "inq_to_pay_rate_final",
        "is_next_day_final", "is_final",
        "buyer_msg_cnt", "agent_msg_cnt", "answer_question_ratio",
        "first_response_cnt", "first_response_total_s", "avg_first_response_s",
        "response_cnt", "response_total_s", "avg_response_s", "round_cnt",
        "replied_3min_round_cnt", "reply_3min_rate",
        "paid_sales_amt", "cs_sales_amt", "silent_sales_amt", "cs_sales_share", "cs_aov",
        "silent_aov",
    ],
    "agent_weekly_kpis": ["shop_id", "agent_id", "week_start"],
    "agent_monthly_kpis": ["shop_id", "agent_id", "month_start"],
    "fct_rounds": [
        "shop_id", "agent_id", "buyer_id", "biz_date", "round_seq", "asked_at", "replied_at",
        "wait_s", "is_replied", "is_timed", "is_first_round", "is_slow",
    ],
    "fct_receptions": [
        "shop_id", "agent_id", "buyer_id", "biz_date", "is_filtered", "is_replied",
        "is_inquiry", "is_after_sale", "is_assisted", "first_message_at", "first_reply_at",
        "reception_duration_s", "session_cnt", "round_cnt",
    ],
    "fct_order_credits": [
        "shop_id", "order_id", "buyer_id", "created_at", "paid_at", "amount", "quantity",
        "order_agent_id", "payment_agent_id", "credited_agent_id", "is_silent",
    ],
    "platform_service_daily": [
        "shop_id", "agent_id", "biz_date", "preset", "unit", "sla_s", "assessed_cnt",
        "within_sla_cnt", "sla_reply_rate", "capped_round_cnt", "capped_wait_total_s",
        "capped_avg_response_s",
    ],
    "reception_load_hourly": [
        "shop_id", "agent_id", "biz_date", "hour", "consult_buyer_cnt", "buyer_msg_cnt",
        "max_concurrent_receptions",
    ],
}  # fmt: skip


def mart_checks(mart: str) -> list[Check]:
    """The shape every mart keeps: the contract's columns present, no message text. Its
    rows' rules are dbt data tests (the mart's yml), run in SQL by kefu.checks."""
    return [columns_present(MART_COLUMNS[mart]), no_message_text()]


def mart_suite(mart: str) -> Callable[[list[str]], TableSuite]:
    """The suite function of one mart."""

    def suite(existing: list[str]) -> TableSuite:
        table = f"marts.{mart}"
        checks = mart_checks(mart)
        sql = f"select * from {table} limit 0"  # the columns, not the rows
        return TableSuite("marts", table, sql, checks, _BUILD_HINT)

    suite.__name__ = mart
    suite.__doc__ = f"docs/metrics.md §14 shape of marts.{mart}."
    return suite


def marts_without_message_text(existing: list[str]) -> TableSuite:
    """No table of schema marts has a message-text column (docs/metrics.md §14), including
    the tables without a suite of their own."""
    checks = [
        _critical(
            gxe.ExpectColumnValuesToNotBeInSet(column="column_name", value_set=MESSAGE_TEXT_COLUMNS)
        )
    ]
    sql = (
        "select table_name, lower(column_name) as column_name from information_schema.columns"
        " where table_schema = 'marts' and table_catalog = current_database()"
    )
    return TableSuite("marts", "marts.*", sql, checks, _BUILD_HINT)


# ---------------------------------------------------------------- registry

SuiteFunction = Callable[[list[str]], TableSuite]

# Suite name -> (table the suite reads, whose columns the function receives; function).
SUITES: dict[str, list[tuple[str, SuiteFunction]]] = {
    "incoming": [
        ("raw.messages", raw_messages),
        ("raw.orders", raw_orders),
        ("raw.ratings", raw_ratings),
        ("raw.load_files", raw_load_files),
    ],
    "marts": [
        *((f"marts.{mart}", mart_suite(mart)) for mart in MART_KEYS),
        ("information_schema.columns", marts_without_message_text),
    ],
}
