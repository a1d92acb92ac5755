"""Where things are: the project directory, the warehouse file, the landing zone."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DB = "data/warehouse.duckdb"
DEFAULT_LANDING = "data/landing"


def resolve_db_path(db: str | None = None) -> Path:
    """Absolute warehouse path: --db, else KEFU_DB, else data/warehouse.duckdb (cwd-relative)."""
    raw = db or os.environ.get("KEFU_DB") or DEFAULT_DB
    return Path(raw).expanduser().resolve()


def resolve_landing_dir(landing: str | None = None) -> Path:
    """Absolute landing-zone path: --landing, else data/landing (cwd-relative)."""
    return Path(landing or DEFAULT_LANDING).expanduser().resolve()
