"""`load_landing`: ingest every new file of the landing zone, one transaction per file."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from kefu import progress
from kefu.loading.bounds import DEFAULT_RULESET, Bounds, read_bounds, shop_bounds, today_utc
from kefu.loading.entities import ENTITIES, Entity, Reason
from kefu.loading.landing import LandingFile, scan_landing
from kefu.loading.mappings import MappingError, MappingSet, load_mappings
from kefu.loading.readers import (
    SRC,
    FileRejected,
    Fingerprint,
    Source,
    fingerprint,
    physical_lines,
    read_source,
    record_lines,
)
from kefu.loading.registry import (
    Registration,
    file_stat,
    is_already_loaded,
    is_unchanged_since_loaded,
    loaded_stats,
    next_file_id,
    next_load_run_id,
    register,
    remember_loaded,
    shop_timezones,
)
from kefu.loading.report import FileResult, LoadReport, Outcome
from kefu.loading.sql import scalar, short_error, sql_literal
from kefu.loading.transform import (
    CLEAN,
    ROW_COLUMN,
    CleanPlan,
    build_clean,
    install_macros,
    mark_rows,
    match_columns,
)
from kefu.machine import apply_limits
from kefu.schema import KEY_RANGE_COLUMNS, create_raw_schema, insert_key_ranges

CRASH_ENV = "KEFU_CRASH_AFTER_ROWS_OF"
CRASH_EXIT_CODE = 17


def load_landing(
    db_path: Path,
    landing_dir: Path,
    load_day: dt.date | None = None,
    mappings_dir: Path | None = None,
) -> LoadReport:
    """Load every file of `landing_dir` not loaded before into the raw schema of `db_path`.

    `load_day` (default: today, UTC) only bounds the times a row may carry (see
    kefu.loading.bounds); it never enters a stored value. Column mappings: the shipped ones,
    `landing_dir/mappings/` and `mappings_dir` (see kefu.loading.mappings)."""
    load_day = load_day or today_utc()
    bounds = read_bounds()
    try:
        mappings = load_mappings(landing_dir if landing_dir.is_dir() else None, mappings_dir)
    except MappingError as exc:
        report = LoadReport(0)
        report.files.append(
            FileResult(
                str(exc).split(": ", 1)[0],
                None,
                Outcome.REJECTED,
                message=str(exc).split(": ", 1)[1],
            )
        )
        return report
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path)) as con:
        con.execute("set enable_progress_bar = false")
        apply_limits(con, db_path)
        create_raw_schema(con)
        install_macros(con)
        report = LoadReport(next_load_run_id(con))
        if not landing_dir.is_dir():
            report.files.append(
                FileResult(
                    str(landing_dir),
                    None,
                    Outcome.REJECTED,
                    message="landing zone not found (not a folder)",
                )
            )
            return report
        scan = scan_landing(landing_dir)
        # A snapshot: a file this run loads is remembered under its own path, which no
        # later file of the scan has.
        loaded = loaded_stats(con)
        rows = 0  # loaded so far, for the progress line (a running sum: no pass per file)
        with tempfile.TemporaryDirectory(prefix="kefu-load-") as workdir:
            for index, landing_file in enumerate(scan.files, start=1):
                context = LoadContext(
                    report.load_run_id, Path(workdir), load_day, bounds, mappings, loaded
                )
                result = load_file(con, landing_file, context)
                report.files.append(result)
                rows += result.rows_loaded if result.outcome is Outcome.LOADED else 0
                progress.file_loaded(index, len(scan.files), landing_file.relative, rows)
        report.files += [FileResult(path, None, Outcome.IGNORED) for path in scan.ignored]
        report.files += [
            FileResult(note.split(": ", 1)[0], None, Outcome.NOTED, message=note.split(": ", 1)[1])
            for note in scan.notes
        ]
    return report


@dataclass(frozen=True)
class LoadContext:
    """What every file of one load run shares."""

    run_id: int
    workdir: Path
    load_day: dt.date
    bounds: dict[str, Bounds]
    mappings: MappingSet
    loaded: frozenset[tuple[str, str, int, int]] = frozenset()  # loaded_stats at its start


def load_file(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, context: LoadContext
) -> FileResult:
    """Load one file (or skip or reject it) and say what happened."""
    run_id, workdir = context.run_id, context.workdir
    if not landing_file.openable:
        unread = Fingerprint(sha256="", encoding=None, line_count=0)
        return reject(con, landing_file, unread, run_id, landing_file.problem or "not read")
    # Size and time before reading: a file changed while it is read gets a new time.
    stat = file_stat(landing_file.path)
    if not landing_file.problem:
        entity = ENTITIES[landing_file.entity]
        if is_unchanged_since_loaded(context.loaded, entity.name, landing_file.relative, stat):
            return FileResult(landing_file.relative, entity.name, Outcome.SKIPPED)
    try:
        fp = fingerprint(landing_file)
    except OSError as exc:
        unread = Fingerprint(sha256="", encoding=None, line_count=0)
        return reject(con, landing_file, unread, run_id, f"cannot be read: {exc}")
    if landing_file.problem:
        return reject(con, landing_file, fp, run_id, landing_file.problem)
    entity = ENTITIES[landing_file.entity]
    if is_already_loaded(con, entity.name, fp):
        remember_loaded(con, entity.name, landing_file.relative, stat, fp.sha256)
        return FileResult(landing_file.relative, entity.name, Outcome.SKIPPED)
    try:
        source = read_source(con, landing_file, fp, workdir)
        mapping = context.mappings.for_file(entity.name, landing_file.within_entity)
        plan = CleanPlan(
            entity=entity,
            mapping=mapping,
            columns=match_columns(entity, source.headers, mapping),
            headers=source.headers,
            line_sql=source.line_sql,
            timezones=shop_timezones(con) if entity.has_timestamps else {},
            load_day=context.load_day,
            bounds=context.bounds[DEFAULT_RULESET],
            shop_bounds=shop_bounds(con, context.bounds),
        )
        build_clean(con, plan)
        mark_encoding_errors(con, source)
        stored = store(con, landing_file, fp, source, run_id)
        remember_loaded(con, entity.name, landing_file.relative, stat, fp.sha256)
        return stored
    except FileRejected as exc:
        return reject(con, landing_file, fp, run_id, str(exc))
    finally:
        con.execute(f"drop table if exists {SRC}")
        con.execute(f"drop table if exists {CLEAN}")
        con.execute(f"drop table if exists {STORED_MATCHES}")
        con.execute("drop table if exists _line_fix")


def mark_encoding_errors(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Quarantine the rows holding a line that does not decode in the file's encoding."""
    records = record_lines(source, set(source.bad_lines))
    mark_rows(
        con,
        [
            (records[line], ROW_COLUMN, Reason.ENCODING, text)
            for line, text in sorted(source.bad_lines.items())
            if line in records
        ],
    )


