"""What the warehouse holds, as far as planning a build needs to know: which marts exist,
the last day the data covers, the earliest day newly loaded rows touch, and the ruleset
parameters that size the refresh window. Reads only; nothing here looks at the clock."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kefu.loading.registry import file_stat
from kefu.paths import PROJECT_DIR

MARTS_DIR = PROJECT_DIR / "models" / "marts"
RULESETS_CSV = PROJECT_DIR / "seeds" / "rulesets.csv"
# Master data whose new rows change figures of every day (filter list "any date", a shop's
# timezone or ruleset, an agent's name on every row): a load of them calls for a full build.
MASTER_DATA_ENTITIES = ("shops", "agents", "filters")


@contextlib.contextmanager
def connect(db_path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A connection, or None when the warehouse file does not exist yet.

    read_only suits another process (a schedule tick); inside the process that ran dbt
    in-process use the default, as dbt-duckdb keeps its read-write connection open and
    DuckDB refuses a second one with a different configuration."""
    if not Path(db_path).exists():
        yield None
        return
    con = duckdb.connect(str(db_path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def mart_names() -> list[str]:
    """The marts the dbt project builds (one model per .sql file under models/marts)."""
    return sorted(path.stem for path in MARTS_DIR.rglob("*.sql"))


def existing_tables(con: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables"
        " where table_catalog = current_database() and table_schema = ?",
        [schema],
    ).fetchall()
    return {row[0] for row in rows}


def marts_exist(con: duckdb.DuckDBPyConnection | None) -> bool:
    """Every mart of the project exists in the warehouse (else a window build would
    create the missing ones with the window's days only)."""
    if con is None:
        return False
    names = mart_names()
    return bool(names) and set(names) <= existing_tables(con, "marts")


def ruleset_parameter(con: duckdb.DuckDBPyConnection | None, name: str) -> int:
    """The largest value of a ruleset parameter over the shops of the warehouse
    (intermediate.int_shops_completed), or over the rulesets seed before the first build."""
    if con is not None:
        try:
            sql = f"select max({name}) from intermediate.int_shops_completed"
            row = con.execute(sql).fetchone()
        except duckdb.Error:  # not built yet, or its seed is missing
            row = None
        if row and row[0] is not None:
            return int(row[0])
    with RULESETS_CSV.open(encoding="utf-8") as handle:
        values = [int(record[name]) for record in csv.DictReader(handle)]
    if not values:
        raise ValueError(f"{RULESETS_CSV} has no ruleset rows")
    return max(values)


def _date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"not a date: {value!r}")


def data_last_day(con: duckdb.DuckDBPyConnection | None) -> dt.date | None:
    """The last day the loaded data covers (docs/metrics.md §4.6): the latest local date among
    message sent_at and order created_at / paid_at (raw timestamps are local wall time),
    reading each order's latest version only, as the dbt macro kefu_as_of_date reads
    stg_exports__orders: the latest updated_at, an undated version older than any dated
    one, ties to the later-loaded row (docs/landing.md §1). A superseded version's dates (a
    payment a later version drops) are not data any more.

    Only orders with a version later than the last message can move the result, so the
    latest-version ranking runs on those alone instead of on every order version."""
    if con is None or not {"messages", "orders"} <= existing_tables(con, "raw"):
        return None
    row = con.execute(
        """
        with
        message_last as (
            select max(sent_at) as last_at from raw.messages
        ),
        candidate_orders as (
            select distinct orders.shop_id, orders.order_id
            from raw.orders as orders
            cross join message_last
            where message_last.last_at is null
                or greatest(orders.created_at, orders.paid_at) > message_last.last_at
        ),
        latest_versions as (
            select orders.created_at, orders.paid_at
            from raw.orders as orders
            semi join candidate_orders
                on orders.shop_id = candidate_orders.shop_id
                and orders.order_id = candidate_orders.order_id
            qualify row_number() over (
                partition by orders.shop_id, orders.order_id
                order by orders.updated_at desc nulls last, orders._file_id desc,
                    orders._row_num desc
            ) = 1
        )
        select greatest(
            (select last_at from message_last),
            (select max(created_at) from latest_versions),
            (select max(paid_at) from latest_versions)
        )
        """
    ).fetchone()
    return _date(row[0]) if row else None


def loaded_entities(con: duckdb.DuckDBPyConnection, file_ids: list[int]) -> set[str]:
    """The entities of the given (loaded) files."""
    if not file_ids:
        return set()
    rows = con.execute(
        "select distinct entity from raw.load_files where file_id in (select unnest(?))",
        [file_ids],
    ).fetchall()
    return {row[0] for row in rows}


def new_rows_earliest_date(
    con: duckdb.DuckDBPyConnection,
    file_ids: list[int],
    order_lookback_days: int,
    message_lookback_days: int,
) -> dt.date | None:
    """The earliest biz_date the rows of these files can change: the local date of a new
    rating; for an order version its created / paid date less `order_lookback_days` (a
    reception of the day before the order earns it and counts it as a following order,
    docs/metrics.md §4.1 and §5.2); for a message its date less `message_lookback_days`: a
    reply on day X can earn the payment credit of an order paid on X, which converts
    (docs/metrics.md §4.7) the inquiries of every day up to final_pay_days before X."""
    if not file_ids:
        return None
    lookback = dt.timedelta(days=order_lookback_days)
    row = con.execute(
        """
        with new_files as (select unnest(?) as file_id)
        select
            (select min(sent_at) from raw.messages
                where _file_id in (select file_id from new_files)),
            (select min(rated_at) from raw.ratings
                where _file_id in (select file_id from new_files)),
            (select min(least(created_at, coalesce(paid_at, created_at))) from raw.orders
                where _file_id in (select file_id from new_files))
        """,
        [file_ids],
    ).fetchone()
    message_day, rating_day, order_day = (_date(value) for value in row)
    candidates = [rating_day] if rating_day is not None else []
    if message_day is not None:
        candidates.append(message_day - dt.timedelta(days=message_lookback_days))
    if order_day is not None:
        candidates.append(order_day - lookback)
    return min(candidates) if candidates else None


def file_ids_of_load_run(con: duckdb.DuckDBPyConnection, load_run_id: int) -> list[int]:
    """The files one load run loaded (rejected ones hold no rows)."""
    rows = con.execute(
        "select file_id from raw.load_files where load_run_id = ? and status = 'loaded'"
        " order by file_id",
        [load_run_id],
    ).fetchall()
    return [row[0] for row in rows]


# ---------------------------------------------------------------- build watermark

SEEDS_DIR = PROJECT_DIR / "seeds"

# One row per build attempt: 'started' when it begins, 'built' once dbt succeeded (a
# killed or failed build stays 'started'). A built row lists the load runs whose rows it
# took in; `published` marks the build a publication shipped.
BUILD_RUNS_DDL = """
    create table if not exists raw.build_runs (
        build_id integer primary key,
        status varchar not null,
        command varchar not null,
        as_of_date date,
        window_start date,
        window_end date,
        is_full_build boolean not null,
        load_run_ids integer[] not null,
        seeds_sha256 varchar not null,
        published boolean not null default false
    )"""


def seeds_digest() -> str:
    """sha256 over the seed files (names and bytes): a change calls for a full build."""
    digest = hashlib.sha256()
    for path in sorted(p for p in SEEDS_DIR.rglob("*") if p.is_file()):
        digest.update(path.relative_to(SEEDS_DIR).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Watermark:
    """What the builds so far took in, and what is left for the next one."""

    loaded_runs: tuple[int, ...]  # every load run that recorded a file (loaded or rejected)
    taken_in_runs: tuple[int, ...]  # load runs some successful build took in
    last_seeds_sha256: str | None  # the seeds of the last successful build (None: none yet)
    unfinished_windows: tuple[tuple[dt.date | None, dt.date | None], ...]  # since then


def ensure_build_runs(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(BUILD_RUNS_DDL)


def read_watermark(con: duckdb.DuckDBPyConnection | None) -> Watermark:
    if con is None:
        return Watermark((), (), None, ())
    raw_tables = existing_tables(con, "raw")
    loaded: tuple[int, ...] = ()
    if "load_files" in raw_tables:
        rows = con.execute("select distinct load_run_id from raw.load_files order by 1").fetchall()
        loaded = tuple(row[0] for row in rows)
    if "build_runs" not in raw_tables:
        return Watermark(loaded, (), None, ())
    taken = con.execute(
        "select distinct unnest(load_run_ids) from raw.build_runs where status = 'built'"
    ).fetchall()
    last = con.execute(
        "select build_id, seeds_sha256 from raw.build_runs where status = 'built'"
        " order by build_id desc limit 1"
    ).fetchone()
    last_id = last[0] if last else -1
    unfinished = con.execute(
        "select window_start, window_end from raw.build_runs"
        " where status = 'started' and build_id > ? order by build_id",
        [last_id],
    ).fetchall()
    return Watermark(
        loaded,
        tuple(sorted(row[0] for row in taken)),
        last[1] if last else None,
        tuple((_date(start), _date(end)) for start, end in unfinished),
    )


def loaded_file_ids(con: duckdb.DuckDBPyConnection, load_run_ids: list[int]) -> list[int]:
    """The files these load runs loaded (rejected ones hold no rows)."""
    if not load_run_ids:
        return []
    rows = con.execute(
        "select file_id from raw.load_files where status = 'loaded'"
        " and load_run_id in (select unnest(?)) order by file_id",
        [list(load_run_ids)],
    ).fetchall()
    return [row[0] for row in rows]


def start_build(
    con: duckdb.DuckDBPyConnection,
    command: str,
    as_of: dt.date | None,
    window: tuple[dt.date | None, dt.date | None],
    load_run_ids: list[int],
) -> int:
    """Record a build attempt before dbt runs; its build_id."""
    ensure_build_runs(con)
    build_id = con.execute("select coalesce(max(build_id), 0) + 1 from raw.build_runs").fetchone()[
        0
    ]
    start, end = window
    con.execute(
        "insert into raw.build_runs (build_id, status, command, as_of_date, window_start,"
        " window_end, is_full_build, load_run_ids, seeds_sha256)"
        " values (?, 'started', ?, ?, ?, ?, ?, ?, ?)",
        [
            build_id,
            command,
            as_of,
            start,
            end,
            start is None and end is None,
            list(load_run_ids),
            seeds_digest(),
        ],
    )
    return build_id


def finish_build(con: duckdb.DuckDBPyConnection, build_id: int) -> None:
    """dbt succeeded: the build's load runs are taken in."""
    con.execute("update raw.build_runs set status = 'built' where build_id = ?", [build_id])


def last_built(con: duckdb.DuckDBPyConnection | None) -> int | None:
    """The build_id of the last successful build (None: none recorded)."""
    if con is None or "build_runs" not in existing_tables(con, "raw"):
        return None
    row = con.execute("select max(build_id) from raw.build_runs where status = 'built'").fetchone()
    return row[0]


def unpublished_load_totals(con: duckdb.DuckDBPyConnection, build_id: int) -> dict[str, object]:
    """What the builds since the last publication, up to `build_id`, took in: their load
    runs, and the files and rows of those runs (what a publication of `build_id` ships)."""
    runs = con.execute(
        """
        select coalesce(list(distinct run order by run), [])
        from (
            select unnest(load_run_ids) as run from raw.build_runs
            where status = 'built' and build_id <= ?
                and build_id > (select coalesce(max(build_id), 0) from raw.build_runs
                                where published and build_id < ?)
        )
        """,
        [build_id, build_id],
    ).fetchone()[0]
    row = con.execute(
        """
        select
            count(*) filter (where status = 'loaded'),
            count(*) filter (where status = 'rejected'),
            coalesce(sum(rows_loaded) filter (where status = 'loaded'), 0),
            coalesce(sum(rows_quarantined) filter (where status = 'loaded'), 0),
            coalesce(sum(rows_duplicate) filter (where status = 'loaded'), 0)
        from raw.load_files where load_run_id in (select unnest(?))
        """,
        [list(runs)],
    ).fetchone()
    return {
        "load_run_ids": list(runs),
        "files_loaded": int(row[0]),
        "files_rejected": int(row[1]),
        "rows_loaded": int(row[2]),
        "rows_quarantined": int(row[3]),
        "rows_duplicate": int(row[4]),
    }


def mark_published(con: duckdb.DuckDBPyConnection, build_id: int) -> None:
    con.execute("update raw.build_runs set published = true where build_id = ?", [build_id])


# The file the last publication wrote, as it was when written: a later publication may
# start from a copy of it only while it is still that file (kefu.publish.Refresh).
PUBLISHED_FILES_DDL = """
    create table if not exists raw.published_files (
        build_id integer not null,
        path varchar not null,
        size_bytes bigint not null,
        mtime_ns bigint not null
    )"""


def record_published_file(con: duckdb.DuckDBPyConnection, build_id: int, target: Path) -> None:
    """Remember the file publication `build_id` wrote (one row: the last publication)."""
    stamp = file_stat(target)
    if stamp is None:
        raise FileNotFoundError(f"published file {target} not found")
    con.execute(PUBLISHED_FILES_DDL)
    con.execute("begin transaction")
    con.execute("delete from raw.published_files")
    con.execute(
        "insert into raw.published_files values (?, ?, ?, ?)",
        [build_id, str(target.resolve()), *stamp],
    )
    con.execute("commit")


def days_since_publication(
    con: duckdb.DuckDBPyConnection, build_id: int, target: Path
) -> tuple[dt.date, dt.date] | None:
    """The biz_dates the builds since the last publication, up to `build_id`, rebuilt,
    when a publication of `build_id` may start from the file at `target`: that file is
    still the one the last publication wrote (path, size, modification time), and every
    one of those builds, finished or not, was a window build. None otherwise (copy every
    mart whole)."""
    stamp = file_stat(target)
    if "published_files" not in existing_tables(con, "raw") or stamp is None:
        return None
    last = con.execute(
        "select max(build_id) from raw.build_runs where published and build_id < ?", [build_id]
    ).fetchone()[0]
    same_file = con.execute(
        "select count(*) from raw.published_files"
        " where build_id = ? and path = ? and size_bytes = ? and mtime_ns = ?",
        [last, str(target.resolve()), *stamp],
    ).fetchone()[0]
    if last is None or not same_file:
        return None
    builds = con.execute(
        "select count(*), count(*) filter (where is_full_build or window_start is null"
        " or window_end is null), min(window_start), max(window_end)"
        " from raw.build_runs where build_id > ? and build_id <= ?",
        [last, build_id],
    ).fetchone()
    count, full, start, end = builds
    if not count or full:
        return None
    return _date(start), _date(end)
