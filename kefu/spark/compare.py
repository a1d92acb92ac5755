"""Same numbers on both engines: every mart of a DuckDB build against the Parquet
tables of a Spark build of the same warehouse, cell by cell.

Rows are matched on the mart's key (its kefu_unique_combination, as a test or as a
rule of its kefu_rules test, or its unique test in the models' yml), in both
directions; then every column is compared: money (DECIMAL), counts, text, dates, flags
and times exactly, DOUBLE values (rates, ratios, seconds) to 1e-9 (relative above 1).
The Spark side is read from DIR/marts.db/<mart>/ with DuckDB, as a BI tool reading the
Parquet files would."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from kefu.paths import PROJECT_DIR

DOUBLE_TOLERANCE = 1e-9
# Spark's helper column of kefu_first_row never reaches a mart; listed to be safe.
ENGINE_ONLY_COLUMNS = frozenset({"kefu_row_num"})


@dataclass(frozen=True)
class Difference:
    """One way a mart differs: a missing mart or column, keys on one side only, or a
    column whose values differ on `count` matched rows (`example` shows one)."""

    mart: str
    column: str
    count: int
    example: str

    def describe(self) -> str:
        return f"{self.mart}.{self.column}: {self.count} differ, e.g. {self.example}"


def mart_keys(models_dir: Path = PROJECT_DIR / "models" / "marts") -> dict[str, list[str]]:
    """Key columns of every mart, from its yml: the first kefu_unique_combination (a test,
    or a rule of kefu_rules), else the column tested `unique`."""
    keys: dict[str, list[str]] = {}
    for path in sorted(models_dir.rglob("_*models.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            keys[model["name"]] = _model_key(model)
    return keys


def _model_key(model: dict) -> list[str]:
    for test in model.get("data_tests") or []:
        if isinstance(test, dict) and "kefu_unique_combination" in test:
            spec = test["kefu_unique_combination"]
            return list((spec.get("arguments") or spec)["columns"])
        if isinstance(test, dict) and "kefu_rules" in test:
            arguments = test["kefu_rules"].get("arguments") or {}
            if arguments.get("kefu_unique_combination"):
                return list(arguments["kefu_unique_combination"])
    for column in model.get("columns") or []:
        for test in column.get("data_tests") or []:
            if test == "unique":
                return [column["name"]]
    return []


def spark_mart_folder(warehouse_dir: Path, mart: str) -> Path:
    return warehouse_dir / "marts.db" / mart


def compare_marts(
    db_path: Path, warehouse_dir: Path, marts: list[str] | None = None
) -> list[Difference]:
    """Every difference between the DuckDB marts of `db_path` and the Spark marts under
    `warehouse_dir` (an empty list when they agree)."""
    keys = mart_keys()
    differences: list[Difference] = []
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{_quoted(str(db_path))}' as duck (read_only)")
        # The dbt marts (models/marts), not the tables checks and publication add there.
        names = marts or [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables"
                " where table_catalog = 'duck' and table_schema = 'marts' order by table_name"
            ).fetchall()
            if row[0] in keys
        ]
        for mart in names:
            differences += _compare_mart(con, mart, keys.get(mart, []), warehouse_dir)
    return differences


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _compare_mart(
    con: duckdb.DuckDBPyConnection, mart: str, key: list[str], warehouse_dir: Path
) -> list[Difference]:
    folder = spark_mart_folder(warehouse_dir, mart)
    if not any(folder.rglob("*.parquet")):
        return [Difference(mart, "*", 1, f"no Parquet files under {folder}")]
    pattern = _quoted(str(folder / "**" / "*.parquet"))
    con.execute(
        f"create or replace temp view spark_mart as select * from read_parquet('{pattern}',"
        " hive_partitioning = true)"
    )
    con.execute(f'create or replace temp view duck_mart as select * from duck.marts."{mart}"')
    duck_types = dict(
        con.execute("select column_name, column_type from (describe duck_mart)").fetchall()
    )
    spark_columns = {
        row[0] for row in con.execute("select column_name from (describe spark_mart)").fetchall()
    } - ENGINE_ONLY_COLUMNS
    differences = [
        Difference(mart, column, 1, f"column only on {side}")
        for side, columns in (
            ("DuckDB", set(duck_types) - spark_columns),
            ("Spark", spark_columns - set(duck_types)),
        )
        for column in sorted(columns)
    ]
    shared = [column for column in duck_types if column in spark_columns]
    # Spark's side in DuckDB's types (hive partition folders come back as text).
    casts = ", ".join(f'cast("{c}" as {duck_types[c]}) as "{c}"' for c in shared)
    con.execute(f"create or replace temp view spark_typed as select {casts} from spark_mart")
    key = [column for column in key if column in shared] or shared
    differences += _compare_keys(con, mart, key)
    differences += _compare_values(con, mart, key, shared, duck_types)
    return differences


def _compare_keys(con: duckdb.DuckDBPyConnection, mart: str, key: list[str]) -> list[Difference]:
    columns = ", ".join(f'"{c}"' for c in key)
    differences = []
    for name, left, right in (
        ("DuckDB", "duck_mart", "spark_typed"),
        ("Spark", "spark_typed", "duck_mart"),
    ):
        rows = con.execute(
            f"select {columns} from {left} except all select {columns} from {right}"
        ).fetchall()
        if rows:
            differences.append(
                Difference(mart, f"key ({', '.join(key)})", len(rows), f"only on {name}: {rows[0]}")
            )
    return differences


def _compare_values(
    con: duckdb.DuckDBPyConnection,
    mart: str,
    key: list[str],
    shared: list[str],
    duck_types: dict[str, str],
) -> list[Difference]:
    join = " and ".join(f'duck_mart."{c}" is not distinct from spark_typed."{c}"' for c in key)
    differences = []
    for column in shared:
        if column in key:
            continue
        left, right = f'duck_mart."{column}"', f'spark_typed."{column}"'
        if duck_types[column] in ("DOUBLE", "FLOAT", "REAL"):
            differs = (
                f"({left} is null) <> ({right} is null) or abs({left} - {right})"
                f" > {DOUBLE_TOLERANCE} * greatest(1, abs({left}))"
            )
        else:
            differs = f"{left} is distinct from {right}"
        key_text = " || ', ' || ".join(f'cast(duck_mart."{c}" as varchar)' for c in key)
        shown = (
            f"{key_text} || ': DuckDB ' || coalesce(cast({left} as varchar), 'NULL')"
            f" || ', Spark ' || coalesce(cast({right} as varchar), 'NULL')"
        )
        count, example = con.execute(
            f"select count(*), any_value({shown})"
            f" from duck_mart inner join spark_typed on {join} where {differs}"
        ).fetchone()
        if count:
            differences.append(Difference(mart, column, count, example))
    return differences
