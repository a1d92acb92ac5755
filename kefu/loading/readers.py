"""Read one landing file into the DuckDB temp table `_src`: one VARCHAR column per header.

Every format ends the same way: `_src` has columns c0..cN (all VARCHAR, text as read) in
file order, its rows in file order (DuckDB keeps insertion order, so `rowid` is the record
index), and `Source.line_sql` gives each row's line: CSV and xlsx count the header as
line 1, jsonl and parquet count records from 1. Parsing and checking the values happens
later, in SQL (kefu.loading.transform); nothing here loops over rows in Python except the
xlsx reader (xlsx exports are small) and the exact-line lookup for quarantined rows.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import itertools
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import ParseError

import duckdb
import pyarrow as pa

from kefu.loading.landing import LandingFile
from kefu.loading.sql import quote_identifier, scalar, short_error, sql_literal

SRC = "_src"
_LINK_NUMBERS = itertools.count(1)
CHUNK = 1 << 20
UTF8_BOM = codecs.BOM_UTF8


class FileRejected(Exception):
    """A file-level problem: the whole file is rejected with this message."""


@dataclass(frozen=True)
class Fingerprint:
    """What one pass over the bytes tells: content hash, text encoding, physical lines."""

    sha256: str
    encoding: str | None  # csv: utf-8 | utf-8-sig | gb18030; jsonl: utf-8; else None
    line_count: int


@dataclass(frozen=True)
class Source:
    """A file read into `_src`."""

    headers: list[str]  # original header of column c{i}, as read
    line_sql: str  # SQL over `_src` giving the row's line (see module doc)
    rows: int
    text_path: Path | None  # UTF-8 text of a csv/jsonl file, for exact line numbers
    lines_are_records: bool  # csv/jsonl: no blank lines or line breaks inside values
    encoding: str | None = None  # csv: the encoding decided for the file
    bad_lines: dict[int, str] = field(default_factory=dict)  # physical line -> text prefix


# Fingerprint -----------------------------------------------------------------------------


def fingerprint(landing_file: LandingFile) -> Fingerprint:
    """sha256 of the content, the text encoding (csv, jsonl) and the number of lines."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    is_utf8 = landing_file.file_format in ("csv", "jsonl")
    newlines = 0
    size = 0
    last = b""
    first = b""
    with landing_file.path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if not first:
                first = chunk[:3]
            size += len(chunk)
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
            if is_utf8:
                is_utf8 = _still_utf8(decoder, chunk)
    if is_utf8:
        is_utf8 = _still_utf8(decoder, b"", final=True)
    line_count = newlines + (1 if size and last != b"\n" else 0)
    return Fingerprint(digest.hexdigest(), _encoding(landing_file, is_utf8, first), line_count)


def _still_utf8(decoder: codecs.IncrementalDecoder, chunk: bytes, final: bool = False) -> bool:
    try:
        decoder.decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


def _encoding(landing_file: LandingFile, is_utf8: bool, first: bytes) -> str | None:
    if landing_file.file_format == "csv":
        if not is_utf8:
            return "gb18030"
        return "utf-8-sig" if first.startswith(UTF8_BOM) else "utf-8"
    if landing_file.file_format == "jsonl":
        return "utf-8" if is_utf8 else None
    return None


# Reading ---------------------------------------------------------------------------------


def read_source(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, fp: Fingerprint, workdir: Path
) -> Source:
    """Read the file into `_src`; raise FileRejected when it cannot be read."""
    readers = {"csv": read_csv, "xlsx": read_xlsx, "parquet": read_parquet, "jsonl": read_jsonl}
    reader = readers[landing_file.file_format or ""]
    return reader(con, landing_file, fp, workdir)


def exact_path(path: Path, workdir: Path, suffix: str) -> Path:
    """A path DuckDB reads as exactly this file: a link with a plain name in `workdir`.

    DuckDB's readers expand `[ ] * ? { }` in a path as glob patterns, so a file named
    `export[1].csv` or `export*.csv` would read other files (or none); the link's name has
    none of those characters, and the link points at the file by its absolute path."""
    link = workdir / f"exact-{next(_LINK_NUMBERS)}{suffix}"
    link.symlink_to(path.resolve())
    return link


