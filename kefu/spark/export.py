"""The warehouse's raw layer as Parquet, registered in Spark under the same names.

Every table of the DuckDB schemas `raw` (the exports as loaded) and `private` (buyer
pseudonyms) is copied to DIR/raw/<schema>/<table>/data.parquet, and Spark gets a view
`<schema>.<table>` over that folder, so that the dbt sources (`raw.messages`, ...) read
the same rows on both engines. Timestamps are local wall times without zone (DuckDB
TIMESTAMP); the Spark session runs in UTC, which keeps them as they are."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

EXPORTED_SCHEMAS = ("raw", "private")


@dataclass(frozen=True)
class ExportedTable:
    schema: str
    table: str
    folder: Path
    rows: int


def export_folder(warehouse_dir: Path) -> Path:
    """Where the Parquet copy of the raw layer lives (beside the Spark databases)."""
    return warehouse_dir / "raw"


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    marks = ", ".join("?" for _ in EXPORTED_SCHEMAS)
    return con.execute(
        "select table_schema, table_name from information_schema.tables"
        f" where table_schema in ({marks}) and table_type = 'BASE TABLE'"
        " order by table_schema, table_name",
        list(EXPORTED_SCHEMAS),
    ).fetchall()


def export_raw(db_path: Path, warehouse_dir: Path) -> list[ExportedTable]:
    """Copy every raw and private table of the warehouse to Parquet (replacing an earlier
    copy); return what was written."""
    root = export_folder(warehouse_dir)
    exported = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        for schema, table in _tables(con):
            folder = root / schema / table
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir(parents=True)
            target = str(folder / "data.parquet").replace("'", "''")
            con.execute(
                f'copy (select * from "{schema}"."{table}") to \'{target}\''
                " (format parquet, compression zstd)"
            )
            (rows,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            exported.append(ExportedTable(schema, table, folder, rows))
    return exported


def register_raw(session: Any, tables: list[ExportedTable]) -> None:
    """Spark views `<schema>.<table>` over the exported Parquet folders."""
    for schema in sorted({table.schema for table in tables}):
        session.sql(f"create database if not exists `{schema}`")
    for table in tables:
        location = str(table.folder).replace("`", "``")
        session.sql(
            f"create or replace view `{table.schema}`.`{table.table}`"
            f" as select * from parquet.`{location}`"
        )
