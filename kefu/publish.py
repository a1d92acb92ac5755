"""Publication (docs/metrics.md §14): the file BI opens, apart from the warehouse.

After a build whose checks passed, schema `marts` of the warehouse (and nothing else: no
raw, staging or intermediate, no message text) is copied into a new DuckDB file beside
the target, written in DuckDB storage version v1.0.0 so that the DuckDB 1.x engines BI
drivers bundle open it, then renamed over the target (`os.replace`, atomic on one file
system). A reader that holds the old file open keeps reading the old file; the next
connection opens the new one; a failed night never reaches this step, so the last good
file stays byte-for-byte. One Parquet folder per mart is written beside it
(`<published dir>/parquet/<mart>/<mart>.parquet`), each file replaced atomically too.

A window build changes a per-day mart only on the window's days. When the builds since
the last publication were all window builds and the file at the target is the one that
publication wrote (kefu.nightly checks both), the new file starts as a copy of the last
one: those marts get only their window's days again (delete + insert), every other table
is copied whole, as before. The result holds the same rows; on a year of history the copy
of every mart was the part of a night that grew with history the most (docs/performance.md).
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


@dataclass(frozen=True)
class Refresh:
    """What a publication copies again into a copy of the last one: the biz_dates
    [start, end] of `marts`, the marts whose rows change only on a build's window days."""

    start: dt.date
    end: dt.date
    marts: frozenset[str]


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


def _copy_marts(con: duckdb.DuckDBPyConnection, tables: list[str], refresh: Refresh | None) -> None:
    """Fill kefu_pub.marts from the warehouse's marts: every table whole, or, with
    `refresh`, the refreshed marts' window days into the copy of the last publication
    (a table whose columns changed, or that is new, copied whole; a table gone dropped)."""
    if refresh is None:
        con.execute("create schema kefu_pub.marts")
        for table in tables:
            con.execute(
                f"create table kefu_pub.marts.{_quoted(table)} as"
                f" select * from marts.{_quoted(table)}"
            )
        return
    ours = _table_shapes(con, current_catalog(con))
    published = _table_shapes(con, "kefu_pub")
    con.execute("begin transaction")
    try:
        _refresh_tables(con, tables, refresh, ours, published)
    except duckdb.Error:
        con.execute("rollback")
        raise
    con.execute("commit")


def _refresh_tables(
    con: duckdb.DuckDBPyConnection,
    tables: list[str],
    refresh: Refresh,
    ours: dict[str, list[tuple]],
    published: dict[str, list[tuple]],
) -> None:
    for table in sorted(set(published) - set(tables)):
        con.execute(f"drop table kefu_pub.marts.{_quoted(table)}")
    for table in tables:
        name = _quoted(table)
        if table in refresh.marts and published.get(table) == ours[table]:
            days = "biz_date between ? and ?"
            window = [refresh.start, refresh.end]
            con.execute(f"delete from kefu_pub.marts.{name} where {days}", window)
            con.execute(
                f"insert into kefu_pub.marts.{name} select * from marts.{name} where {days}",
                window,
            )
        else:
            con.execute(f"drop table if exists kefu_pub.marts.{name}")
            con.execute(f"create table kefu_pub.marts.{name} as select * from marts.{name}")


def current_catalog(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_database()").fetchone()[0]


def write_published(db_path: Path, target: Path, refresh: Refresh | None = None) -> list[str]:
    """Copy schema marts of the warehouse into a new file (with `refresh`, into a copy of
    the file at `target`, see Refresh), then rename it over `target`; the marts copied.
    The warehouse connection is the process's own (dbt-duckdb may hold one open in this
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
            _copy_marts(con, sorted(columns), refresh)
            con.execute("checkpoint kefu_pub")
        finally:
            con.execute("detach kefu_pub")
    _replace(temporary, target)
    return sorted(columns)


def write_parquet(target: Path, marts: list[str]) -> Path:
    """One folder per mart beside the published file, from the published file itself (so
    the Parquet files hold what the DuckDB file holds); each file replaced atomically."""
    root = target.parent / "parquet"
    with duckdb.connect(str(target), read_only=True) as con:
        for table in marts:
            folder = root / table
            folder.mkdir(parents=True, exist_ok=True)
            for leftover in folder.glob(f".{table}.parquet.*.tmp"):
                leftover.unlink(missing_ok=True)
            final = folder / f"{table}.parquet"
            temporary = folder / f".{table}.parquet.{os.getpid()}.tmp"
            literal = str(temporary).replace("'", "''")
            con.execute(
                f"copy (select * from marts.{_quoted(table)}) to '{literal}' (format parquet)"
            )
            _replace(temporary, final)
    return root


def publish_marts(db_path: Path, target: Path, refresh: Refresh | None = None) -> list[str]:
    """The published DuckDB file, then its Parquet folders; the marts published."""
    marts = write_published(db_path, target, refresh)
    write_parquet(target, marts)
    return marts


def published_tables(target: Path) -> list[tuple[str, str]]:
    """(schema, table) of every table of a published file."""
    with duckdb.connect(str(target), read_only=True) as con:
        return con.execute(
            "select schema_name, table_name from duckdb_tables() order by all"
        ).fetchall()
