"""`kefu build --engine spark`: export the raw layer, run the dbt project on Spark."""

from __future__ import annotations

from pathlib import Path

from kefu import progress
from kefu.build import BuildWindow, dbt_env, raise_if_failed, temporary_environment
from kefu.paths import PROJECT_DIR
from kefu.schema import ensure_raw_schema
from kefu.spark.export import export_raw, register_raw
from kefu.spark.session import spark_session

SPARK_TARGET = "spark"


def spark_dbt_env(
    db_path: Path, warehouse_dir: Path, window: BuildWindow | None = None
) -> dict[str, str]:
    """dbt's environment for a Spark build (the window's days): dbt's working files kept
    per Spark folder."""
    work = warehouse_dir / ".dbt"
    return {
        **dbt_env(db_path, window),
        "KEFU_SPARK_WAREHOUSE": str(warehouse_dir),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }


def dbt_args(window: BuildWindow, full_refresh: bool, data_tests: bool = True) -> list[str]:
    """dbt build on the Spark target. Without a window every table is made anew
    (--full-refresh), as a first build makes it: every day is written again anyway, and a
    table whose columns changed gets its new columns. (A window build drops the
    partitions it rewrites first: kefu_clear_rows.) Without data_tests, the models, seeds
    and unit tests only (the engine comparison checks the marts itself)."""
    args = ["build", "--target", SPARK_TARGET]
    if full_refresh or window.every_day:
        args.append("--full-refresh")
    if not data_tests:
        args += ["--exclude-resource-type", "test"]
    return args


def build_spark(
    db_path: Path,
    warehouse_dir: Path,
    window: BuildWindow | None = None,
    full_refresh: bool = False,
    data_tests: bool = True,
) -> None:
    """Export the raw layer of `db_path` to Parquet under `warehouse_dir`, then seed, run
    and test the dbt project on a local Spark session; marts land in
    `warehouse_dir`/marts.db/<mart>/ as Parquet."""
    from dbt.cli.main import dbtRunner

    ensure_raw_schema(db_path, every_day=window is None or window.every_day)
    session = spark_session(warehouse_dir)
    register_raw(session, export_raw(db_path, warehouse_dir))
    args = dbt_args(window or BuildWindow(), full_refresh, data_tests)
    with temporary_environment(spark_dbt_env(db_path, warehouse_dir, window or BuildWindow())):
        result = dbtRunner(callbacks=progress.dbt_callbacks()).invoke(
            [*args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
        )
    raise_if_failed(result, "dbt build on Spark")
