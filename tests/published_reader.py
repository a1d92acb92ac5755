"""A BI-like reader of the published file, run as its own process (by the tests, with the
DuckDB 1.x client of .bi-clients on PYTHONPATH, as a BI driver bundles an older engine).

It holds one read-only connection open for its whole life and, in a loop until the stop
file appears, also opens a fresh read-only connection; each read is one JSON line:
{"kind": "held" | "fresh", "state": [as_of, last_day, consult_buyers, rows], "version": ...}
or {"kind": "fresh", "error": "..."} when a read is refused.

usage: python published_reader.py PUBLISHED STOP_FILE OUT_FILE
"""

import json
import sys
import time
from pathlib import Path

import duckdb

STATE_SQL = """
    select
        (select cast(max(as_of_date) as varchar) from marts.publication),
        (select cast(max(biz_date) as varchar) from marts.shop_daily_kpis),
        (select sum(consult_buyer_cnt) from marts.agent_daily_kpis),
        (select count(*) from marts.agent_daily_kpis)
"""


def state(con) -> list:
    return [
        value if isinstance(value, str) else int(value)
        for value in con.execute(STATE_SQL).fetchone()
    ]


def main() -> None:
    published, stop, out = (Path(arg) for arg in sys.argv[1:4])
    held = duckdb.connect(str(published), read_only=True)
    with out.open("w", encoding="utf-8") as sink:

        def write(record: dict) -> None:
            record["version"] = duckdb.__version__
            sink.write(json.dumps(record) + "\n")
            sink.flush()

        while not stop.exists():
            try:
                fresh = duckdb.connect(str(published), read_only=True)
                try:
                    write({"kind": "fresh", "state": state(fresh)})
                finally:
                    fresh.close()
            except Exception as exc:  # noqa: BLE001 (a refusal is what we count)
                write({"kind": "fresh", "error": str(exc).splitlines()[0]})
            write({"kind": "held", "state": state(held)})
            time.sleep(0.05)
    held.close()


if __name__ == "__main__":
    main()