def read_csv(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, fp: Fingerprint, workdir: Path
) -> Source:
    """CSV in UTF-8 (with or without BOM) or GB18030: header parsed here, rows by DuckDB.

    A file that is all UTF-8 is read in place; any other is decided line by line (see
    `decide_encoding`) and transcoded, its lines that do not decode in the file's encoding
    kept aside in `Source.bad_lines` (their rows are quarantined with reason `encoding`)."""
    bad_lines: dict[int, str] = {}
    encoding = fp.encoding
    if fp.encoding in ("utf-8", "utf-8-sig"):
        text_path = exact_path(landing_file.path, workdir, ".csv")
    else:
        encoding = decide_encoding(landing_file.path)
        text_path, bad_lines = transcode_lines(
            landing_file.path, workdir / "transcoded.csv", encoding
        )
    headers = csv_header(text_path)
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(headers)))
    try:
        con.execute(
            f"create or replace temp table {SRC} as select * from read_csv(?, header = true, "
            f"auto_detect = false, columns = {{{columns}}}, delim = ',', quote = '\"', "
            "escape = '\"', max_line_size = 16777216)",
            [str(text_path)],
        )
    except duckdb.Error as exc:
        raise FileRejected(f"cannot be read as CSV: {short_error(exc)}") from exc
    rows = row_count(con)
    lines_are_records = fp.line_count == rows + 1
    return Source(headers, "rowid + 2", rows, text_path, lines_are_records, encoding, bad_lines)


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def decide_encoding(path: Path) -> str:
    """The encoding of a CSV file that is not all UTF-8: `utf-8-sig`, `utf-8` or `gb18030`,
    by majority of its lines with non-ASCII bytes. FileRejected when a UTF-8 byte-order
    mark contradicts the bytes (most lines decode only as GB18030)."""
    utf8_lines = gb_lines = 0
    with path.open("rb") as handle:
        has_bom = handle.read(3) == UTF8_BOM
        handle.seek(0)
        for raw in handle:
            if raw.isascii():
                continue
            if _decodes(raw, "utf-8"):
                utf8_lines += 1
            elif _decodes(raw, "gb18030"):
                gb_lines += 1
    if has_bom:
        if gb_lines > utf8_lines:
            raise FileRejected(
                "encoding: the file starts with a UTF-8 byte-order mark (BOM) but its bytes are "
                f"GB18030, not UTF-8 ({gb_lines} of {gb_lines + utf8_lines} lines with Chinese "
                "text decode only as GB18030): save it again as UTF-8, or as GB18030 without "
                "the mark"
            )
        return "utf-8-sig"
    return "utf-8" if utf8_lines > gb_lines else "gb18030"


def _line_is_bad(raw: bytes, encoding: str) -> bool:
    """A line that does not decode in the file's encoding (in a GB18030 file: also a line
    of UTF-8 text, which GB18030 would read as mojibake)."""
    if raw.isascii():
        return False
    if encoding == "gb18030":
        return _decodes(raw, "utf-8") or not _decodes(raw, "gb18030")
    return not _decodes(raw, "utf-8")


def transcode_lines(path: Path, target: Path, encoding: str) -> tuple[Path, dict[int, str]]:
    """Write `path` as UTF-8 into `target`, line by line; return the lines that do not
    decode in `encoding` (physical line -> a short prefix of the line, shown as the bytes
    decode best). Those lines are written decoded with replacement characters, so that the
    CSV records keep their place; their rows are quarantined by the caller."""
    bad: dict[int, str] = {}
    with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as out:
        for line_number, raw in enumerate(source, start=1):
            if line_number == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM) :]
            if _line_is_bad(raw, encoding):
                if line_number == 1:
                    raise FileRejected(
                        f"encoding: the header line is not {encoding.upper()} like the rest "
                        "of the file"
                    )
                shown = "utf-8" if _decodes(raw, "utf-8") else "gb18030"
                bad[line_number] = raw.decode(shown, "replace").rstrip("\r\n")
            out.write(raw.decode(encoding.replace("-sig", ""), "replace"))
    return target, bad


