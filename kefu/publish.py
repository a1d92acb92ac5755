"""Publication (docs/metrics.md §14): the file BI opens, apart from the warehouse.

After a build whose checks passed, schema `marts` of the warehouse (and nothing else: no
raw, staging or intermediate, no message text) is copied into a new DuckDB file beside
the target, written in DuckDB storage version v1.0.0 so that the DuckDB 1.x engines BI
drivers bundle open it, then renamed over the target (`os.replace`, atomic on one file
system). A reader that holds the old file open keeps reading the old file; the next
connection opens the new one; a failed night never reaches this step, so the last good
file stays byte-for-byte. One Parquet folder per mart is written beside it,
`<published dir>/parquet/<mart>/`: a mart with a date column (MONTH_COLUMNS) one file per
month of it (`<mart>-2026-05.parquet`), any other mart one file (`<mart>.parquet`), each
file replaced atomically too.

A window build changes a per-day mart only on the window's days. When the builds since
the last publication were all window builds and the file at the target is the one that
publication wrote (kefu.nightly checks both), the new file starts as a copy of the last
one: those marts get only their window's days again (delete + insert), the order-level
marts (ORDER_MARTS) the orders created or paid from the window's first day on, every other
table is copied whole, as before. The Parquet files of the months those rows fall in are
written again, the others stay. The result holds the same rows; on a year of history the
copy of every mart was the part of a night that grew with history the most
(docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

PUBLISH_ENV = "KEFU_PUBLISH"
PUBLISHED_NAME = "kefu.duckdb"
STORAGE_VERSION = "v1.0.0"
# Columns that would hold chat text; the checks refuse them in marts, and the copy
# refuses them again, whatever a model does.
MESSAGE_TEXT_COLUMNS = frozenset({"content", "message_text", "text", "msg_content"})


class PublishError(RuntimeError):
    """The publication could not be written (the previous one stays in place)."""


def resolve_publish_path(db_path: Path, publish: str | None = None) -> Path:
    """--publish, else env KEFU_PUBLISH, else published/kefu.duckdb beside the warehouse."""
    raw = publish or os.environ.get(PUBLISH_ENV)
    if raw:
        return Path(raw).expanduser().resolve()
    return Path(db_path).resolve().parent / "published" / PUBLISHED_NAME


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(temporary: Path, target: Path) -> None:
    _fsync(temporary)
    os.replace(temporary, target)
    _fsync(target.parent)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _mart_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns"
        " where table_catalog = current_database() and table_schema = 'marts'"
        " order by table_name, ordinal_position"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    return columns


# The pre-hook of a model that deletes and rebuilds exactly the window's biz_dates
# (macros/build_window.sql): its rows on other days are those of the last build.
WINDOW_PRE_HOOK = "{{ kefu_delete_window('biz_date') }}"


# The marts with one row per order (shop_id, order_id) whose rows a window build changes
# only for the orders created or paid from its first day on: int_orders_credited credits
# anew the orders whose latest version is created or paid in the window or after it, and
# no other (macros/build_window.sql, kefu_orders_to_credit); these marts are its rows.
ORDER_MARTS = frozenset({"fct_order_credits"})
ORDER_ROWS = "(created_date >= ? or paid_date >= ?)"
ORDER_KEY = ("shop_id", "order_id")

# Parquet: a mart with one of these columns (the first found) is written one file per
# month of it; its rows without one go to `<mart>-undated.parquet`.
MONTH_COLUMNS = ("biz_date", "created_date")


@dataclass(frozen=True)
class Refresh:
    """What a publication copies again into a copy of the last one: the biz_dates
    [start, end] of `marts`, the marts whose rows change only on a build's window days,
    and the orders of ORDER_MARTS created or paid from `start` on."""

    start: dt.date
    end: dt.date
    marts: frozenset[str]

    def rows(self, table: str) -> tuple[str, list[dt.date], tuple[str, ...]] | None:
        """The rows of mart `table` a window build may have changed: a SQL condition, its
        parameters, and the key whose published rows they replace (none: the rows the
        condition selects); None when the whole mart is copied."""
        if table in self.marts:
            return "biz_date between ? and ?", [self.start, self.end], ()
        if table in ORDER_MARTS:
            return ORDER_ROWS, [self.start, self.start], ORDER_KEY
        return None


def window_marts(manifest: Path) -> frozenset[str]:
    """The marts a window build rebuilds only on its window's days, from dbt's manifest
    (incremental, their single pre-hook kefu_delete_window('biz_date')); none when the
    manifest cannot be read."""
    try:
        graph = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    found = set()
    for node in graph.get("nodes", {}).values():
        config = node.get("config") or {}
        hooks = [hook.get("sql", "").strip() for hook in config.get("pre-hook") or []]
        if (
            node.get("resource_type") == "model"
            and node.get("schema") == "marts"
            and config.get("materialized") == "incremental"
            and hooks == [WINDOW_PRE_HOOK]
        ):
            found.add(node.get("alias") or node["name"])
    return frozenset(found)


def _table_shapes(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple]]:
    rows = con.execute(
        "select table_name, column_name, data_type from information_schema.columns"
        " where table_catalog = ? and table_schema = 'marts'"
        " order by table_name, ordinal_position",
        [catalog],
    ).fetchall()
    shapes: dict[str, list[tuple]] = {}
    for table, column, data_type in rows:
        shapes.setdefault(table, []).append((column, data_type))
    return shapes


def _copy_marts(
    con: duckdb.DuckDBPyConnection, tables: list[str], refresh: Refresh | None
) -> dict[str, set[str]]:
    """Fill kefu_pub.marts from the warehouse's marts: every table whole, or, with
    `refresh`, the refreshed rows (Refresh.rows) into the copy of the last publication (a
    table whose columns changed, or that is new, copied whole; a table gone dropped).
    The months (Parquet file names) of the rows each refreshed table lost or got; a
    table absent from it was copied whole."""
    if refresh is None:
        con.execute("create schema kefu_pub.marts")
        for table in tables:
            con.execute(
                f"create table kefu_pub.marts.{_quoted(table)} as"
                f" select * from marts.{_quoted(table)}"
            )
        return {}
    ours = _table_shapes(con, current_catalog(con))
    published = _table_shapes(con, "kefu_pub")
    con.execute("begin transaction")
    try:
        touched = _refresh_tables(con, tables, refresh, ours, published)
    except duckdb.Error:
        con.execute("rollback")
        raise
    con.execute("commit")
    return touched


def _refresh_tables(
    con: duckdb.DuckDBPyConnection,
    tables: list[str],
    refresh: Refresh,
    ours: dict[str, list[tuple]],
    published: dict[str, list[tuple]],
) -> dict[str, set[str]]:
    touched: dict[str, set[str]] = {}
    for table in sorted(set(published) - set(tables)):
        con.execute(f"drop table kefu_pub.marts.{_quoted(table)}")
    for table in tables:
        name = _quoted(table)
        rows = refresh.rows(table)
        if rows is not None and published.get(table) == ours[table]:
            where, values, key = rows
            # The published rows to replace: those of the condition, and those of a key
            # whose new row meets it (an order's older version may not).
            replaced, replaced_values = where, values
            if key:
                same = " and ".join(f"new.{_quoted(c)} = old.{_quoted(c)}" for c in key)
                replaced = (
                    f"{where} or exists (select 1 from marts.{name} as new"
                    f" where {where} and {same})"
                )
                replaced_values = [*values, *values]
            column = _month_column([column for column, _ in ours[table]])
            if column is not None:
                touched[table] = {
                    month_key
                    for source, condition, params in (
                        (f"kefu_pub.marts.{name} as old", replaced, replaced_values),
                        (f"marts.{name}", where, values),
                    )
                    for (month_key,) in con.execute(
                        f"select distinct {_month_key(column)} from {source} where {condition}",
                        params,
                    ).fetchall()
                }
            con.execute(
                f"delete from kefu_pub.marts.{name} as old where {replaced}", replaced_values
            )
            con.execute(
                f"insert into kefu_pub.marts.{name} select * from marts.{name} where {where}",
                values,
            )
        else:
            con.execute(f"drop table if exists kefu_pub.marts.{name}")
            con.execute(f"create table kefu_pub.marts.{name} as select * from marts.{name}")
    return touched


def _month_column(columns: list[str]) -> str | None:
    return next((column for column in MONTH_COLUMNS if column in columns), None)


def _month_key(column: str) -> str:
    """The SQL of a row's month key (`2026-05`, or `undated`) by its `column`."""
    return f"coalesce(strftime({_quoted(column)}, '%Y-%m'), 'undated')"


