"""The Spark engine of `kefu build --engine spark`: the raw layer of the
DuckDB warehouse exported to Parquet, the same dbt project run by dbt-spark on a Spark
session, the marts left as Parquet tables of database `marts` under DIR/marts.db/<mart>/.

pyspark and dbt-spark are the optional extra `.[spark]`: nothing here imports them at
module level, so the default install never needs them."""

from __future__ import annotations

from pathlib import Path

DEFAULT_SPARK_WAREHOUSE = "data/spark-warehouse"


class SparkEngineError(RuntimeError):
    """The Spark engine cannot run (extra not installed, no Java) or a Spark build failed."""


def resolve_spark_warehouse(directory: str | None = None) -> Path:
    """Absolute Spark warehouse folder: --spark-warehouse, else data/spark-warehouse."""
    return Path(directory or DEFAULT_SPARK_WAREHOUSE).expanduser().resolve()
