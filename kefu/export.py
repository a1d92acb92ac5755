"""`kefu export MART --out FILE.csv|FILE.xlsx`: a mart as a file a spreadsheet can open.

Every text cell passes through `kefu.safe_text.spreadsheet_safe`, so that an agent name or
buyer id such as `=HYPERLINK(...)`, `=cmd|...`, `@SUM(...)` or `+1+1` shows as text and is
never run; the marts themselves keep the true values. CSV is written as UTF-8 with a BOM
(Excel then reads Chinese text right); xlsx cells holding text are typed as strings.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb
import openpyxl

from kefu.safe_text import spreadsheet_safe

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ExportError(ValueError):
    """The mart or the output file cannot be used."""


def export_mart(db_path: Path, mart: str, out: Path) -> int:
    """Write the mart (a table or view of schema `marts`) to `out`; return the row count."""
    if not _NAME.fullmatch(mart):
        raise ExportError(f"not a mart name: {mart!r}")
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ExportError(f"{out}: the output must end in .csv or .xlsx")
    if not db_path.exists():
        raise ExportError(f"{db_path}: no warehouse file")
    with duckdb.connect(str(db_path), read_only=True) as con:
        found = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = ?",
            [mart],
        ).fetchall()[0][0]
        if not found:
            raise ExportError(f"no mart named {mart!r} in {db_path} (build it first)")
        result = con.execute(f'select * from marts."{mart}"')
        header = [column[0] for column in result.description]
        rows = result.fetchall()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        _write_csv(out, header, rows)
    else:
        _write_xlsx(out, header, rows)
    return len(rows)


def _write_csv(out: Path, header: list[str], rows: list[tuple[object, ...]]) -> None:
    with out.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([spreadsheet_safe(name) for name in header])
        for row in rows:
            writer.writerow(["" if value is None else spreadsheet_safe(value) for value in row])


def _write_xlsx(out: Path, header: list[str], rows: list[tuple[object, ...]]) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("export")
    sheet.append([spreadsheet_safe(name) for name in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.save(out)


def _xlsx_cell(sheet: object, value: object) -> object:
    """A text cell typed as a string (openpyxl would read a leading '=' as a formula)."""
    if not isinstance(value, str):
        return value
    cell = openpyxl.cell.WriteOnlyCell(sheet, value=None)
    cell.value = spreadsheet_safe(value)
    cell.data_type = "s"
    return cell
