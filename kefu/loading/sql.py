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


PREFIX_CHARS = 64  # raw values in messages and quarantine rows are cut to this many
MESSAGE_CHARS = 300  # a DuckDB error quoted in a rejection is cut to this many


def prefix(text: str, limit: int = PREFIX_CHARS) -> str:
    """`text` cut to `limit` characters, with "…" when cut (a chat text in an error message
    or quarantine row is evidence, not a copy)."""
    return text if len(text) <= limit else text[:limit] + "…"


def short_error(exc: BaseException) -> str:
    """The first lines of a DuckDB error, without its list of possible fixes, cut to
    MESSAGE_CHARS (DuckDB quotes the offending line, which may be a whole chat)."""
    return prefix(_first_lines(exc), MESSAGE_CHARS)


def _first_lines(exc: BaseException) -> str:
    lines: list[str] = []
    for line in str(exc).splitlines():
        if line.startswith("Possible fixes") or (lines and not line.strip()):
            break
        if line.strip():
            lines.append(line.strip())
    return "; ".join(lines)
