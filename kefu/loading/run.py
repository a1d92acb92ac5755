"""`load_landing`: ingest every new file of the landing zone, one transaction per file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from kefu import progress
from kefu.loading.entities import ENTITIES, Entity
from kefu.loading.landing import LandingFile, scan_landing
from kefu.loading.readers import (
    SRC,
    FileRejected,
    Fingerprint,
    Source,
    fingerprint,
    physical_lines,
    read_source,
)
from kefu.loading.registry import (
    Registration,
    is_already_loaded,
    next_file_id,
    next_load_run_id,
    register,
    shop_timezones,
)
from kefu.loading.report import FileResult, LoadReport, Outcome
from kefu.loading.sql import scalar, short_error, sql_literal
from kefu.loading.transform import CLEAN, CleanPlan, build_clean, install_macros, match_columns
from kefu.schema import create_raw_schema

CRASH_ENV = "KEFU_CRASH_AFTER_ROWS_OF"
CRASH_EXIT_CODE = 17


def load_landing(db_path: Path, landing_dir: Path) -> LoadReport:
    """Load every file of `landing_dir` not loaded before into the raw schema of `db_path`."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path)) as con:
        con.execute("set enable_progress_bar = false")
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
        with tempfile.TemporaryDirectory(prefix="kefu-load-") as workdir:
            for index, landing_file in enumerate(scan.files, start=1):
                report.files.append(load_file(con, landing_file, report.load_run_id, Path(workdir)))
                rows = report.totals()["rows_loaded"]
                progress.file_loaded(index, len(scan.files), landing_file.relative, rows)
        report.files += [FileResult(path, None, Outcome.IGNORED) for path in scan.ignored]
    return report


def load_file(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, run_id: int, workdir: Path
) -> FileResult:
    """Load one file (or skip or reject it) and say what happened."""
    try:
        fp = fingerprint(landing_file)
    except OSError as exc:
        unread = Fingerprint(sha256="", encoding=None, line_count=0)
        return reject(con, landing_file, unread, run_id, f"cannot be read: {exc}")
    if landing_file.problem:
        return reject(con, landing_file, fp, run_id, landing_file.problem)
    entity = ENTITIES[landing_file.entity]
    if is_already_loaded(con, entity.name, fp):
        return FileResult(landing_file.relative, entity.name, Outcome.SKIPPED)
    try:
        source = read_source(con, landing_file, fp, workdir)
        plan = CleanPlan(
            entity=entity,
            columns=match_columns(entity, source.headers),
            headers=source.headers,
            line_sql=source.line_sql,
            timezones=shop_timezones(con) if entity.has_timestamps else {},
        )
        build_clean(con, plan)
        return store(con, landing_file, fp, source, run_id)
    except FileRejected as exc:
        return reject(con, landing_file, fp, run_id, str(exc))
    finally:
        con.execute(f"drop table if exists {SRC}")
        con.execute(f"drop table if exists {CLEAN}")
        con.execute("drop table if exists _line_fix")


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
        loaded = insert_rows(con, entity, file_id)
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
                fp.encoding,
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


def insert_rows(con: duckdb.DuckDBPyConnection, entity: Entity, file_id: int) -> int:
    """Insert the good rows (the first copy of a dedupe key only); return how many."""
    names = [column.name for column in entity.columns]
    columns = ", ".join(names)
    where = "not _bad"
    if entity.dedupe_key:
        key = ", ".join(entity.dedupe_key)
        matches = " and ".join(f"stored.{name} = {CLEAN}.{name}" for name in entity.dedupe_key)
        where += (
            f" and _line in (select min(_line) from {CLEAN} where not _bad group by {key})"
            f" and not exists (select 1 from raw.{entity.name} as stored where {matches})"
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
