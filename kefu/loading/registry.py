"""The file registry `raw.load_files`: which contents were loaded, which were rejected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from kefu.loading.entities import DEFAULT_TIMEZONE
from kefu.loading.landing import LandingFile
from kefu.loading.readers import Fingerprint
from kefu.loading.sql import scalar


@dataclass(frozen=True)
class Registration:
    """One row of raw.load_files."""

    file_id: int
    landing_file: LandingFile
    sha256: str
    encoding: str | None
    status: str  # loaded | rejected
    load_run_id: int
    rows_read: int | None = None
    rows_loaded: int | None = None
    rows_quarantined: int | None = None
    rows_duplicate: int | None = None
    message: str | None = None


def next_load_run_id(con: duckdb.DuckDBPyConnection) -> int:
    return scalar(con, "select coalesce(max(load_run_id), 0) + 1 from raw.load_files")


def next_file_id(con: duckdb.DuckDBPyConnection) -> int:
    return scalar(con, "select coalesce(max(file_id), 0) + 1 from raw.load_files")


def is_already_loaded(
    con: duckdb.DuckDBPyConnection, entity: str, fingerprint: Fingerprint
) -> bool:
    """A file with this content was loaded into this entity before (any name, any run)."""
    found = scalar(
        con,
        "select count(*) from raw.load_files "
        "where entity = ? and content_sha256 = ? and status = 'loaded'",
        [entity, fingerprint.sha256],
    )
    return found > 0


def file_stat(path: Path) -> tuple[int, int] | None:
    """(size in bytes, modification time in ns) of a file, None when it cannot be read."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def loaded_stats(con: duckdb.DuckDBPyConnection) -> frozenset[tuple[str, str, int, int]]:
    """(path, entity, size in bytes, modification time in ns) of every landing file whose
    content was found loaded (raw.landing_file_stats), read once per load run: one query
    per file cost about 1 ms, 2 s a night on a year of daily files."""
    rows = con.execute(
        "select file_path, entity, size_bytes, mtime_ns from raw.landing_file_stats"
    ).fetchall()
    return frozenset(
        (str(path), str(entity), int(size), int(mtime)) for path, entity, size, mtime in rows
    )


def is_unchanged_since_loaded(
    loaded: frozenset[tuple[str, str, int, int]],
    entity: str,
    relative: str,
    stat: tuple[int, int] | None,
) -> bool:
    """The file at this path has the size and modification time it had when its content was
    found loaded (`loaded`, from loaded_stats): skipped without reading it again."""
    return stat is not None and (relative, entity, *stat) in loaded


def remember_loaded(
    con: duckdb.DuckDBPyConnection,
    entity: str,
    relative: str,
    stat: tuple[int, int] | None,
    sha256: str,
) -> None:
    """Record that the content at this path (size, time taken before it was read) is in the
    warehouse."""
    if stat is None:
        return
    con.execute(
        "insert or replace into raw.landing_file_stats values (?, ?, ?, ?, ?)",
        [relative, entity, *stat, sha256],
    )


def register(con: duckdb.DuckDBPyConnection, row: Registration) -> None:
    con.execute(
        """
        insert into raw.load_files (
            file_id, entity, file_path, file_name, content_sha256, file_format, encoding,
            status, rows_read, rows_loaded, rows_quarantined, rows_duplicate, message,
            load_run_id
        ) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            row.file_id,
            row.landing_file.entity,
            row.landing_file.relative,
            row.landing_file.name,
            row.sha256,
            row.landing_file.file_format,
            row.encoding,
            row.status,
            row.rows_read,
            row.rows_loaded,
            row.rows_quarantined,
            row.rows_duplicate,
            row.message,
            row.load_run_id,
        ],
    )


def shop_timezones(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """shop_id -> timezone for the shops whose latest loaded row is off Asia/Shanghai
    (the same latest-row rule and default as stg_exports__shops)."""
    rows = con.execute(
        """
        select shop_id, coalesce(nullif(trim(timezone), ''), ?) as timezone
        from raw.shops
        qualify row_number() over (
            partition by shop_id order by _file_id desc, _row_num desc
        ) = 1
        """,
        [DEFAULT_TIMEZONE],
    ).fetchall()
    return {shop: zone for shop, zone in rows if zone != DEFAULT_TIMEZONE}
