"""`kefu export` (issue 8): formula-safe CSV and xlsx, while the marts keep true values."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import openpyxl
import pytest

from kefu.cli import main

HOSTILE = ['=HYPERLINK("http://x.example","点我")', "=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+1",
           "-2+3", "\tTAB", "\rCR", "小王"]  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.agent_daily_kpis "
            "(agent_id varchar, agent_name varchar, cs_sales_amt decimal(18, 2))"
        )
        con.executemany(
            "insert into marts.agent_daily_kpis values (?, ?, ?)",
            [[f"a{i}", name, i] for i, name in enumerate(HOSTILE)],
        )
    return path


def test_csv_export_neutralises_formulas(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "kpis.csv"
    assert main(["export", "agent_daily_kpis", "--out", str(out), "--db", str(db)]) == 0
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["agent_id", "agent_name", "cs_sales_amt"]
    names = [row[1] for row in rows[1:]]
    assert names == ["'" + name for name in HOSTILE[:-1]] + ["小王"]
    assert [row[2] for row in rows[1:3]] == ["0.00", "1.00"]
    with duckdb.connect(str(db), read_only=True) as con:
        kept = [
            r[0] for r in con.execute("select agent_name from marts.agent_daily_kpis").fetchall()
        ]
    assert kept == HOSTILE  # the mart keeps the true values


def test_xlsx_export_writes_text_cells_never_formulas(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "kpis.xlsx"
    assert main(["export", "agent_daily_kpis", "--out", str(out), "--db", str(db)]) == 0
    sheet = openpyxl.load_workbook(out).active
    cells = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    expected = ["'" + name for name in HOSTILE[:-1]] + ["小王"]
    assert [cell.value.replace("\n", "\r") for cell in cells] == expected  # xlsx stores CR as LF
    assert sheet.cell(row=3, column=3).value == 1


def test_export_of_an_unknown_mart_fails_with_a_reason(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.csv"
    assert main(["export", "nope", "--out", str(out), "--db", str(db)]) == 1
    assert "no mart named 'nope'" in capsys.readouterr().err
    assert main(["export", "x; drop table y", "--out", str(out), "--db", str(db)]) == 1
    assert not out.exists()
