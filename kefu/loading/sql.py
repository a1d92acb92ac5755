"""Small SQL helpers shared by the loader modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> int:
    """The integer a one-value query returns (0 for NULL).

    Uses fetchall: this duckdb build wants a result read to its end before the connection
    does other work (register, begin, ...).
    """
    rows = con.execute(sql, list(params)).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def sql_literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def short_error(exc: BaseException) -> str:
    """The first lines of a DuckDB error, without its list of possible fixes."""
    lines: list[str] = []
    for line in str(exc).splitlines():
        if line.startswith("Possible fixes") or (lines and not line.strip()):
            break
        if line.strip():
            lines.append(line.strip())
    return "; ".join(lines)
