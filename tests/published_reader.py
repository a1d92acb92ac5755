"""A BI-like reader of the published file, run as its own process (by the tests, with the
DuckDB 1.x client of .bi-clients on PYTHONPATH, as a BI driver bundles an older engine).

mode `hold`: one read-only connection opened at start and read in a loop, as a dashboard
keeps its connection; mode `poll`: a new read-only connection for every read, as a
dashboard refresh reconnects. (Two processes: inside one process DuckDB shares one
database instance per path, so a new connection would reuse the held one.) Each read is
one JSON line until the stop file appears:
{"kind": "hold" | "poll", "state": [as_of, last_day, consult_buyers, rows], "version": ...}
or {"kind": ..., "error": "..."} when a read is refused.

usage: python published_reader.py PUBLISHED STOP_FILE OUT_FILE hold|poll
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
    row = con.execute(STATE_SQL).fetchone()
    return [value if isinstance(value, str) else int(value) for value in row]


def main() -> None:
    published, stop, out = (Path(arg) for arg in sys.argv[1:4])
    mode = sys.argv[4]
    held = duckdb.connect(str(published), read_only=True) if mode == "hold" else None
    with out.open("w", encoding="utf-8") as sink:
        while not stop.exists():
            record: dict = {"kind": mode, "version": duckdb.__version__}
            try:
                if held is not None:
                    record["state"] = state(held)
                else:
                    fresh = duckdb.connect(str(published), read_only=True)
                    try:
                        record["state"] = state(fresh)
                    finally:
                        fresh.close()
            except Exception as exc:  # noqa: BLE001 (a refusal is what we count)
                record["error"] = str(exc).splitlines()[0]
            sink.write(json.dumps(record) + "\n")
            sink.flush()
            time.sleep(0.05)
    if held is not None:
        held.close()


if __name__ == "__main__":
    main()
