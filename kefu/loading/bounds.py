"""Plausibility bounds of loaded values (seed `seeds/load_bounds.csv`, one row per ruleset).

The loader runs before dbt, so it reads the seed file from the project, not the seeded
table. A shop's bounds are those of its ruleset (raw.shops, latest row; default
`taobao_tool`); a ruleset without a row of its own takes the `taobao_tool` row.

- times: from `min_time` to the end of the load day + `max_days_after_load` (the load day
  is the day `kefu load` runs, in UTC; it only rejects rows, it never enters results);
- offsets of ISO timestamps: within ±`max_offset_minutes`;
- amounts and refunds: at most `max_amount` (10,000,000 CNY by default: a per-day sum of
  a billion such orders still fits DECIMAL(18, 2));
- quantity: 1 to `max_quantity`.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from kefu.paths import PROJECT_DIR

BOUNDS_SEED = PROJECT_DIR / "seeds" / "load_bounds.csv"
DEFAULT_RULESET = "taobao_tool"


@dataclass(frozen=True)
class Bounds:
    """The plausibility bounds of one ruleset."""

    min_time: dt.date
    max_days_after_load: int
    max_offset_minutes: int
    max_amount: Decimal
    max_quantity: int


def read_bounds(path: Path | None = None) -> dict[str, Bounds]:
    """ruleset -> Bounds, from the seed file."""
    with (path or BOUNDS_SEED).open(encoding="utf-8", newline="") as handle:
        return {
            row["ruleset"]: Bounds(
                min_time=dt.date.fromisoformat(row["min_time"]),
                max_days_after_load=int(row["max_days_after_load"]),
                max_offset_minutes=int(row["max_offset_minutes"]),
                max_amount=Decimal(row["max_amount"]),
                max_quantity=int(row["max_quantity"]),
            )
            for row in csv.DictReader(handle)
        }


def shop_bounds(con: duckdb.DuckDBPyConnection, by_ruleset: dict[str, Bounds]) -> dict[str, Bounds]:
    """shop_id -> Bounds for the shops whose ruleset has bounds other than the default."""
    default = by_ruleset[DEFAULT_RULESET]
    rows = con.execute(
        """
        select shop_id, coalesce(nullif(trim(ruleset), ''), ?) as ruleset
        from raw.shops
        qualify row_number() over (
            partition by shop_id order by _file_id desc, _row_num desc
        ) = 1
        """,
        [DEFAULT_RULESET],
    ).fetchall()
    found = {shop: by_ruleset.get(ruleset, default) for shop, ruleset in rows}
    return {shop: bounds for shop, bounds in found.items() if bounds != default}


def today_utc() -> dt.date:
    """The load day of a load run now (only used to reject rows from the future)."""
    return dt.datetime.now(dt.UTC).date()