def store(
    con: duckdb.DuckDBPyConnection,
    landing_file: LandingFile,
    fp: Fingerprint,
    source: Source,
    run_id: int,
) -> FileResult:
    """Rows, quarantine and registry row of one file, in one transaction."""
    entity = ENTITIES[landing_file.entity]
    prepare_line_fix(con, landing_file, source)
    con.begin()
    try:
        file_id = next_file_id(con)
        quarantine_conflicts(con, entity, landing_file)
        loaded = insert_rows(con, entity, file_id)
        record_key_ranges(con, entity, file_id)
        if os.environ.get(CRASH_ENV) == landing_file.name:
            os._exit(CRASH_EXIT_CODE)  # test hook: die with the rows inserted, uncommitted
        quarantined = insert_quarantine(con, entity, landing_file, file_id)
        good = scalar(con, f"select count(*) from {CLEAN} where not _bad")
        result = FileResult(
            landing_file.relative,
            entity.name,
            Outcome.LOADED,
            file_id=file_id,
            rows_read=source.rows,
            rows_loaded=loaded,
            rows_quarantined=quarantined,
            rows_duplicate=good - loaded,
        )
        register(
            con,
            Registration(
                file_id,
                landing_file,
                fp.sha256,
                source.encoding or fp.encoding,
                "loaded",
                run_id,
                rows_read=result.rows_read,
                rows_loaded=result.rows_loaded,
                rows_quarantined=result.rows_quarantined,
                rows_duplicate=result.rows_duplicate,
            ),
        )
        con.commit()
    except duckdb.Error as exc:
        con.rollback()
        raise FileRejected(f"could not be stored: {short_error(exc)}") from exc
    return result


# Temp table of quarantine_conflicts: the stored rows sharing a key with the file's rows.
STORED_MATCHES = "_stored_matches"


