"""`kefu run-nightly` end to end over a tiny hand-made landing zone, one warehouse through
a sequence of nights (one module fixture, so that the dbt builds are shared):

1. the first night builds everything and publishes the published file;
2. a separate `kefu load` brings late data (05-01), then the night of 05-06 runs while a
   reader process (DuckDB 1.1.3, as a BI driver bundles) holds the published file open:
   the window widens back to the late day, an older day is left untouched, the reader
   is never refused and only ever sees the old or the new publication;
3. a night that loads late data (04-29) is killed (kill -9) during its build;
4. two nights started together: both complete, one waits for the other's lock; the
   marts then equal a clean build of everything loaded;
5. a night whose critical check fails (and which rejects a file) leaves the published
   file byte-for-byte.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from kefu import warehouse
from kefu.build import BuildWindow, shareable
from kefu.cli import main
from kefu.loader import load_landing
from kefu.nightly import (
    Publication,
    plan_build,
    run_nightly,
    seeds_loaded,
    unpublished_days,
    write_publication_row,
)
from kefu.paths import PROJECT_DIR
from kefu.publish import window_marts
from kefu.windows import FULL_BUILD
from tests.landing import (
    MESSAGE_HEADER,
    ORDER_HEADER,
    write_csv,
    write_day,
    write_landing,
)

D = dt.date
SENTINEL = "untouched-by-the-window-build"
KEFU = str(Path(sys.executable).parent / "kefu")
BI_CLIENT = PROJECT_DIR / ".bi-clients" / "duckdb-1.1.3"
READER = Path(__file__).with_name("published_reader.py")
# What the published file may hold: schema marts, and no column of chat text.
TEXT_COLUMNS = {"content", "message_text", "text", "msg_content"}


def _rows(db_path: Path, sql: str, read_only: bool = False) -> list[tuple]:
    """Rows of a query. The warehouse opens in this process's configuration (in-process dbt
    keeps a read-write connection); a published file read-only, as BI opens it."""
    with duckdb.connect(str(db_path), read_only=read_only) as con:
        return con.execute(sql).fetchall()


def _publication(db_path: Path, read_only: bool = False) -> dict | None:
    with duckdb.connect(str(db_path), read_only=read_only) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        if "publication" not in tables:
            return None
        cursor = con.execute("select * from marts.publication")
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    assert len(rows) == 1
    return dict(zip(names, rows[0], strict=True))


def _marts(db_path: Path, read_only: bool = False) -> dict[str, list[tuple]]:
    with duckdb.connect(str(db_path), read_only=read_only) as con:
        return {
            name: con.execute(f"select * from marts.{name} order by all").fetchall()
            for name in warehouse.mart_names()
        }


def _parquet_marts(published: Path) -> dict[str, list[tuple]]:
    """The rows of each mart's Parquet folder beside the published file."""
    with duckdb.connect() as con:
        return {
            name: con.execute(
                f"select * from '{published.parent / 'parquet' / name}/*.parquet' order by all"
            ).fetchall()
            for name in warehouse.mart_names()
        }


def _late_landing(root: Path, day: dt.date, buyer: str, order: bool = True) -> Path:
    """A landing zone holding one late chat (and an order) of `day` by a new buyer."""
    d = day.isoformat()
    write_csv(
        root / "messages" / f"late-{d}.csv",
        MESSAGE_HEADER,
        [
            [f"late{d}a", "s1", buyer, "a1", "buyer", f"{d} 09:00:00", "text", "还在吗"],
            [f"late{d}b", "s1", buyer, "a1", "agent", f"{d} 09:00:30", "text", "在的"],
        ],
    )
    if not order:
        return root
    write_csv(
        root / "orders" / f"late-{d}.csv",
        ORDER_HEADER,
        [[f"late{d}o", "s1", buyer, f"{d} 09:30:00", f"{d} 09:31:00", "20.00", 1, "paid"]],
    )
    return root