def current_catalog(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_database()").fetchone()[0]


def write_published(
    db_path: Path, target: Path, refresh: Refresh | None = None
) -> tuple[list[str], dict[str, set[str]]]:
    """Copy schema marts of the warehouse into a new file (with `refresh`, into a copy of
    the file at `target`, see Refresh), then rename it over `target`; the marts copied,
    and the months each refreshed mart's changed rows fall in (see _copy_marts). The
    warehouse connection is the process's own (dbt-duckdb may hold one open in this
    process)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # Left by a publication killed half-way (the caller holds the warehouse lock, so no
    # other publication of this warehouse is running).
    for leftover in target.parent.glob(f".{target.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with duckdb.connect(str(db_path)) as con:
        columns = _mart_columns(con)
        text = sorted(
            f"marts.{table}.{column}"
            for table, names in columns.items()
            for column in names
            if column.lower() in MESSAGE_TEXT_COLUMNS
        )
        if text:
            raise PublishError(f"not published: message text in {', '.join(text)}")
        if not columns:
            raise PublishError(f"not published: {db_path} has no schema marts")
        literal = str(temporary).replace("'", "''")
        if refresh is not None and target.exists():
            shutil.copyfile(target, temporary)  # keeps the file's storage version
            con.execute(f"attach '{literal}' as kefu_pub")
        else:
            refresh = None
            con.execute(f"attach '{literal}' as kefu_pub (storage_version '{STORAGE_VERSION}')")
        try:
            touched = _copy_marts(con, sorted(columns), refresh)
            con.execute("checkpoint kefu_pub")
        finally:
            con.execute("detach kefu_pub")
    _replace(temporary, target)
    return sorted(columns), touched


def write_parquet(
    target: Path, marts: list[str], touched: dict[str, set[str]] | None = None
) -> Path:
    """One folder per mart beside the published file, from the published file itself (so
    the Parquet files hold what the DuckDB file holds); each file replaced atomically.
    A mart of `touched` gets only the files of its months there written again (removed
    when the month has no row left), if its folder holds exactly the files of the last
    publication; every other mart is written whole, and files of no month left removed."""
    root = target.parent / "parquet"
    touched = touched or {}
    with duckdb.connect(str(target), read_only=True) as con:
        columns = _mart_columns(con)
        for table in marts:
            folder = root / table
            folder.mkdir(parents=True, exist_ok=True)
            for leftover in folder.glob(".*.parquet.*.tmp"):
                leftover.unlink(missing_ok=True)
            for leftover in folder.glob(f".{PARTS}.*.tmp"):
                shutil.rmtree(leftover, ignore_errors=True)
            _write_mart_parquet(con, folder, table, columns[table], touched.get(table))
    return root


def _write_mart_parquet(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    table: str,
    columns: list[str],
    touched: set[str] | None,
) -> None:
    source = f"marts.{_quoted(table)}"
    column = _month_column(columns)
    existing = {path.name for path in folder.glob("*.parquet")}
    files = {f"{table}.parquet": f"select * from {source}"}
    kept: set[str] = set()
    if column is not None:
        months = _mart_months(con, source, column)
        if months:  # else an empty mart: one file with its columns
            files = {
                f"{table}-{key}.parquet": f"select * from {source} where {_in_month(column, key)}"
                for key in months
            }
        if months and touched is not None:
            unchanged = {f"{table}-{key}.parquet" for key in months - touched}
            rewritten = {f"{table}-{key}.parquet" for key in touched}
            if unchanged <= existing <= unchanged | rewritten:
                kept = unchanged
                files = {name: query for name, query in files.items() if name not in kept}
    fresh = set(files)
    if column is not None and len(files) > 1 and PARTS not in columns:
        keys = {name: name.removeprefix(f"{table}-").removesuffix(".parquet") for name in files}
        wanted = set(keys.values())
        written = _write_months(con, folder, table, column, wanted, every=wanted == months)
        files = {name: query for name, query in files.items() if keys[name] not in written}
    for name, query in sorted(files.items()):
        temporary = folder / f".{name}.{os.getpid()}.tmp"
        literal = str(temporary).replace("'", "''")
        con.execute(f"copy ({query}) to '{literal}' (format parquet)")
        _replace(temporary, folder / name)
    for stale in existing - fresh - kept:
        (folder / stale).unlink(missing_ok=True)


def _mart_months(con: duckdb.DuckDBPyConnection, source: str, column: str) -> set[str]:
    """The month keys (`_month_key`) of the rows of `source`: the range of its dates, then
    for each month of the range whether a row falls in it, a query that stops at its first
    row and reads only the row groups of that month. A key per row (`select distinct`)
    scanned the whole mart, on each window night's publication (issue 13)."""
    first, last, undated = con.execute(
        f"select min({_quoted(column)}), max({_quoted(column)}),"
        f" count(*) - count({_quoted(column)}) from {source}"
    ).fetchone()
    keys = {"undated"} if undated else set()
    if isinstance(first, dt.datetime):  # a timestamp column: its months are its dates'
        first, last = first.date(), last.date()
    month = first.replace(day=1) if first is not None else None
    while month is not None and month <= last:
        key = f"{month:%Y-%m}"
        if con.execute(f"select 1 from {source} where {_in_month(column, key)} limit 1").fetchone():
            keys.add(key)
        month = _next_month(month)
    return keys


def _next_month(first: dt.date) -> dt.date:
    """The first day of the month after the one that starts on `first`."""
    return (first + dt.timedelta(days=32)).replace(day=1)


# The partition column of a mart's one-pass Parquet write (a mart with a column of that
# name is written month by month), and its temporary folder's name (`.kefu_month.<pid>.tmp`
# in the mart's folder, its files named `*.tmp`: a reader globbing `**/*.parquet` or
# listing the folder's subfolders never takes them for a month's file).
PARTS = "kefu_month"


def _write_months(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    table: str,
    column: str,
    keys: set[str],
    every: bool,
) -> set[str]:
    """Write `<table>-<month>.parquet` of the months `keys` (`every`: they are all the
    mart's months) of a dated mart in one pass over it (one scan instead of one per
    month: a year's publication writes 13 months of each mart), each file replaced
    atomically; the months written. A month DuckDB wrote as more than one file is not
    written (the caller writes it alone), so each month stays one file."""
    source = f"marts.{_quoted(table)}"
    key = _month_key(column)
    where = ""
    if not every:
        # Date ranges, which DuckDB prunes row groups with (a month key per row would
        # read the whole mart).
        where = " where " + " or ".join(f"({_in_month(column, month)})" for month in sorted(keys))
    parts = folder / f".{PARTS}.{os.getpid()}.tmp"
    shutil.rmtree(parts, ignore_errors=True)
    literal = str(parts).replace("'", "''")
    written: set[str] = set()
    # DuckDB closes a month's file and opens another when more months are open than
    # this (100 by default, about eight years).
    con.execute(f"set partitioned_write_max_open_files = {max(100, len(keys) + 1)}")
    con.execute("set enable_progress_bar = false")  # a long pass would draw one on stdout
    try:
        con.execute(
            f"copy (select *, {key} as {PARTS} from {source}{where}) to '{literal}'"
            f" (format parquet, partition_by ({PARTS}), file_extension 'tmp')"
        )
        for month in parts.glob(f"{PARTS}=*"):
            found = list(month.glob("*.tmp"))
            if len(found) == 1:
                name = month.name.removeprefix(f"{PARTS}=")
                if name in keys:
                    _replace(found[0], folder / f"{table}-{name}.parquet")
                    written.add(name)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
    return written


def _in_month(column: str, key: str) -> str:
    """The SQL condition of the rows of month `key` (`2026-05`, or `undated`)."""
    if key == "undated":
        return f"{_quoted(column)} is null"
    first = dt.date.fromisoformat(f"{key}-01")
    after = _next_month(first)
    return f"{_quoted(column)} >= date '{first}' and {_quoted(column)} < date '{after}'"


def publish_marts(db_path: Path, target: Path, refresh: Refresh | None = None) -> list[str]:
    """The published DuckDB file, then its Parquet folders; the marts published."""
    marts, touched = write_published(db_path, target, refresh)
    write_parquet(target, marts, touched)
    return marts


def published_tables(target: Path) -> list[tuple[str, str]]:
    """(schema, table) of every table of a published file."""
    with duckdb.connect(str(target), read_only=True) as con:
        return con.execute(
            "select schema_name, table_name from duckdb_tables() order by all"
        ).fetchall()