def quarantine_conflicts(
    con: duckdb.DuckDBPyConnection, entity: Entity, landing_file: LandingFile
) -> None:
    """Mark bad the good rows whose dedupe key is already taken (stored before, or by an
    earlier row of this file) by a copy with other fields: reason `conflicting duplicate of
    <file> line <n>`, naming the copy that stays; the row's own file and line are those of
    its quarantine row. Copies identical in every field stay plain duplicates."""
    if not entity.dedupe_key:
        return
    names = [column.name for column in entity.columns]
    fields = "struct_pack(" + ", ".join(f"{name} := {name}" for name in names) + ")"
    keys = ", ".join(entity.dedupe_key)
    on = " and ".join(f"reference.{name} = good.{name}" for name in entity.dedupe_key)
    stored_on = " and ".join(f"stored.{name} = good.{name}" for name in entity.dedupe_key)
    firsts_on = " and ".join(f"stored.{name} = firsts.{name}" for name in entity.dedupe_key)
    raw_json = ", ".join(f"{sql_literal(n)}, kefu_prefix(cast({n} as varchar))" for n in names)
    key_column = sql_literal(entity.dedupe_key[-1])
    # The stored rows sharing a key with this file's good rows, read once (one scan of the
    # raw table per file): the conflicts below and insert_rows use them.
    con.execute(
        f"""
        create or replace temp table {STORED_MATCHES} as
        select {", ".join(f"stored.{name}" for name in entity.dedupe_key)},
            {fields.replace(" := ", " := stored.")} as fields,
            load_files.file_path, stored._row_num as line
        from raw.{entity.name} as stored
        join raw.load_files on load_files.file_id = stored._file_id
        where {stored_files_to_match(con, entity, "stored._file_id")}
            and exists (select 1 from {CLEAN} as good where not good._bad and {stored_on})
        """
    )
    con.execute(
        f"""
        create or replace temp table _conflicts as
        with
        good as (
            select _line, {keys}, {fields} as fields,
                min(_line) over (partition by {keys}) as first_line
            from {CLEAN} where not _bad
        ),
        stored as (
            select * from {STORED_MATCHES}
        ),
        firsts as (
            select {keys}, fields, {sql_literal(landing_file.relative)} as file_path,
                _line as line
            from good where _line = first_line
        ),
        reference as (
            select * from stored
            union all by name
            select * from firsts where not exists (select 1 from stored where {firsts_on})
        )
        select good._line, reference.file_path, reference.line
        from good join reference on {on}
        where good.fields is distinct from reference.fields
        """
    )
    con.execute(
        f"""
        update {CLEAN} set
            _bad = true,
            _errors = [{{
                'column_name': {key_column},
                'reason': {sql_literal(Reason.CONFLICT)} || ' of ' || _conflicts.file_path
                    || ' line ' || _conflicts.line
            }}],
            _raw_values = json_object({raw_json})
        from _conflicts
        where {CLEAN}._line = _conflicts._line
        """
    )
    con.execute("drop table _conflicts")


# Beyond this many runs of files to read, stored_files_to_match reads every file: a
# long list of ranges would cost more than it skips.
MAX_FILE_RUNS = 64


def stored_files_to_match(
    con: duckdb.DuckDBPyConnection, entity: Entity, file_id_column: str
) -> str:
    """SQL condition on `file_id_column`: the stored files whose rows can share a key with
    the good rows of {CLEAN}, as runs of file ids (`true`: every file). A stored row can
    only match a new one of the same shop and id, so the files to read are those whose
    recorded id range of that shop (raw.load_key_ranges) overlaps the new rows' range,
    and the files with no range recorded (no rows, or rows written by other means). DuckDB
    then skips the raw table's row groups of every other file by their file id range: a
    new file's check no longer reads all of history when its ids are new ones (issue 13).
    """
    column = KEY_RANGE_COLUMNS.get(entity.name)
    if column is None:
        return "true"
    rows = con.execute(
        f"""
        with
        incoming as (
            select shop_id, min({column}) as min_key, max({column}) as max_key
            from {CLEAN} where not _bad group by shop_id
        ),
        ranged as (select distinct file_id from raw.load_key_ranges),
        overlapping as (
            select distinct ranges.file_id
            from raw.load_key_ranges as ranges
            join incoming
                on ranges.shop_id = incoming.shop_id
                and ranges.min_key <= incoming.max_key
                and ranges.max_key >= incoming.min_key
        )
        select load_files.file_id,
            overlapping.file_id is not null or ranged.file_id is null as to_read
        from raw.load_files
        left join overlapping on overlapping.file_id = load_files.file_id
        left join ranged on ranged.file_id = load_files.file_id
        where load_files.entity = ?
        order by load_files.file_id
        """,
        [entity.name],
    ).fetchall()
    runs: list[list[int]] = []
    previous_read = False
    for file_id, to_read in rows:
        if to_read:
            if previous_read:
                runs[-1][1] = file_id
            else:
                runs.append([file_id, file_id])
        previous_read = to_read
    if not runs:
        return "false"
    if len(runs) > MAX_FILE_RUNS:
        return "true"
    return (
        "("
        + " or ".join(f"{file_id_column} between {first} and {last}" for first, last in runs)
        + ")"
    )