def csv_header(text_path: Path) -> list[str]:
    """The first record of a UTF-8 CSV (BOM stripped); FileRejected when there is none."""
    with text_path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            header = next(csv.reader(handle), None)
        except csv.Error as exc:
            raise FileRejected(f"cannot read the CSV header: {exc}") from exc
    if header is None:
        raise FileRejected("empty file: no header line")
    if not any(name.strip() for name in header):
        raise FileRejected("empty header: the first line names no columns")
    return header


def read_parquet(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, fp: Fingerprint, workdir: Path
) -> Source:
    """Parquet: every column cast to VARCHAR (timestamptz keeps its offset in the text)."""
    path = str(exact_path(landing_file.path, workdir, ".parquet"))
    try:
        described = con.execute("describe select * from read_parquet(?)", [path]).fetchall()
        headers = [str(row[0]) for row in described]
        casts = ", ".join(
            f"cast({quote_identifier(name)} as varchar) as c{i}" for i, name in enumerate(headers)
        )
        con.execute(
            f"create or replace temp table {SRC} as select {casts} from read_parquet(?)", [path]
        )
    except duckdb.Error as exc:
        raise FileRejected(f"cannot be read as Parquet: {short_error(exc)}") from exc
    if not headers:
        raise FileRejected("empty header: the file has no columns")
    return Source(headers, "rowid + 1", row_count(con), None, True)


def read_jsonl(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, fp: Fingerprint, workdir: Path
) -> Source:
    """Newline-delimited JSON objects: keys in order of first appearance become the header."""
    if fp.encoding is None:
        raise FileRejected("not UTF-8 text (jsonl must be UTF-8)")
    try:
        con.execute(
            "create or replace temp table _jsonl as select json "
            "from read_json_objects(?, format = 'newline_delimited')",
            [str(exact_path(landing_file.path, workdir, ".jsonl"))],
        )
        keys = [
            row[0]
            for row in con.execute(
                "select key from (select rowid as record, unnest(json_keys(json)) as key, "
                "generate_subscripts(json_keys(json), 1) as position from _jsonl "
                "where json_type(json) = 'OBJECT') group by key "
                "order by min(record), arg_min(position, record)"
            ).fetchall()
        ]
        values = ", ".join(f"json ->> {sql_literal(key)} as c{i}" for i, key in enumerate(keys))
        con.execute(
            f"create or replace temp table {SRC} as select {values or 'null as c0'} from _jsonl"
        )
    except duckdb.Error as exc:
        raise FileRejected(f"cannot be read as JSON lines: {short_error(exc)}") from exc
    finally:
        con.execute("drop table if exists _jsonl")
    rows = row_count(con)
    if rows == 0:
        raise FileRejected("empty file: no JSON records")
    return Source(keys, "rowid + 1", rows, landing_file.path, fp.line_count == rows)


# xlsx ------------------------------------------------------------------------------------


