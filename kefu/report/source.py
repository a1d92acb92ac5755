"""Where a report reads its marts: the published file (docs/metrics.md §14) when it exists,
else the warehouse itself, always opened read-only."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from kefu.publish import resolve_publish_path


class ReportError(Exception):
    """A report cannot be written; the message says why (one line)."""


def report_source(db_path: Path, publish_path: Path | None = None) -> Path:
    """The file a report reads: the published marts when that file exists, otherwise the
    warehouse (before the first publication). Raises ReportError when neither exists."""
    publish_path = publish_path or resolve_publish_path(db_path)
    if Path(publish_path).exists():
        return Path(publish_path)
    if Path(db_path).exists():
        return Path(db_path)
    raise ReportError(
        f"no marts to report on: neither the publication {publish_path} nor the warehouse "
        f"{db_path} exists (run `kefu run-nightly` first)"
    )


@contextlib.contextmanager
def open_marts(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to a marts file. Inside the process that just ran dbt (which
    keeps its read-write connection to the warehouse open), DuckDB refuses a second
    connection with another configuration; then the report reuses the same
    configuration but only ever runs SELECTs."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise ReportError(f"cannot open {path} read-only: {exc}") from exc
        con = duckdb.connect(str(path))
    try:
        yield con
    finally:
        con.close()