def record_key_ranges(con: duckdb.DuckDBPyConnection, entity: Entity, file_id: int) -> None:
    """The id range of each shop's rows this file stored (raw.load_key_ranges)."""
    if entity.name in KEY_RANGE_COLUMNS:
        insert_key_ranges(con, entity.name, file_id)


def insert_rows(con: duckdb.DuckDBPyConnection, entity: Entity, file_id: int) -> int:
    """Insert the good rows (the first copy of a dedupe key only, or of an identical row);
    return how many."""
    names = [column.name for column in entity.columns]
    columns = ", ".join(names)
    where = "not _bad"
    if entity.dedupe_identical:
        matches = " and ".join(
            f"stored.{name} is not distinct from {CLEAN}.{name}" for name in names
        )
        stored_files = stored_files_to_match(con, entity, "stored._file_id")
        where += (
            f" and _line in (select min(_line) from {CLEAN} where not _bad group by {columns})"
            f" and not exists (select 1 from raw.{entity.name} as stored"
            f" where {stored_files} and {matches})"
        )
    if entity.dedupe_key:
        key = ", ".join(entity.dedupe_key)
        matches = " and ".join(f"stored.{name} = {CLEAN}.{name}" for name in entity.dedupe_key)
        where += (
            f" and _line in (select min(_line) from {CLEAN} where not _bad group by {key})"
            f" and not exists (select 1 from {STORED_MATCHES} as stored where {matches})"
        )
    return scalar(
        con,
        f"insert into raw.{entity.name} ({columns}, _file_id, _row_num) "
        f"select {columns}, {file_id}, _line from {CLEAN} where {where}",
    )


def prepare_line_fix(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, source: Source
) -> None:
    """`_line_fix` (record line -> physical line) for the quarantined rows of a file whose
    records and lines differ (blank lines, line breaks inside quoted values)."""
    con.execute("create or replace temp table _line_fix (record_line bigint, line bigint)")
    if source.lines_are_records or landing_file.file_format not in ("csv", "jsonl"):
        return
    header_lines = 1 if landing_file.file_format == "csv" else 0
    bad = [row[0] for row in con.execute(f"select _line from {CLEAN} where _bad").fetchall()]
    records = {line - header_lines for line in bad}
    fixes = physical_lines(source, landing_file.file_format or "", records)
    if fixes:
        con.executemany(
            "insert into _line_fix values (?, ?)",
            [[record + header_lines, line] for record, line in fixes.items()],
        )


def insert_quarantine(
    con: duckdb.DuckDBPyConnection, entity: Entity, landing_file: LandingFile, file_id: int
) -> int:
    """One quarantine row per failing column of each bad row; return how many rows were bad."""
    con.execute(
        f"""
        insert into raw.quarantine (
            file_id, entity, file_path, line, column_name, reason, raw_values
        )
        select
            {file_id},
            {sql_literal(entity.name)},
            {sql_literal(landing_file.relative)},
            coalesce(_line_fix.line, bad._line),
            bad.error.column_name,
            bad.error.reason,
            bad._raw_values
        from (
            select _line, _raw_values, unnest(_errors) as error from {CLEAN} where _bad
        ) as bad
        left join _line_fix on _line_fix.record_line = bad._line
        order by bad._line
        """
    )
    return scalar(con, f"select count(*) from {CLEAN} where _bad")


def reject(
    con: duckdb.DuckDBPyConnection,
    landing_file: LandingFile,
    fp: Fingerprint,
    run_id: int,
    message: str,
) -> FileResult:
    """Record a rejected file (its own transaction) and report it."""
    con.begin()
    file_id = next_file_id(con)
    register(
        con,
        Registration(
            file_id, landing_file, fp.sha256, fp.encoding, "rejected", run_id, message=message
        ),
    )
    con.commit()
    return FileResult(
        landing_file.relative,
        landing_file.entity,
        Outcome.REJECTED,
        file_id=file_id,
        message=message,
    )
