"""One SQL pass from `_src` (text as read) to `_clean` (typed values plus what is wrong).

`_clean` has `_line`, one typed column per entity column, `_bad` (the row breaks a rule),
`_errors` (list of {column_name, reason}, one per failing column, NULL for good rows) and
`_raw_values` (JSON object of the row as read, original header names, NULL for good rows).

Which header fills which column, and the file's constants, value maps, extra time formats
and derived ids, come from the file's mapping (kefu.loading.mappings, docs/mappings.md).

Cleaning rules, by column kind (kefu.loading.entities.Kind):
- every value is trimmed and an empty value is NULL (content is kept exactly as read);
  then the mapping's value map of the column, if any, renames it;
- a required column with no value: `missing required value`;
- timestamps: `YYYY-MM-DD HH:MM[:SS[.fff]]` (also `/` as date separator, `T` between date
  and time, one-digit month/day/hour) is the shop's local time, stored as is; the same with
  `Z` or an offset (`+08`, `+0800`, `+08:00`) is converted to the shop's local time, using
  the shop timezones known at load time (default Asia/Shanghai); else one of the
  mapping's `time_formats` (strptime, local time); anything else:
  `unparseable timestamp` (a date without a time too);
- amounts: `¥`/`￥` and thousands commas removed, DECIMAL(18, 2) (half-up rounding of more
  decimals); not a number: `non-numeric amount`; below 0: `negative amount`; empty optional
  amounts take their default (refund_amount 0);
- quantity: a whole number >= 1 (`2.0` is 2), empty = 1; anything else: `bad quantity`;
- score: 1..5 (`4.0` is '4') or a Chinese label (stored as is); else `unknown score`;
- sender_role / platform: their vocabulary, normalised to English; else `unknown ...`;
- team: its vocabulary normalised, anything else kept as read (staging maps it to other);
- timezone: must be a zone name DuckDB knows; else `unknown timezone`;
- plausibility bounds (kefu.loading.bounds, per the shop's ruleset): an offset beyond
  ±max_offset_minutes, a time before min_time or after the load day + max_days_after_load,
  an amount or refund above max_amount, a quantity above max_quantity: the reason names
  the bound and its value.

Raw values in `_raw_values` are cut to a short prefix (kefu.loading.sql.PREFIX_CHARS).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from kefu.loading.bounds import Bounds, read_bounds
from kefu.loading.entities import (
    DEFAULT_TIMEZONE,
    PLATFORMS,
    SCORE_LABELS,
    SENDER_ROLES,
    TEAMS,
    Column,
    Entity,
    Kind,
    Reason,
    normalise_header,
)
from kefu.loading.mappings import Mapping
from kefu.loading.readers import SRC, FileRejected
from kefu.loading.sql import PREFIX_CHARS, prefix, short_error, sql_literal

CLEAN = "_clean"

_LOCAL_TS = r"\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
_OFFSET_TS = _LOCAL_TS + r"(Z|[+-]\d{2}(:?\d{2})?)"

MACROS = (
    f"""
    create or replace temp macro kefu_timestamp(value, tz) as (
        case
            when regexp_full_match(replace(value, '/', '-'), '{_LOCAL_TS}')
                then try_cast(replace(value, '/', '-') as timestamp)
            when regexp_full_match(replace(value, '/', '-'), '{_OFFSET_TS}')
                then timezone(tz, try_cast(replace(value, '/', '-') as timestamptz))
        end
    )""",
    """
    create or replace temp macro kefu_amount(value) as
        try_cast(replace(replace(replace(value, ',', ''), '¥', ''), '￥', '') as decimal(38, 2))
    """,
    r"""
    create or replace temp macro kefu_offset_minutes(value) as
        coalesce(try_cast(regexp_extract(value, '[+-](\d{2}):?(\d{2})?$', 1) as integer), 0) * 60
        + coalesce(try_cast(regexp_extract(value, '[+-](\d{2}):?(\d{2})?$', 2) as integer), 0)
    """,
    f"""
    create or replace temp macro kefu_prefix(value) as
        case when length(value) > {PREFIX_CHARS} then left(value, {PREFIX_CHARS}) || '…'
        else value end
    """,
    """
    create or replace temp macro kefu_whole(value) as (
        case
            when try_cast(value as decimal(38, 6)) = trunc(try_cast(value as decimal(38, 6)))
                then try_cast(value as decimal(38, 6))
        end
    )""",
)


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """The SQL helpers `_clean` uses (temp macros of this connection)."""
    for macro in MACROS:
        con.execute(macro)


# Header matching --------------------------------------------------------------------------


def match_columns(entity: Entity, headers: list[str], mapping: Mapping) -> dict[str, int]:
    """Canonical column -> index in `headers` (by the file's mapping, see
    kefu.loading.mappings); FileRejected when a required column is neither in the file nor a
    constant of the mapping, or two headers name the same column. A column the mapping
    gives a constant for is taken from the constant, not from the file."""
    found, _ = header_matches(entity, headers, mapping)
    missing = missing_columns(entity, found, mapping)
    if missing:
        plural = "s" if len(missing) > 1 else ""
        labels = ", ".join(mapping.label(name) for name in missing)
        raise FileRejected(f"missing required column{plural}: {labels}")
    return found


def header_matches(
    entity: Entity, headers: list[str], mapping: Mapping
) -> tuple[dict[str, int], list[int]]:
    """Canonical column -> index in `headers`, and the indexes of the headers that name no
    column; FileRejected when two headers name the same column (unless one of them is named
    by the file's own mapping and the other only by the built-in aliases: the first wins)."""
    lookup = mapping.lookup()
    found: dict[str, int] = {}
    unmatched: list[int] = []
    for index, header in enumerate(headers):
        canonicals = lookup.get(normalise_header(header))
        if canonicals is None:
            unmatched.append(index)  # an extra column: ignored
            continue
        for canonical in canonicals:
            if canonical in mapping.constants:
                continue  # the constant wins
            if canonical in found:
                first = headers[found[canonical]]
                first_specific = normalise_header(first) in mapping.specific
                if first_specific == (normalise_header(header) in mapping.specific):
                    raise FileRejected(
                        f"ambiguous header: {first!r} and {header!r} both name column {canonical}"
                    )
                if first_specific:
                    continue  # the file's own mapping beats a built-in alias
            found[canonical] = index
    return found, unmatched


def missing_columns(entity: Entity, found: dict[str, int], mapping: Mapping) -> list[str]:
    """The required columns neither in the file nor a constant of the mapping."""
    given = set(mapping.constants) | set(mapping.derived_ids)
    return [
        column.name
        for column in entity.required
        if column.name not in found and column.name not in given
    ]


def json_keys(headers: list[str]) -> list[str]:
    """Unique, non-empty names for the raw_values JSON (blank -> column_N, repeats -> name#2)."""
    keys: list[str] = []
    seen: set[str] = set()
    for index, header in enumerate(headers):
        key = header.replace("\ufeff", "").strip() or f"column_{index + 1}"
        candidate, copy = key, 1
        while candidate in seen:
            copy += 1
            candidate = f"{key}#{copy}"
        seen.add(candidate)
        keys.append(candidate)
    return keys


# The cleaning query -----------------------------------------------------------------------


@dataclass(frozen=True)
class CleanPlan:
    """Everything the cleaning query needs to know about one file."""

    entity: Entity
    mapping: Mapping  # constants, value maps, time formats (kefu.loading.mappings)
    columns: dict[str, int]  # canonical column -> c{index} in _src
    headers: list[str]
    line_sql: str
    timezones: dict[str, str]  # shop_id -> timezone, for shops not on the default
    load_day: dt.date = dt.date(2000, 1, 1)
    bounds: Bounds = field(default_factory=lambda: read_bounds()["taobao_tool"])
    shop_bounds: dict[str, Bounds] = field(default_factory=dict)  # shops off the default


def build_clean(con: duckdb.DuckDBPyConnection, plan: CleanPlan) -> None:
    """Create `_clean` from `_src`."""
    try:
        con.execute(clean_sql(plan))
    except duckdb.Error as exc:
        raise FileRejected(f"could not be checked: {short_error(exc)}") from exc


def clean_sql(plan: CleanPlan) -> str:
    columns = plan.entity.columns
    raw = [f"{_raw_value(plan, column)} as v_{column.name}" for column in columns]
    typed = [f"{_typed_value(plan, column)} as x_{column.name}" for column in columns]
    errors = [f"{_error(plan, column)} as e_{column.name}" for column in columns]
    first_error = "coalesce(" + ", ".join(f"e_{column.name}" for column in columns) + ")"
    error_list = ", ".join(
        f"{{'column_name': {sql_literal(column.name)}, 'reason': e_{column.name}}}"
        for column in columns
    )
    raw_json = ", ".join(
        f"{sql_literal(key)}, kefu_prefix(c{index})"
        for index, key in enumerate(json_keys(plan.headers))
    )
    outputs = [f"x_{column.name} as {column.name}" for column in columns]
    return f"""
        create or replace temp table {CLEAN} as
        with
        source as (
            select {plan.line_sql} as _line, * from {SRC}
        ),
        trimmed as (
            select *, {", ".join(raw)} from source
        ),
        typed as (
            select *, {", ".join(typed)} from trimmed
        ),
        checked as (
            select *, {", ".join(errors)} from typed
        )
        select
            _line,
            {", ".join(outputs)},
            {first_error} is not null as _bad,
            case when {first_error} is not null then
                list_filter([{error_list}], lambda error: error.reason is not null)
            end as _errors,
            case when {first_error} is not null then json_object({raw_json}) end as _raw_values
        from checked
    """


def _raw_value(plan: CleanPlan, column: Column) -> str:
    sources = plan.mapping.derived_ids.get(column.name)
    if sources is not None and column.name not in plan.columns:
        by_name = {c.name: c for c in plan.entity.columns}
        parts = ", ".join(f"coalesce({_raw_value(plan, by_name[name])}, '')" for name in sources)
        return f"'h' || left(md5(concat_ws(chr(31), {parts})), 20)"
    constant = plan.mapping.constants.get(column.name)
    if constant is not None:
        return f"cast({sql_literal(constant)} as varchar)"
    index = plan.columns.get(column.name)
    if index is None:
        return "cast(null as varchar)"
    if column.kind is Kind.CONTENT:
        value = f"nullif(c{index}, '')"
    else:
        value = f"nullif(trim(c{index}), '')"
    words = plan.mapping.values.get(column.name)
    if not words:
        return value
    branches = " ".join(
        f"when {sql_literal(word)} then {sql_literal(meaning)}" for word, meaning in words.items()
    )
    return f"(case {value} {branches} else {value} end)"


def _typed_value(plan: CleanPlan, column: Column) -> str:
    value = f"v_{column.name}"
    kind = column.kind
    if kind is Kind.TIMESTAMP:
        expression = f"kefu_timestamp({value}, {_timezone_of_row(plan)})"
        if plan.mapping.time_formats:
            formats = ", ".join(sql_literal(f) for f in plan.mapping.time_formats)
            expression = f"coalesce({expression}, try_strptime({value}, [{formats}]))"
    elif kind is Kind.AMOUNT:
        expression = f"kefu_amount({value})"
    elif kind is Kind.QUANTITY:
        expression = (
            f"case when kefu_whole({value}) between 1 and 2147483647 "
            f"then cast(kefu_whole({value}) as integer) end"
        )
    elif kind is Kind.SCORE:
        labels = ", ".join(sql_literal(label) for label in SCORE_LABELS)
        expression = (
            f"case when {value} in ({labels}) then {value} "
            f"when kefu_whole({value}) between 1 and 5 "
            f"then cast(cast(kefu_whole({value}) as integer) as varchar) end"
        )
    elif kind is Kind.ROLE:
        expression = _vocabulary(value, SENDER_ROLES)
    elif kind is Kind.PLATFORM:
        expression = _vocabulary(value, PLATFORMS)
    elif kind is Kind.TEAM:
        expression = f"coalesce({_vocabulary(value, TEAMS)}, {value})"
    elif kind is Kind.TIMEZONE:
        expression = f"case when {value} in (select name from pg_timezone_names()) then {value} end"
    else:
        expression = value
    if column.default is not None:
        return f"case when {value} is null then {column.default} else {expression} end"
    return expression


def _vocabulary(value: str, mapping: dict[str, str]) -> str:
    branches = " ".join(
        f"when {sql_literal(word)} then {sql_literal(meaning)}" for word, meaning in mapping.items()
    )
    return f"(case lower({value}) {branches} end)"


def _timezone_of_row(plan: CleanPlan) -> str:
    """SQL giving the timezone of the row's shop (only shops off the default are listed)."""
    if not plan.timezones:
        return sql_literal(DEFAULT_TIMEZONE)
    branches = " ".join(
        f"when {sql_literal(shop)} then {sql_literal(zone)}"
        for shop, zone in sorted(plan.timezones.items())
    )
    return f"(case v_{plan.entity.shop_column} {branches} else {sql_literal(DEFAULT_TIMEZONE)} end)"


_KIND_REASON: dict[Kind, str] = {
    Kind.TIMESTAMP: Reason.TIMESTAMP,
    Kind.ROLE: Reason.ROLE,
    Kind.AMOUNT: Reason.NON_NUMERIC,
    Kind.QUANTITY: Reason.QUANTITY,
    Kind.SCORE: Reason.SCORE,
    Kind.PLATFORM: Reason.PLATFORM,
    Kind.TIMEZONE: Reason.TIMEZONE,
}


def _per_shop(plan: CleanPlan, value: Callable[[Bounds], str]) -> str:
    """SQL giving a bound (as a SQL literal) for the row's shop."""
    if not plan.shop_bounds:
        return value(plan.bounds)
    branches = " ".join(
        f"when {sql_literal(shop)} then {value(bounds)}"
        for shop, bounds in sorted(plan.shop_bounds.items())
    )
    return f"(case v_{plan.entity.shop_column} {branches} else {value(plan.bounds)} end)"


def _bound_errors(plan: CleanPlan, column: Column) -> list[str]:
    """CASE branches for the plausibility bounds of a column (see kefu.loading.bounds)."""
    value, typed = f"v_{column.name}", f"x_{column.name}"
    if column.kind is Kind.TIMESTAMP:
        offset = _per_shop(plan, lambda b: str(b.max_offset_minutes))
        earliest = _per_shop(plan, lambda b: f"timestamp '{b.min_time}'")
        latest = _per_shop(
            plan,
            lambda b: f"timestamp '{plan.load_day + dt.timedelta(days=b.max_days_after_load + 1)}'",
        )
        return [
            f"when regexp_full_match(replace({value}, '/', '-'), '{_OFFSET_TS}') "
            f"and kefu_offset_minutes({value}) > {offset} then "
            f"'offset beyond max_offset_minutes ±' || {_hhmm(offset)}",
            f"when {typed} < {earliest} then 'time before min_time ' || "
            f"strftime({earliest}, '%Y-%m-%d')",
            f"when {typed} >= {latest} then 'time after the load day + max_days_after_load "
            f"(latest ' || strftime({latest} - interval 1 second, '%Y-%m-%d %H:%M:%S') || ')'",
        ]
    if column.kind is Kind.AMOUNT:
        bound = _per_shop(plan, lambda b: f"{b.max_amount}::decimal(38, 2)")
        return [f"when {typed} > {bound} then 'amount above max_amount ' || {bound}"]
    if column.kind is Kind.QUANTITY:
        bound = _per_shop(plan, lambda b: str(b.max_quantity))
        return [f"when {typed} > {bound} then 'quantity above max_quantity ' || {bound}"]
    return []


def _hhmm(minutes_sql: str) -> str:
    hours = f"lpad(({minutes_sql} // 60)::varchar, 2, '0')"
    minutes = f"lpad(({minutes_sql} % 60)::varchar, 2, '0')"
    return f"({hours} || ':' || {minutes})"


def _error(plan: CleanPlan, column: Column) -> str:
    """SQL giving the column's quarantine reason, NULL when the value is fine."""
    value, typed = f"v_{column.name}", f"x_{column.name}"
    bound_errors = _bound_errors(plan, column)
    branches = []
    if column.required:
        branches.append(f"when {value} is null then {sql_literal(Reason.MISSING)}")
    if column.kind is Kind.TIMESTAMP:
        branches.append(bound_errors.pop(0))  # a wild offset before "unparseable"
    reason = _KIND_REASON.get(column.kind)
    if reason is not None:
        branches.append(f"when {value} is not null and {typed} is null then {sql_literal(reason)}")
    if column.kind is Kind.AMOUNT:
        branches.append(f"when {typed} < 0 then {sql_literal(Reason.NEGATIVE)}")
    branches += bound_errors
    if not branches:
        return "cast(null as varchar)"
    return f"case {' '.join(branches)} end"


# Rows found bad outside the cleaning query -------------------------------------------------

ROW_COLUMN = "(row)"  # column_name of a reason that concerns the whole row


def mark_rows(con: duckdb.DuckDBPyConnection, marks: list[tuple[int, str, str, str]]) -> None:
    """Mark rows of `_clean` bad: (line, column_name, reason, raw text); the reason replaces
    the row's other errors (an undecodable row's values are noise), the raw text is kept
    as `{"line": prefix}` when the row had no raw values yet."""
    if not marks:
        return
    con.execute(
        "create or replace temp table _marks "
        "(line bigint, column_name varchar, reason varchar, raw_text varchar)"
    )
    con.executemany(
        "insert into _marks values (?, ?, ?, ?)",
        [[line, column, reason, prefix(text)] for line, column, reason, text in marks],
    )
    con.execute(
        f"""
        update {CLEAN} set
            _bad = true,
            _errors = marked.errors,
            _raw_values = coalesce({CLEAN}._raw_values, json_object('line', marked.raw_text))
        from (
            select
                line,
                list({{'column_name': column_name, 'reason': reason}}) as errors,
                any_value(raw_text) as raw_text
            from _marks
            group by line
        ) as marked
        where {CLEAN}._line = marked.line
        """
    )
    con.execute("drop table _marks")
