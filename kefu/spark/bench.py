"""Build times of one loaded warehouse on DuckDB and on Spark, for docs/scale.md.

    python -m kefu.spark.bench --db W.duckdb --spark-warehouse DIR [--data-tests]

Runs a full DuckDB build of `--db`, then a full Spark build of the same raw layer
(export to Parquet included), each in a child process of its own so that each pays
its own start (for Spark: the JVM and the session), and prints one line per engine
with the message count. Nothing asserts a time: the figures are printed."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import duckdb

_DUCKDB = (
    "import sys; from pathlib import Path; from kefu.build import build; build(Path(sys.argv[1]))"
)
_DUCKDB_MODELS = (
    "import sys; from pathlib import Path; from kefu.build import run_dbt;"
    " run_dbt(Path(sys.argv[1]), ['build', '--exclude-resource-type', 'test'])"
)
_SPARK = (
    "import sys; from pathlib import Path; from kefu.spark.build import build_spark;"
    " build_spark(Path(sys.argv[1]), Path(sys.argv[2]), data_tests=sys.argv[3] == 'tests')"
)


def _timed(code: str, *args: str) -> tuple[float, str]:
    """Seconds of one child process and its outcome: "ok", or "failed" with the last
    lines of its error output (a failed data test still gives the build's time)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode == 0:
        return seconds, "ok"
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-20:])
    return seconds, f"failed (exit {done.returncode}):\n{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kefu.spark.bench")
    parser.add_argument("--db", required=True, help="a loaded warehouse file")
    parser.add_argument("--spark-warehouse", required=True, help="Spark folder to build into")
    parser.add_argument("--data-tests", action="store_true", help="run the data tests too")
    args = parser.parse_args(argv)
    db_path = Path(args.db).resolve()
    spark_dir = Path(args.spark_warehouse).resolve()
    with duckdb.connect(str(db_path), read_only=True) as con:
        (messages,) = con.execute("select count(*) from raw.messages").fetchone()
    tests = "tests" if args.data_tests else "models"
    failed = False
    for engine, code, extra in (
        ("duckdb", _DUCKDB if args.data_tests else _DUCKDB_MODELS, ()),
        ("spark", _SPARK, (str(spark_dir), tests)),
    ):
        seconds, outcome = _timed(code, str(db_path), *extra)
        print(
            f"{engine:<7} {messages:>12,} messages  {tests:<6}  {seconds:8.1f} s  {outcome}",
            flush=True,
        )
        failed = failed or outcome != "ok"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
