"""One local SparkSession per process, configured for the kefu warehouse folder.

Static settings (the warehouse folder, the Hive metastore) are fixed when the JVM
starts, so a process serves one Spark warehouse folder; dbt-spark's `method: session`
picks up the session made here (SparkSession.builder.getOrCreate)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kefu.spark import SparkEngineError

_session_dir: Path | None = None


def spark_settings(warehouse_dir: Path) -> dict[str, str]:
    """Spark configuration of a kefu build: managed tables (database `marts` and the
    others) under `warehouse_dir`, a Derby metastore beside them, UTC session time so
    that the local wall times of the raw layer stay as they are, Parquet timestamps
    written as microseconds, and dynamic partition overwrite for window builds."""
    metastore = warehouse_dir / "metastore_db"
    return {
        "spark.master": os.environ.get("KEFU_SPARK_MASTER", "local[*]"),
        "spark.app.name": "kefu",
        "spark.driver.memory": os.environ.get("KEFU_SPARK_DRIVER_MEMORY", "2g"),
        "spark.driver.extraJavaOptions": (
            f"-Dderby.system.home={warehouse_dir} -Duser.timezone=UTC"
        ),
        "spark.sql.warehouse.dir": str(warehouse_dir),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore};create=true"
        ),
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "false",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
        "spark.sql.legacy.createHiveTableByDefault": "false",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.shuffle.partitions": os.environ.get("KEFU_SPARK_SHUFFLE_PARTITIONS", "8"),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }


def spark_session(warehouse_dir: Path) -> Any:
    """The process's SparkSession for `warehouse_dir`, started on first use."""
    global _session_dir
    if _session_dir is not None and _session_dir != warehouse_dir:
        raise SparkEngineError(
            f"this process already runs Spark on {_session_dir}; "
            f"a build on {warehouse_dir} needs a new process"
        )
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkEngineError(
            "the Spark engine needs the optional extra: pip install -e '.[spark]'"
        ) from exc
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in spark_settings(warehouse_dir).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: no Java, no memory
        raise SparkEngineError(f"Spark did not start: {exc}") from exc
    session.sparkContext.setLogLevel("ERROR")
    _session_dir = warehouse_dir
    return session


def stop_spark_session() -> None:
    """Stop the process's SparkSession (frees the JVM's memory); a later build starts
    a new one."""
    global _session_dir
    if _session_dir is None:
        return
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()
    _session_dir = None