def read_xlsx(
    con: duckdb.DuckDBPyConnection, landing_file: LandingFile, fp: Fingerprint, workdir: Path
) -> Source:
    """First sheet; row 1 is the header; fully empty rows are skipped (their lines kept)."""
    # Imported here: a night without a workbook to read does not pay for openpyxl (0.17 s).
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    unreadable = (
        zipfile.BadZipFile,
        InvalidFileException,
        ParseError,
        KeyError,
        ValueError,
        OSError,
    )
    try:
        workbook = openpyxl.load_workbook(landing_file.path, read_only=True, data_only=True)
    except unreadable as exc:
        raise FileRejected(f"cannot be read as xlsx: {type(exc).__name__}: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # the stored size may be wrong: read every row there is
        rows = sheet.iter_rows(values_only=True)
        headers, lines, records = xlsx_records(rows)
    except unreadable as exc:
        raise FileRejected(f"cannot be read as xlsx: {type(exc).__name__}: {exc}") from exc
    finally:
        workbook.close()
    arrays = [pa.array(lines, type=pa.int64())]
    arrays += [pa.array(column, type=pa.string()) for column in records]
    names = ["_sheet_line", *(f"c{i}" for i in range(len(headers)))]
    con.register("_xlsx_rows", pa.Table.from_arrays(arrays, names=names))
    try:
        con.execute(f"create or replace temp table {SRC} as select * from _xlsx_rows")
    finally:
        con.unregister("_xlsx_rows")
    return Source(headers, "_sheet_line", len(lines), None, True)


def xlsx_records(
    rows: Iterable[tuple[object, ...]],
) -> tuple[list[str], list[int], list[list[str | None]]]:
    """Header, sheet line of each non-empty row, and the cell texts column by column."""
    iterator: Iterator[tuple[object, ...]] = iter(rows)
    first = next(iterator, None)
    header = [cell_text(value) or "" for value in first or ()]
    while header and not header[-1].strip():
        header.pop()
    if not header:
        raise FileRejected("empty header: row 1 of the first sheet names no columns")
    lines: list[int] = []
    columns: list[list[str | None]] = [[] for _ in header]
    for line, row in enumerate(iterator, start=2):
        texts = [cell_text(value) for value in row[: len(header)]]
        if all(text is None or not text.strip() for text in texts):
            continue
        texts += [None] * (len(header) - len(texts))
        lines.append(line)
        for column, text in zip(columns, texts, strict=True):
            column.append(text)
    return header, lines, columns


def cell_text(value: object) -> str | None:
    """An xlsx cell as the text a CSV export would hold.

    Datetimes become local `YYYY-MM-DD HH:MM:SS[.fff]` (Excel stores days as a float, so they
    are rounded to the millisecond); whole floats lose their `.0` (ids and counts typed as
    numbers); booleans become true/false.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return excel_datetime_text(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def excel_datetime_text(value: dt.datetime) -> str:
    rounded = value + dt.timedelta(microseconds=500)
    rounded = rounded.replace(microsecond=rounded.microsecond // 1000 * 1000)
    text = rounded.strftime("%Y-%m-%d %H:%M:%S")
    if rounded.microsecond:
        text += f".{rounded.microsecond // 1000:03d}"
    if rounded.tzinfo is not None:
        text = rounded.isoformat(sep=" ", timespec="milliseconds")
    return text


# Exact lines -----------------------------------------------------------------------------


def physical_lines(source: Source, file_format: str, records: set[int]) -> dict[int, int]:
    """Line where each given record (1-based, header not counted) starts in the file.

    Only needed when the file has blank lines or line breaks inside quoted values, so that
    the record index and the line differ; the caller asks for the quarantined records only.
    """
    if not records or source.text_path is None:
        return {}
    if file_format == "csv":
        return _csv_record_lines(source.text_path, records)
    return _jsonl_record_lines(source.text_path, records)


def record_lines(source: Source, lines: set[int]) -> dict[int, int]:
    """Physical line of a CSV file -> the record line (`_line` of `_clean`: record index
    + 1, the header being record 0) of the record the physical line belongs to."""
    if not lines or source.text_path is None:
        return {}
    if source.lines_are_records:
        return {line: line for line in lines}
    found: dict[int, int] = {}
    with source.text_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        previous_end = 0
        record = -1
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not row:
                continue
            record += 1
            for line in range(start, previous_end + 1):
                if line in lines:
                    found[line] = record + 1
            if len(found) == len(lines):
                break
    return found


def _csv_record_lines(text_path: Path, records: set[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    with text_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        previous_end = 0
        record = -1  # the header is record 0
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if not row:
                continue  # a blank line: DuckDB skips it too
            record += 1
            if record in records:
                found[record] = start
                if len(found) == len(records):
                    break
    return found


def _jsonl_record_lines(text_path: Path, records: set[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    record = 0
    with text_path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record += 1
            if record in records:
                found[record] = line_number
                if len(found) == len(records):
                    break
    return found


# Helpers ---------------------------------------------------------------------------------


def row_count(con: duckdb.DuckDBPyConnection) -> int:
    return scalar(con, f"select count(*) from {SRC}")
