"""Hand-made exports for metric tests: rows written straight into the raw layer
(the loader has its own tests), then a real dbt build over a real DuckDB file.

Each scenario lives in its own shop so that many of them share one build.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from kefu.build import BuildWindow, build
from kefu.schema import RAW_TABLES, create_raw_schema

_ids = itertools.count(1)

RAW_DEFAULTS: dict[str, dict[str, Any]] = {
    "shops": {"platform": "taobao", "shop_name": None, "timezone": None, "ruleset": None},
    "agents": {"agent_name": None, "team": "pre_sales", "employee_id": None},
    "filters": {"reason": "ads"},
    "messages": {"msg_type": "text", "content": ""},
    "orders": {
        "paid_at": None,
        "quantity": 1,
        "status": None,
        "refund_amount": 0,
        "updated_at": None,
    },
    "ratings": {"channel": None},
}


def ts(text: str) -> dt.datetime:
    """'2026-05-01 10:10:15' -> datetime (local wall time)."""
    return dt.datetime.fromisoformat(text)


def msg(
    shop_id: str,
    agent_id: str,
    buyer_id: str,
    role: str,
    sent_at: str,
    message_id: str | None = None,
    content: str = "",
) -> dict[str, Any]:
    """One raw message row; message ids default to a global counter."""
    return {
        "message_id": message_id or f"m{next(_ids):06d}",
        "shop_id": shop_id,
        "buyer_id": buyer_id,
        "agent_id": agent_id,
        "sender_role": role,
        "sent_at": ts(sent_at),
        "content": content,
    }


def order(
    shop_id: str,
    order_id: str,
    buyer_id: str,
    created_at: str,
    paid_at: str | None = None,
    amount: str = "100.00",
    quantity: int = 1,
    updated_at: str | None = None,
) -> dict[str, Any]:
    """One raw order version."""
    return {
        "order_id": order_id,
        "shop_id": shop_id,
        "buyer_id": buyer_id,
        "created_at": ts(created_at),
        "paid_at": ts(paid_at) if paid_at else None,
        "amount": amount,
        "quantity": quantity,
        "updated_at": ts(updated_at) if updated_at else None,
    }


def rating(
    shop_id: str, agent_id: str, buyer_id: str, rated_at: str, score: str, rating_id: str
) -> dict[str, Any]:
    """One raw rating (score already normalised as the loader stores it)."""
    return {
        "rating_id": rating_id,
        "shop_id": shop_id,
        "buyer_id": buyer_id,
        "agent_id": agent_id,
        "rated_at": ts(rated_at),
        "score": score,
    }


def _raw_columns(con: duckdb.DuckDBPyConnection, entity: str) -> list[str]:
    return [row[0] for row in con.execute(f"describe raw.{entity}").fetchall()]


def write_raw(db_path: Path, rows: dict[str, Iterable[dict[str, Any]]], file_id: int = 1) -> None:
    """Append rows to raw tables as if one export file per entity was loaded."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path)) as con:
        create_raw_schema(con)
        for entity, entity_rows in rows.items():
            assert entity in RAW_TABLES, entity
            columns = _raw_columns(con, entity)
            data = []
            for row_num, row in enumerate(entity_rows, start=1):
                full = {**RAW_DEFAULTS.get(entity, {}), **row}
                full["_file_id"] = file_id
                full["_row_num"] = row_num
                data.append([full.get(column) for column in columns])
            if data:
                marks = ", ".join("?" for _ in columns)
                con.executemany(f"insert into raw.{entity} values ({marks})", data)


def build_warehouse(
    db_path: Path, rows: dict[str, Iterable[dict[str, Any]]], window: BuildWindow | None = None
) -> Path:
    """Write the rows and run a real dbt build; return the warehouse path."""
    write_raw(db_path, rows)
    build(db_path, window or BuildWindow())
    return db_path


def query(db_path: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows of a query as dicts."""
    with duckdb.connect(str(db_path)) as con:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def one(db_path: Path, sql: str, params: list[Any] | None = None) -> dict[str, Any]:
    """The single row of a query."""
    rows = query(db_path, sql, params)
    assert len(rows) == 1, f"expected one row, got {len(rows)}: {rows}"
    return rows[0]
