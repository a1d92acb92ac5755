"""`kefu build --engine spark [--spark-warehouse DIR] [--compare]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from kefu.progress import QUIET, Progress
from kefu.spark import SparkEngineError, resolve_spark_warehouse


def build_on_spark(db_path: Path, args: argparse.Namespace, ui: Progress) -> int:
    """Build the marts of `db_path`'s raw layer on Spark; with --compare, then check them
    against the DuckDB marts of the same warehouse (exit 1 on any difference)."""
    from kefu.build import BuildError, BuildWindow
    from kefu.cli import Failure
    from kefu.spark.build import build_spark

    warehouse_dir = resolve_spark_warehouse(args.spark_warehouse)
    window = BuildWindow(start=args.start, end=args.end, as_of=args.as_of)
    try:
        build_spark(db_path, warehouse_dir, window, full_refresh=args.full_refresh)
    except (BuildError, SparkEngineError) as exc:
        raise Failure(str(exc)) from exc
    ui.say(f"built the models of {db_path} on Spark in {warehouse_dir} ({ui.elapsed()})", QUIET)
    if not args.compare:
        return 0
    from kefu.spark.compare import compare_marts

    differences = compare_marts(db_path, warehouse_dir)
    for difference in differences:
        ui.say(difference.describe(), QUIET)
    if differences:
        raise Failure(f"{len(differences)} differences between the DuckDB and the Spark marts")
    ui.say("every mart agrees on DuckDB and Spark, cell by cell", QUIET)
    return 0
