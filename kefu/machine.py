"""What DuckDB may use on this machine: a memory limit and a folder to spill to.

Set from the machine's size so that a large build (100 million messages) spills to disk
instead of running out of memory; both overridable through the environment:
KEFU_DUCKDB_MEMORY_LIMIT (a DuckDB size, e.g. 12GB) and KEFU_DUCKDB_TEMP_DIR (a folder).
kefu load applies them to its connection, kefu build passes them to dbt (profiles.yml).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

# Share of the machine's memory DuckDB may take: the rest is for the Python process (dbt,
# pandas in the GX suites of a load batch) and the operating system.
MEMORY_SHARE = 0.6


def machine_memory_bytes() -> int | None:
    """Physical memory of the machine, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_limit() -> str:
    """DuckDB memory_limit: KEFU_DUCKDB_MEMORY_LIMIT, else MEMORY_SHARE of the machine."""
    configured = os.environ.get("KEFU_DUCKDB_MEMORY_LIMIT")
    if configured:
        return configured
    total = machine_memory_bytes()
    if total is None:
        return "4GB"
    return f"{max(1, int(total * MEMORY_SHARE / 2**30))}GB"


def temp_directory(db_path: Path) -> Path:
    """DuckDB temp_directory: KEFU_DUCKDB_TEMP_DIR, else a folder beside the warehouse
    (same disk, kept per warehouse like dbt's working files)."""
    configured = os.environ.get("KEFU_DUCKDB_TEMP_DIR")
    if configured:
        return Path(configured)
    return db_path.parent / ".dbt" / db_path.stem / "spill"


def apply_limits(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Set the memory limit and spill folder on a connection to the warehouse."""
    spill = temp_directory(db_path)
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"set memory_limit = '{memory_limit()}'")
    con.execute(f"set temp_directory = '{spill.as_posix()}'")