def _start_readers(published: Path, root: Path) -> tuple[list[subprocess.Popen], Path]:
    """Two reader processes on the published file: one holding its connection open, one
    reconnecting for every read; started once both have read."""
    assert (BI_CLIENT / "duckdb").is_dir(), f"{BI_CLIENT} missing: run make install"
    stop = root / "reader.stop"
    env = {**os.environ, "PYTHONPATH": str(BI_CLIENT)}
    readers = [
        subprocess.Popen(
            [
                sys.executable,
                str(READER),
                str(published),
                str(stop),
                str(root / f"{mode}.jsonl"),
                mode,
            ],
            env=env,
        )
        for mode in ("hold", "poll")
    ]
    deadline = time.monotonic() + 60
    for mode in ("hold", "poll"):
        out = root / f"{mode}.jsonl"
        while not (out.exists() and out.read_text().count("\n") >= 2):
            assert all(r.poll() is None for r in readers), "a reader died"
            assert time.monotonic() < deadline, "a reader never read"
            time.sleep(0.1)
    return readers, stop


def _read_records(root: Path) -> list[dict]:
    return [
        json.loads(line)
        for mode in ("hold", "poll")
        for line in (root / f"{mode}.jsonl").read_text().splitlines()
        if line
    ]


def _stop_readers(readers, stop: Path, root: Path, until_state: list) -> list[dict]:
    """Let the readers read until the reconnecting one sees `until_state`, then stop them."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(r.get("state") == until_state and r["kind"] == "poll" for r in _read_records(root)):
            break
        time.sleep(0.1)
    stop.touch()
    assert [reader.wait(timeout=30) for reader in readers] == [0, 0]
    return _read_records(root)


def _reader_state(published: Path) -> list:
    as_of, last_day, buyers, rows = _rows(
        published,
        "select (select cast(max(as_of_date) as varchar) from marts.publication),"
        " (select cast(max(biz_date) as varchar) from marts.shop_daily_kpis),"
        " (select sum(consult_buyer_cnt) from marts.agent_daily_kpis),"
        " (select count(*) from marts.agent_daily_kpis)",
        read_only=True,
    )[0]
    return [as_of, last_day, int(buyers), int(rows)]


def _kill_during_build(db_path: Path, landing: Path) -> str | None:
    """`kefu run-nightly` in its own process, killed with SIGKILL once dbt has started
    writing its log (the load is done by then, and the build takes far longer than the
    second waited); the status of the warehouse's last build attempt afterwards."""
    dbt_log = db_path.parent / ".dbt" / db_path.stem / "logs" / "dbt.log"
    size = dbt_log.stat().st_size if dbt_log.exists() else 0
    night = subprocess.Popen(
        [KEFU, "run-nightly", "--db", str(db_path), "--landing", str(landing)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not (dbt_log.exists() and dbt_log.stat().st_size > size + 2000):
        assert night.poll() is None, "the night ended before its build"
        assert time.monotonic() < deadline, "the build never started"
        time.sleep(0.05)
    time.sleep(1)
    night.send_signal(signal.SIGKILL)
    assert night.wait(timeout=30) == -signal.SIGKILL
    rows = _rows(db_path, "select status from raw.build_runs order by build_id desc limit 1")
    return rows[0][0] if rows else None


def _two_nights_together(db_path: Path, landing: Path) -> list[subprocess.CompletedProcess]:
    command = [KEFU, "run-nightly", "--db", str(db_path), "--landing", str(landing)]
    started = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    done = []
    for process in started:
        out, err = process.communicate(timeout=900)
        done.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return done


def _inject_bad_order(db_path: Path) -> None:
    """An order version with quantity 0 (which the loader would quarantine), as if some
    load had let it through: the staging suite's critical expectation fails on it."""
    with duckdb.connect(str(db_path)) as con:
        file_id, run_id = con.execute(
            "select max(file_id) + 1, max(load_run_id) + 1 from raw.load_files"
        ).fetchone()
        con.execute(
            "insert into raw.load_files (file_id, entity, file_path, file_name, content_sha256,"
            " status, rows_read, rows_loaded, rows_quarantined, rows_duplicate, load_run_id)"
            " values (?, 'orders', 'orders/bad.csv', 'bad.csv', 'x', 'loaded', 1, 1, 0, 0, ?)",
            [file_id, run_id],
        )
        con.execute(
            "insert into raw.orders (order_id, shop_id, buyer_id, created_at, paid_at, amount,"
            " quantity, status, refund_amount, updated_at, _file_id, _row_num)"
            " values ('bad1', 's1', 'b1', timestamp '2026-05-06 08:00:00', null, 10, 0,"
            " 'created', 0, null, ?, 2)",
            [file_id],
        )


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    root = tmp_path_factory.mktemp("nightly")
    db_path = root / "warehouse.duckdb"
    published = root / "published" / "kefu.duckdb"
    landing = write_landing(
        root / "landing",
        [D(2026, 4, 25), D(2026, 4, 30), D(2026, 5, 1), D(2026, 5, 2), D(2026, 5, 3)],
    )
    result: dict = {"db": db_path, "published": published, "root": root}

    # 1. The first night.
    result["first"] = run_nightly(db_path, landing)
    result["first_publication"] = _publication(published, read_only=True)
    result["first_days"] = [
        day for (day,) in _rows(db_path, "select distinct biz_date from marts.shop_daily_kpis")
    ]
    result["first_state"] = _reader_state(published)
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "update marts.agent_daily_kpis set agent_name = ?"
            " where biz_date in (date '2026-04-25', date '2026-05-02')",
            [SENTINEL],
        )

    # 2. A separate load of late data, then the night of 05-06 under a reader.
    late = _late_landing(root / "late", D(2026, 5, 1), "blate1", order=False)
    result["late_load_status"] = main(["load", "--db", str(db_path), "--landing", str(late)])
    write_day(landing, D(2026, 5, 6))
    readers, stop = _start_readers(published, root)
    dbt_log = root / ".dbt" / "warehouse" / "logs" / "dbt.log"
    logged = dbt_log.stat().st_size
    result["second"] = run_nightly(db_path, landing)
    with dbt_log.open("rb") as log:
        log.seek(logged)
        result["second_dbt_log"] = log.read().decode("utf-8", "replace")
    result["second_state"] = _reader_state(published)
    result["reads"] = _stop_readers(readers, stop, root, result["second_state"])
    result["second_publication"] = _publication(published, read_only=True)
    names_by_day = (
        "select biz_date, string_agg(distinct agent_name, ',' order by agent_name)"
        " from marts.agent_daily_kpis group by biz_date"
    )
    result["published_names_after_second"] = dict(_rows(published, names_by_day, read_only=True))
    result["second_warehouse_publication"] = _publication(db_path)
    result["names_after_second"] = dict(
        _rows(
            db_path,
            "select biz_date, string_agg(distinct agent_name, ',' order by agent_name)"
            " from marts.agent_daily_kpis group by biz_date",
        )
    )
    result["late_buyer_days"] = _rows(
        db_path, "select distinct biz_date from marts.fct_receptions where buyer_id = 'blate1'"
    )

    # 3. A night that loads late data and is killed during its build.
    killed_landing = _late_landing(root / "late-killed", D(2026, 4, 29), "blate2")
    result["killed_status"] = _kill_during_build(db_path, killed_landing)

    # 4. Two nights started together.
    result["together"] = _two_nights_together(db_path, landing)
    result["after_together"] = _marts(db_path)
    result["published_after_together"] = _marts(published, read_only=True)
    result["parquet_after_together"] = _parquet_marts(published)
    result["published_tables"] = _rows(
        published,
        "select table_schema, table_name, column_name from information_schema.columns",
        read_only=True,
    )

    # The clean build of everything loaded, to compare with.
    clean = root / "clean.duckdb"
    for zone in (landing, late, killed_landing):
        load_landing(clean, zone)
    assert main(["build", "--db", str(clean), "--as-of", "2026-05-06"]) == 0
    result["clean"] = _marts(clean)

    # 4b. A night with nothing new (same watermark, same as_of) whose published file went
    # missing: no build, no checks; the file is copied again from the warehouse.
    builds = "select count(*) from raw.build_runs"
    result["builds_before_noop"] = _rows(db_path, builds)[0][0]
    published.unlink()
    result["noop"] = run_nightly(db_path, landing)
    result["builds_after_noop"] = _rows(db_path, builds)[0][0]
    result["noop_publication"] = _publication(published, read_only=True)
    result["noop_warehouse_publication"] = _publication(db_path)
    result["noop_marts"] = _marts(db_path)

    # 5. A night whose critical check fails, with a rejected file.
    before = published.read_bytes()
    result["published_mtime"] = published.stat().st_mtime_ns
    _inject_bad_order(db_path)
    write_csv(landing / "messages" / "broken.csv", ["message_id", "shop_id"], [["x", "s1"]])
    result["failed"] = run_nightly(db_path, landing)
    result["published_unchanged"] = published.read_bytes() == before
    return result


@pytest.mark.slow
def test_first_night_builds_everything_and_publishes(nights):
    first = nights["first"]
    assert first.success, first.reason()
    assert first.plan.window == FULL_BUILD
    assert first.plan.as_of == D(2026, 5, 3)
    assert nights["first_days"] and min(nights["first_days"]) == D(2026, 4, 25)
    publication = nights["first_publication"]
    assert publication["as_of_date"] == D(2026, 5, 3)
    assert publication["is_full_build"] is True
    assert publication["checks_passed"] is True
    assert publication["files_loaded_cnt"] == 13
    assert publication["load_run_ids"] == "1"


@pytest.mark.slow
def test_a_separate_load_is_taken_in_by_the_next_night(nights):
    assert nights["late_load_status"] == 0
    second = nights["second"]
    assert second.success, second.reason()
    # load run 2 was the separate `kefu load`, run 3 the night's own
    assert second.plan.load_run_ids == (2, 3)
    # A late chat of 05-01 can earn the payment credit of an order paid that day, which
    # converts inquiries up to final_pay_days (4) before: the window reaches back to 04-27.
    assert second.plan.window == (D(2026, 4, 27), D(2026, 5, 6))
    names = nights["names_after_second"]
    assert names[D(2026, 4, 25)] == SENTINEL  # outside the window: not rewritten
    assert names[D(2026, 5, 1)] == "Alice,Bob"  # the late day and the days after: rebuilt
    assert names[D(2026, 5, 2)] == "Alice,Bob"
    publication = nights["second_publication"]
    assert publication["as_of_date"] == D(2026, 5, 6)
    assert publication["load_run_ids"] == "2,3"
    assert publication["files_loaded_cnt"] == 3  # 1 of the separate load, 2 of the night
    assert nights["late_buyer_days"] == [(D(2026, 5, 1),)]
    assert publication == nights["second_warehouse_publication"]


@pytest.mark.slow
def test_a_window_night_keeps_the_seed_tables_of_the_last_build(nights):
    """Same seed files as the last successful build: the window night's dbt build runs
    the models, not the seeds (nightly.seeds_loaded)."""
    log = nights["second_dbt_log"]
    assert "Began running node model.kefu.shop_daily_kpis" in log
    assert "Began running node seed.kefu." not in log


def test_a_night_parses_the_dbt_project_once_for_its_build_and_its_checks(nights):
    """kefu.build.parsed_once: the window night runs `dbt parse`, then its build and its
    data tests on that manifest; dbt logs one parse of the project, not one per command."""
    log = nights["second_dbt_log"]
    commands = re.findall(r"Command `cli (\w+)` succeeded", log)
    assert commands == ["parse", "build", "test"]
    parses = re.findall(r"Partial parsing enabled:|Unable to do partial parsing", log)
    assert len(parses) == 1


def test_a_project_with_an_ephemeral_model_is_parsed_by_each_command():
    """kefu.build.shareable: dbt injects an ephemeral model's CTE into a node once, on the
    shared manifest, so the checks would run the build's window in it."""
    from types import SimpleNamespace

    def manifest(*materialized: str) -> SimpleNamespace:
        nodes = {
            f"model.kefu.m{index}": SimpleNamespace(config=SimpleNamespace(materialized=kind))
            for index, kind in enumerate(materialized)
        }
        return SimpleNamespace(nodes=nodes)

    assert shareable(manifest("view", "incremental", "table"))
    assert not shareable(manifest("view", "ephemeral"))


def test_a_window_build_keeps_the_seed_tables_only_while_the_seed_files_are_the_same(
    tmp_path, monkeypatch
):
    window = BuildWindow(D(2026, 5, 2), D(2026, 5, 6), D(2026, 5, 6))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert not seeds_loaded(con, window)  # no build yet
        first = warehouse.start_build(con, "first", D(2026, 5, 1), (None, None), [1])
        warehouse.finish_build(con, first)
        assert seeds_loaded(con, window)
        assert not seeds_loaded(con, BuildWindow(as_of=D(2026, 5, 6)))  # a full build
        assert not seeds_loaded(con, window, full_refresh=True)
        with monkeypatch.context() as patched:
            patched.setattr(warehouse, "seeds_digest", lambda: "an edited seed file")
            assert not seeds_loaded(con, window)
        warehouse.start_build(con, "killed", D(2026, 5, 6), (None, None), [2])
        assert not seeds_loaded(con, window)  # it may have left a seed table half-loaded


@pytest.mark.slow
def test_a_reader_holding_the_published_file_is_never_refused_nor_sees_a_mix(nights):
    reads = nights["reads"]
    old, new = nights["first_state"], nights["second_state"]
    assert old != new
    assert {r["version"] for r in reads} == {"1.1.3"}  # a DuckDB 1.x client reads it
    assert not [r for r in reads if "error" in r]
    fresh = [r["state"] for r in reads if r["kind"] == "poll"]
    held = [r["state"] for r in reads if r["kind"] == "hold"]
    assert len(fresh) >= 10 and len(held) >= 10
    assert all(state in (old, new) for state in fresh)
    assert fresh[0] == old and fresh[-1] == new
    assert set(map(tuple, held)) == {tuple(old)}  # an open connection keeps its file


@pytest.mark.slow
def test_killed_night_and_separate_load_are_in_the_marts_after_the_next_night(nights):
    assert nights["killed_status"] == "started"  # killed during its build
    first, second = nights["together"]
    assert (first.returncode, second.returncode) == (0, 0), (first.stderr, second.stderr)
    after, clean = nights["after_together"], nights["clean"]
    assert set(after) == set(clean)
    for name in clean:
        assert after[name] == clean[name], name
    buyers = [row for row in after["fct_receptions"] if "blate2" in row]
    assert buyers, "the killed night's late chat is not in the marts"


@pytest.mark.slow
def test_a_window_night_publishes_its_days_into_a_copy_of_the_last_file(nights):
    """After a window build, the per-day marts' window days go into a copy of the last
    published file; the other days are the last publication's. The warehouse's sentinel
    names (a hand edit, no build) stay out of the file on 04-25, outside the window."""
    # (The DuckDB 1.x client reads this file: test_a_reader_holding_the_published_file…)
    published = nights["published_names_after_second"]
    assert nights["names_after_second"][D(2026, 4, 25)] == SENTINEL  # in the warehouse
    assert published[D(2026, 4, 25)] != SENTINEL  # the last publication's row
    assert published[D(2026, 5, 2)] == "Alice,Bob"  # in the window: rebuilt and copied
    assert published[D(2026, 5, 6)] == nights["names_after_second"][D(2026, 5, 6)]
    # Two more window nights later, the file holds exactly the warehouse's marts.
    after = nights["after_together"]
    assert set(nights["published_after_together"]) == set(after)
    for name, rows in after.items():
        assert nights["published_after_together"][name] == rows, name
        # Its Parquet months written again (kefu.publish) hold the same rows.
        assert nights["parquet_after_together"][name] == rows, name


@pytest.mark.slow
def test_the_marts_a_window_build_rebuilds_only_on_its_days_come_from_the_manifest(nights):
    manifest = nights["root"] / ".dbt" / "warehouse" / "target" / "manifest.json"
    marts = window_marts(manifest)
    assert {"agent_daily_kpis", "shop_daily_kpis", "fct_rounds", "fct_receptions"} <= marts
    # roll-ups, order-level marts and shifted / period windows are copied whole
    whole = {"agent_weekly_kpis", "fct_order_credits", "platform_service_assessed"}
    assert not marts & {*whole, "kpi_target_status", "unpaid_order_followups"}
    assert window_marts(nights["root"] / "no-manifest.json") == frozenset()


def test_a_publication_starts_from_the_last_file_only_while_it_is_that_file(tmp_path):
    target = tmp_path / "published" / "kefu.duckdb"
    target.parent.mkdir()
    target.write_bytes(b"the last publication")
    window = (D(2026, 5, 2), D(2026, 5, 6))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        first = warehouse.start_build(con, "first", D(2026, 5, 1), (None, None), [1])
        warehouse.finish_build(con, first)
        warehouse.mark_published(con, first)
        warehouse.record_published_file(con, first, target)
        failed = warehouse.start_build(
            con, "failed", D(2026, 5, 5), (D(2026, 5, 1), D(2026, 5, 5)), [2]
        )
        night = warehouse.start_build(con, "night", D(2026, 5, 6), window, [3])
        warehouse.finish_build(con, night)
        # every build since the last publication, the failed one too: 05-01 … 05-06
        assert warehouse.days_since_publication(con, night, target) == (D(2026, 5, 1), window[1])
        assert warehouse.days_since_publication(con, night, tmp_path / "elsewhere.duckdb") is None
        os.utime(target, ns=(0, 0))  # the file was touched since
        assert warehouse.days_since_publication(con, night, target) is None
        warehouse.record_published_file(con, first, target)
        assert warehouse.days_since_publication(con, night, target) is not None
        full = warehouse.start_build(con, "full", D(2026, 5, 6), (None, None), [])
        assert warehouse.days_since_publication(con, full, target) is None  # a full build
        assert failed < night < full


def test_a_night_after_a_failed_check_checks_every_day_not_published_since(tmp_path):
    """Night 2's checks failed (its rows are taken in, not published); night 3 checks its
    own days and night 2's, which its publication copies too."""
    target = tmp_path / "published" / "kefu.duckdb"
    target.parent.mkdir()
    target.write_bytes(b"the last publication")
    db = tmp_path / "w.duckdb"
    night3 = BuildWindow(D(2026, 5, 2), D(2026, 5, 6), D(2026, 5, 6))
    with duckdb.connect(str(db)) as con:
        first = warehouse.start_build(con, "first", D(2026, 5, 4), (None, None), [1])
        warehouse.finish_build(con, first)
        warehouse.mark_published(con, first)
        warehouse.record_published_file(con, first, target)
        # No publication before the first one's build: every day.
        assert unpublished_days(db, first, night3, target) == BuildWindow(as_of=D(2026, 5, 6))
        second = warehouse.start_build(
            con, "checks failed", D(2026, 5, 5), (D(2026, 5, 1), D(2026, 5, 5)), [2]
        )
        warehouse.finish_build(con, second)
        third = warehouse.start_build(con, "night", D(2026, 5, 6), (night3.start, night3.end), [3])
        warehouse.finish_build(con, third)
    assert unpublished_days(db, third, night3, target) == BuildWindow(
        D(2026, 5, 1), D(2026, 5, 6), D(2026, 5, 6)
    )
    # The published file is not the last publication's: every day.
    os.utime(target, ns=(0, 0))
    assert unpublished_days(db, third, night3, target) == BuildWindow(as_of=D(2026, 5, 6))


@pytest.mark.slow
def test_two_nights_started_together_run_one_after_the_other(nights):
    outputs = nights["together"]
    waited = [p for p in outputs if "waiting up to" in p.stderr]
    assert len(waited) == 1, [p.stderr for p in outputs]
    line = next(x for x in waited[0].stderr.splitlines() if "waiting up to" in x)
    assert "kefu run-nightly" in line and "pid " in line
    # whichever ran first took in the killed night's load run, and covered its build
    # The plan line (progress lines of the dbt build start with "build: " too).
    plans = [
        next(x for x in p.stdout.splitlines() if x.startswith("build: as of ")) for p in outputs
    ]
    assert sum("load runs taken in: 4" in plan for plan in plans) == 1, plans
    assert sum("load runs taken in: none" in plan for plan in plans) == 1, plans


@pytest.mark.slow
def test_a_night_with_nothing_new_skips_build_and_checks_but_keeps_the_file(nights):
    noop = nights["noop"]
    assert noop.success, noop.reason()
    assert noop.skipped and noop.checks is None
    assert nights["builds_after_noop"] == nights["builds_before_noop"]  # no build attempt
    assert "build and checks skipped" in noop.summary()
    assert "load runs taken in: none" in noop.plan.describe()
    assert noop.published and nights["published"].is_file()
    # the copied file carries the warehouse's publication row (the standing build's)
    assert nights["noop_publication"] == nights["noop_warehouse_publication"]
    assert nights["noop_publication"]["as_of_date"] == noop.plan.as_of
    assert nights["noop_marts"] == nights["after_together"]
    # of the two nights started together, the second found nothing new and skipped too
    plans = [p.stdout for p in nights["together"]]
    assert sum("build and checks skipped" in out for out in plans) == 1, plans


@pytest.mark.slow
def test_published_file_holds_marts_only_and_no_message_text(nights):
    columns = nights["published_tables"]
    assert {schema for schema, _, _ in columns} == {"marts"}
    assert {table for _, table, _ in columns} >= {*warehouse.mart_names(), "publication"}
    assert not [c for _, _, c in columns if c.lower() in TEXT_COLUMNS]
    parquet = nights["published"].parent / "parquet"
    assert sorted(p.name for p in parquet.iterdir()) == sorted({table for _, table, _ in columns})
    # A per-day mart: one file per month of its days; one without a date column: one file.
    assert {p.name for p in (parquet / "shop_daily_kpis").iterdir()} == {
        "shop_daily_kpis-2026-04.parquet",
        "shop_daily_kpis-2026-05.parquet",
    }
    assert {p.name for p in (parquet / "publication").iterdir()} == {"publication.parquet"}


@pytest.mark.slow
def test_a_failed_critical_check_leaves_the_published_file_byte_for_byte(nights):
    failed = nights["failed"]
    assert not failed.success
    assert not failed.published
    assert failed.checks is not None and not failed.checks.success
    assert "messages/broken.csv" in failed.reason()  # the rejected file is named too
    assert "checks:" in failed.reason()
    assert nights["published_unchanged"]


@pytest.mark.slow
def test_late_data_widens_the_window_back_to_its_day(nights, tmp_path):
    """Plan only (no build): a copy of the warehouse receives a file of 04-20."""
    with duckdb.connect(str(nights["db"])) as con:
        con.execute("checkpoint")  # everything in the file, nothing left in its WAL
    db_path = tmp_path / "copy.duckdb"
    db_path.write_bytes(nights["db"].read_bytes())
    landing = tmp_path / "late"
    rows = [
        ["late1", "s1", "b9", "a1", "buyer", "2026-04-20 09:00:00", "text", "还在吗"],
        ["late2", "s1", "b9", "a1", "agent", "2026-04-20 09:00:20", "text", "在"],
    ]
    write_csv(landing / "messages" / "late.csv", MESSAGE_HEADER, rows)
    load_landing(db_path, landing)
    plan = plan_build(db_path)
    assert plan.earliest_new_date == D(2026, 4, 16)  # 04-20 less final_pay_days (4)
    assert plan.window[0] == D(2026, 4, 16)


def test_nightly_without_data_fails_with_a_reason(tmp_path, capsys):
    (tmp_path / "landing").mkdir()
    code = main(
        ["run-nightly", "--db", str(tmp_path / "w.duckdb"), "--landing", str(tmp_path / "landing")]
    )
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("kefu run-nightly: no messages or orders")
    assert len(err.splitlines()) == 1


def _publication_row(as_of: dt.date, **changes) -> Publication:
    values = {
        "as_of_date": as_of,
        "window_start": as_of - dt.timedelta(days=4),
        "window_end": as_of,
        "is_full_build": False,
        "checks_passed": True,
        "critical_failed_cnt": 0,
        "warning_failed_cnt": 1,
        "load_run_id": 3,
        "load_run_ids": "2,3",
        "files_loaded_cnt": 2,
        "files_skipped_cnt": 7,
        "files_rejected_cnt": 0,
        "rows_loaded_cnt": 10,
        "rows_quarantined_cnt": 1,
        "rows_duplicate_cnt": 0,
    }
    return Publication(**{**values, **changes})


def test_publication_row_is_replaced_and_has_no_wall_clock(tmp_path):
    db_path = tmp_path / "w.duckdb"
    write_publication_row(db_path, _publication_row(D(2026, 5, 5)))
    write_publication_row(db_path, _publication_row(D(2026, 5, 6), files_rejected_cnt=1))
    row = _publication(db_path)
    assert row["as_of_date"] == D(2026, 5, 6)
    assert (row["window_start"], row["window_end"]) == (D(2026, 5, 2), D(2026, 5, 6))
    assert row["files_rejected_cnt"] == 1
    types = _rows(
        db_path, "select data_type from information_schema.columns where table_name = 'publication'"
    )
    assert not [t for (t,) in types if "TIME" in t]  # no wall-clock timestamps
