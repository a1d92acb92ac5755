"""Dagster orchestration: the definitions load, the refresh window is right in each case,
a schedule tick and a sensor tick request the expected runs, and a real materialisation
of the assets against a temporary DuckDB file builds the marts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from kefu import warehouse
from kefu.paths import PROJECT_DIR
from kefu.schema import create_raw_schema
from kefu.windows import (
    FULL_BUILD,
    cover_unfinished,
    needs_full_build,
    pending_load_runs,
    refresh_window,
    schedule_as_of,
)
from tests.landing import write_day, write_landing

D = dt.date


# ---------------------------------------------------------------- refresh window (pure)


def test_plain_nightly_rebuilds_the_new_day_and_the_four_maturing_days():
    assert refresh_window(D(2026, 5, 8), 4, None, marts_exist=True) == (
        D(2026, 5, 4),
        D(2026, 5, 8),
    )


def test_new_rows_inside_the_window_do_not_widen_it():
    window = refresh_window(D(2026, 5, 8), 4, D(2026, 5, 6), marts_exist=True)
    assert window == (D(2026, 5, 4), D(2026, 5, 8))


def test_late_arriving_old_data_widens_the_window_back_to_its_first_day():
    window = refresh_window(D(2026, 5, 8), 4, D(2026, 4, 20), marts_exist=True)
    assert window == (D(2026, 4, 20), D(2026, 5, 8))


def test_first_build_is_a_full_build():
    assert refresh_window(D(2026, 5, 8), 4, None, marts_exist=False) == FULL_BUILD
    assert refresh_window(D(2026, 5, 8), 4, D(2026, 1, 1), marts_exist=False) == FULL_BUILD


def test_master_data_change_is_a_full_build():
    window = refresh_window(D(2026, 5, 8), 4, None, marts_exist=True, master_data_changed=True)
    assert window == FULL_BUILD


def test_as_of_at_month_start_reaches_into_the_previous_month():
    assert refresh_window(D(2026, 3, 1), 4, None, True) == (D(2026, 2, 25), D(2026, 3, 1))
    assert refresh_window(D(2024, 3, 1), 4, None, True) == (D(2024, 2, 26), D(2024, 3, 1))
    assert refresh_window(D(2026, 1, 2), 4, None, True) == (D(2025, 12, 29), D(2026, 1, 2))


def test_final_pay_days_sizes_the_window():
    assert refresh_window(D(2026, 5, 8), 7, None, True) == (D(2026, 5, 1), D(2026, 5, 8))
    assert refresh_window(D(2026, 5, 8), 0, None, True) == (D(2026, 5, 8), D(2026, 5, 8))


def test_pending_load_runs_are_those_no_successful_build_took_in():
    # run 2 was a separate `kefu load`, run 3's build was killed: both still pending
    assert pending_load_runs((1, 2, 3, 4), (1, 4)) == [2, 3]
    assert pending_load_runs((1, 2), (1, 2)) == []
    assert pending_load_runs((), ()) == []


def test_master_data_or_changed_seeds_call_for_a_full_build():
    master = ("shops", "agents", "filters")
    assert not needs_full_build({"messages", "orders"}, master, "abc", "abc")
    assert needs_full_build({"messages", "agents"}, master, "abc", "abc")
    assert needs_full_build(set(), master, "abc", "def")  # a seed changed
    assert needs_full_build(set(), master, "abc", None)  # no build recorded yet


def test_unfinished_builds_stretch_the_window_over_their_days():
    window = (D(2026, 5, 4), D(2026, 5, 8))
    assert cover_unfinished(window, ()) == window
    assert cover_unfinished(window, ((D(2026, 5, 1), D(2026, 5, 7)),)) == (
        D(2026, 5, 1),
        D(2026, 5, 8),
    )
    assert cover_unfinished(window, ((D(2026, 5, 5), D(2026, 5, 9)),)) == (
        D(2026, 5, 4),
        D(2026, 5, 9),
    )
    assert cover_unfinished(window, (FULL_BUILD,)) == FULL_BUILD  # a killed full build
    assert cover_unfinished(FULL_BUILD, ((D(2026, 5, 1), D(2026, 5, 7)),)) == FULL_BUILD


def test_scheduled_run_is_as_of_the_day_before():
    assert schedule_as_of(D(2026, 3, 1)) == D(2026, 2, 28)


def test_final_pay_days_comes_from_the_rulesets_seed_before_the_first_build():
    assert warehouse.ruleset_parameter(None, "final_pay_days") == 4


# ---------------------------------------------------------------- definitions


@pytest.fixture(scope="module")
def orchestration():
    import orchestration.assets as assets
    import orchestration.definitions as definitions
    import orchestration.jobs as jobs
    import orchestration.resources as resources
    import orchestration.schedules as schedules
    import orchestration.sensors as sensors

    return {
        "assets": assets,
        "definitions": definitions,
        "jobs": jobs,
        "resources": resources,
        "schedules": schedules,
        "sensors": sensors,
    }


def test_definitions_load(orchestration):
    defs = orchestration["definitions"].defs
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    assert repo.get_job("kefu_nightly")
    assert repo.get_schedule_def("kefu_nightly_schedule").execution_timezone == "Asia/Shanghai"
    assert repo.get_sensor_def("landing_zone_sensor")
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups["landing_files"] == "landing"
    assert groups["staging/stg_exports__messages"] == "staging"
    assert groups["intermediate/int_shops_completed"] == "intermediate"
    assert groups["marts/publication"] == "marts"
    assert graph.get(dg.AssetKey(["staging", "stg_exports__messages"])).parent_keys == {
        dg.AssetKey("landing_files")
    }
    check_names = {key.name for key in graph.asset_check_keys}
    assert {"no_rejected_files", "gx_incoming_messages", "dq_staging", "dq_marts"} <= check_names


def test_definitions_load_through_the_package(orchestration):
    import orchestration as package

    assert package.defs is orchestration["definitions"].defs


# ---------------------------------------------------------------- schedule and sensor


def _warehouse_with_marts(path, load_runs: int = 0, built_runs: tuple[int, ...] = ()):
    """A warehouse file holding (empty) tables for every mart of the project, a successful
    build of the current seeds that took in `built_runs`, and `load_runs` load runs of
    one messages file each, dated 2026-04-2x."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        for name in warehouse.mart_names():
            con.execute(f"create table marts.{name} (biz_date date)")
        create_raw_schema(con)
        for run in range(1, load_runs + 1):
            con.execute(
                "insert into raw.load_files (file_id, entity, file_path, file_name,"
                " content_sha256, status, load_run_id) values (?, 'messages', ?, ?, ?,"
                " 'loaded', ?)",
                [run, f"messages/{run}.csv", f"{run}.csv", str(run), run],
            )
            con.execute(
                "insert into raw.messages (message_id, shop_id, buyer_id, agent_id, sender_role,"
                " sent_at, msg_type, content, _file_id, _row_num)"
                " values (?, 's1', 'b1', 'a1', 'buyer', ?, 'text', '', ?, 2)",
                [f"m{run}", dt.datetime(2026, 4, 20 + run, 10), run],
            )
        build_id = warehouse.start_build(con, "test", None, FULL_BUILD, list(built_runs))
        warehouse.finish_build(con, build_id)
    return path


def _tick(orchestration, db_path, scheduled_at):
    schedules = orchestration["schedules"]
    resource = orchestration["resources"].KefuWarehouse(db=str(db_path))
    context = dg.build_schedule_context(
        scheduled_execution_time=scheduled_at, resources={"warehouse": resource}
    )
    return schedules.nightly_schedule(context)


def test_schedule_tick_requests_the_nightly_run_with_its_window(orchestration, tmp_path):
    db_path = _warehouse_with_marts(tmp_path / "w.duckdb")
    scheduled_at = dt.datetime(2026, 5, 9, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    request = _tick(orchestration, db_path, scheduled_at)
    assert isinstance(request, dg.RunRequest)
    assert request.run_key == "nightly-2026-05-08"
    assert request.run_config == {
        "ops": {
            "kefu_dbt_models": {
                "config": {
                    "as_of_date": "2026-05-08",
                    "start_date": "2026-05-04",
                    "end_date": "2026-05-08",
                    "auto_window": False,
                    "full_build": False,
                }
            }
        }
    }
    assert request.tags["kefu/window_start"] == "2026-05-04"
    assert request.tags["kefu/window_end"] == "2026-05-08"
    assert request.tags["kefu/as_of_date"] == "2026-05-08"
    # one run over the daily partitions of the window, queued behind any other kefu run
    assert request.tags["dagster/asset_partition_range_start"] == "2026-05-04"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-05-08"
    assert request.tags["kefu/warehouse"] == "writer"


def test_schedule_tick_widens_the_window_to_every_load_not_built_yet(orchestration, tmp_path):
    """Load runs 2 and 3 (04-22, 04-23) were loaded but never built (a separate kefu
    load, a killed build): the night's run covers their days too, and the final_pay_days
    (4) before the earliest chat, whose inquiries a reply can convert (payment credit)."""
    db_path = _warehouse_with_marts(tmp_path / "w.duckdb", load_runs=3, built_runs=(1,))
    scheduled_at = dt.datetime(2026, 5, 9, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    request = _tick(orchestration, db_path, scheduled_at)
    config = request.run_config["ops"]["kefu_dbt_models"]["config"]
    assert (config["start_date"], config["end_date"]) == ("2026-04-18", "2026-05-08")
    assert request.tags["dagster/asset_partition_range_start"] == "2026-04-18"


def test_schedule_tick_at_a_month_start_in_shanghai_time(orchestration, tmp_path):
    db_path = _warehouse_with_marts(tmp_path / "w.duckdb")
    scheduled_at = dt.datetime(2026, 2, 28, 18, 0, tzinfo=dt.UTC)  # 03-01 02:00 in Shanghai
    request = _tick(orchestration, db_path, scheduled_at)
    config = request.run_config["ops"]["kefu_dbt_models"]["config"]
    assert (config["as_of_date"], config["start_date"], config["end_date"]) == (
        "2026-02-28",
        "2026-02-24",
        "2026-02-28",
    )


def test_schedule_tick_before_the_first_build_plans_a_full_build(orchestration, tmp_path):
    scheduled_at = dt.datetime(2026, 5, 9, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    request = _tick(orchestration, tmp_path / "missing.duckdb", scheduled_at)
    config = request.run_config["ops"]["kefu_dbt_models"]["config"]
    assert (config["start_date"], config["end_date"], config["full_build"]) == (None, None, True)
    assert request.tags["kefu/window_start"] == "full"
    # Dagster runs the partitioned assets over partitions only: the data's days are not
    # known before the first load, so the range is the as-of day (dbt builds every day)
    assert request.tags["dagster/asset_partition_range_start"] == "2026-05-08"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-05-08"


def test_each_kind_of_run_builds_its_own_days(orchestration, monkeypatch, tmp_path):
    """effective_build for a backfill, the schedule's window and full builds, the sensor
    (the night's plan, unfinished builds included) and an empty warehouse."""
    from kefu.nightly import Plan

    assets = orchestration["assets"]
    night = (D(2026, 4, 28), D(2026, 5, 8))  # maturing days widened by an unfinished build
    plan = Plan(D(2026, 5, 8), night, 4, None, True, False, load_run_ids=(7,))
    found: list[Plan | None] = [plan]
    monkeypatch.setattr(assets, "plan_build", lambda db_path, as_of=None: found[0])
    config = assets.BuildConfig
    three = (D(2026, 5, 2), D(2026, 5, 4))

    def build(settings, partitions=None):
        return assets.effective_build(tmp_path / "w.duckdb", settings, partitions)

    assert build(config(), three) == (D(2026, 5, 8), three, [])  # a backfill
    window = config(as_of_date="2026-05-08", start_date="2026-05-04", end_date="2026-05-08")
    assert build(window, (D(2026, 5, 4), D(2026, 5, 8))) == (
        D(2026, 5, 8),
        (D(2026, 5, 4), D(2026, 5, 8)),
        [7],
    )
    full = config(as_of_date="2026-05-08", full_build=True, start_date="2026-05-04")
    assert build(full, (D(2026, 5, 1), D(2026, 5, 8))) == (D(2026, 5, 8), FULL_BUILD, [7])
    assert build(config(auto_window=True), (D(2026, 5, 7), D(2026, 5, 7))) == (
        D(2026, 5, 8),
        night,
        [7],
    )
    assert build(config()) == (D(2026, 5, 8), FULL_BUILD, [7])  # nothing at all
    found[0] = None  # no data yet: every day, except a backfill's own days
    assert build(config(auto_window=True), three) == (None, FULL_BUILD, [])
    assert build(full, three) == (D(2026, 5, 8), FULL_BUILD, [])
    assert build(config(), three) == (None, three, [])


def test_each_check_reports_its_own_results(orchestration):
    """A table's dbt tests go to its check; the sources' dbt tests (suite raw) to
    dq_sources, not to the GX suite of the same raw table."""
    from kefu.checks import ExpectationResult

    assets = orchestration["assets"]

    def result(suite: str, table: str) -> ExpectationResult:
        return ExpectationResult(
            suite=suite, table=table, expectation="x", column=None, is_critical=True,
            success=True, unexpected_count=0, detail=None,
        )  # fmt: skip

    results = [
        result("incoming", "raw.messages"),
        result("raw", "raw.messages"),
        result("intermediate", "intermediate.int_rounds_paired"),
        result("seeds", "seeds.rulesets"),
    ]
    landing = dg.AssetKey(["landing_files"])

    def tables_of(key: dg.AssetCheckKey) -> list[tuple[str, str]]:
        return [(r.suite, r.table) for r in assets.results_of(key, results)]

    assert tables_of(dg.AssetCheckKey(landing, "gx_incoming_messages")) == [
        ("incoming", "raw.messages")
    ]
    assert tables_of(dg.AssetCheckKey(landing, "dq_sources")) == [("raw", "raw.messages")]
    rounds = dg.AssetCheckKey(dg.AssetKey(["intermediate", "int_rounds_paired"]), "dq_intermediate")
    assert tables_of(rounds) == [("intermediate", "intermediate.int_rounds_paired")]
    rulesets = dg.AssetCheckKey(dg.AssetKey(["seeds", "rulesets"]), "dq_seeds")
    assert tables_of(rulesets) == [("seeds", "seeds.rulesets")]


def test_a_runs_partitions_are_its_window_or_the_days_with_data(orchestration):
    tags = orchestration["schedules"].partition_tags
    as_of = D(2026, 5, 8)

    def days(window, first_day=None):
        found = tags(window, as_of, first_day)
        return (
            found["dagster/asset_partition_range_start"],
            found["dagster/asset_partition_range_end"],
        )

    assert days((D(2026, 5, 4), D(2026, 5, 8))) == ("2026-05-04", "2026-05-08")
    assert days((None, None), D(2026, 4, 20)) == ("2026-04-20", "2026-05-08")  # full build
    assert days((None, None)) == ("2026-05-08", "2026-05-08")  # full, data days unknown
    assert days((None, D(2026, 5, 6)), D(2026, 4, 20)) == ("2026-04-20", "2026-05-06")
    # days before the first partition (2024-01-01) count from it
    assert days((D(2023, 12, 1), D(2024, 1, 3))) == ("2024-01-01", "2024-01-03")
    assert days((D(2023, 12, 1), D(2023, 12, 3))) == ("2024-01-01", "2024-01-01")


def test_sensor_requests_a_run_for_new_files_and_none_on_the_next_tick(orchestration, tmp_path):
    sensors = orchestration["sensors"]
    landing = write_landing(tmp_path / "landing", [D(2026, 5, 1)])
    resource = orchestration["resources"].KefuWarehouse(
        db=str(tmp_path / "w.duckdb"), landing=str(landing)
    )
    instance = dg.DagsterInstance.ephemeral()

    first = dg.build_sensor_context(instance=instance, resources={"warehouse": resource})
    request = sensors.landing_zone_sensor(first)
    assert isinstance(request, dg.RunRequest)
    assert request.run_config["ops"]["kefu_dbt_models"]["config"]["auto_window"] is True
    assert request.tags["kefu/new_files"] == "5"
    # no warehouse yet: the day before the tick's date in Shanghai (the run plans its days
    # after its load)
    yesterday = schedule_as_of(dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()).isoformat()
    assert request.tags["dagster/asset_partition_range_start"] == yesterday
    assert request.tags["dagster/asset_partition_range_end"] == yesterday

    second = dg.build_sensor_context(
        instance=instance, cursor=first.cursor, resources={"warehouse": resource}
    )
    assert isinstance(sensors.landing_zone_sensor(second), dg.SkipReason)

    write_day(landing, D(2026, 5, 2))
    (landing / "messages" / "~$open.xlsx").write_bytes(b"")  # Excel lock file: ignored
    third = dg.build_sensor_context(
        instance=instance, cursor=second.cursor or first.cursor, resources={"warehouse": resource}
    )
    request = sensors.landing_zone_sensor(third)
    assert isinstance(request, dg.RunRequest)
    assert request.tags["kefu/new_files"] == "2"


# ---------------------------------------------------------------- a real materialisation


@pytest.mark.slow
def test_a_backfill_of_three_days_materialises_exactly_those_partitions(orchestration, tmp_path):
    """The whole job (load, dbt, checks, publication) as one run over the partitions
    05-02 … 05-04 of a landing zone of five days, as a single-run backfill launches it."""
    assets = orchestration["assets"]
    resources = orchestration["resources"]
    days = [D(2026, 5, 1) + dt.timedelta(days=n) for n in range(5)]
    landing = write_landing(tmp_path / "landing", days)
    db_path = tmp_path / "warehouse.duckdb"
    published = tmp_path / "published" / "kefu.duckdb"
    assert isinstance(assets.kefu_dbt_models.backfill_policy, dg.BackfillPolicy)
    assert assets.kefu_dbt_models.backfill_policy.max_partitions_per_run is None  # one run
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [assets.landing_files, assets.kefu_dbt_models, assets.gx_suites, assets.publication],
        resources={
            "dbt": resources.dbt_resource(),
            "warehouse": resources.KefuWarehouse(
                db=str(db_path), landing=str(landing), publish=str(published)
            ),
        },
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "2026-05-02",
            "dagster/asset_partition_range_end": "2026-05-04",
        },
        raise_on_error=False,  # failures are asserted below, with the check evaluations
    )
    dbt_step = [e for e in result.all_events if e.step_key == "kefu_dbt_models"]
    assert not [e for e in dbt_step if e.is_failure], "the dbt build failed"
    three = {"2026-05-02", "2026-05-03", "2026-05-04"}
    for key in [
        dg.AssetKey(["marts", "shop_daily_kpis"]),
        dg.AssetKey(["intermediate", "int_messages_classified"]),
    ]:
        assert instance.get_materialized_partitions(key) == three, key
    run = instance.get_run_by_id(result.run_id)
    assert (run.tags["kefu/window_start"], run.tags["kefu/window_end"]) == (
        "2026-05-02",
        "2026-05-04",
    )

    with duckdb.connect(str(db_path)) as con:
        marts = warehouse.existing_tables(con, "marts")
        rows = con.execute(
            "select biz_date, sum(consult_buyer_cnt) from marts.agent_daily_kpis"
            " group by biz_date order by biz_date"
        ).fetchall()
        builds = con.execute(
            "select status, window_start, window_end, load_run_ids from raw.build_runs"
        ).fetchall()
    assert set(warehouse.mart_names()) <= marts
    assert rows == [(D(2026, 5, 2), 3), (D(2026, 5, 3), 3), (D(2026, 5, 4), 3)]
    # one dbt build for the three days; a backfill takes no load run in, so the next
    # nightly still builds what was loaded
    assert builds == [("built", D(2026, 5, 2), D(2026, 5, 4), [])]

    evaluations = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }
    assert evaluations[("landing_files", "no_rejected_files")] is True
    mart_checks = [passed for (key, name), passed in evaluations.items() if name == "dq_marts"]
    assert mart_checks and all(mart_checks), evaluations
    assert result.success, evaluations
    with duckdb.connect(str(published), read_only=True) as con:
        window = con.execute("select window_start, window_end from marts.publication").fetchall()
        schemas = con.execute("select distinct schema_name from duckdb_tables()").fetchall()
    assert window == [(D(2026, 5, 2), D(2026, 5, 4))]
    assert schemas == [("marts",)]

    # The schedule's full build, after partitioned runs: over the partitions of the days
    # with data, every day built, the incremental tables made anew as `kefu build` makes
    # them (the comment is gone from a new table), dbt's tests run in the checks step.
    schedules, jobs = orchestration["schedules"], orchestration["jobs"]
    with duckdb.connect(str(db_path)) as con:
        con.execute("comment on table marts.fct_rounds is 'before'")
    as_of = D(2026, 5, 5)
    full = dg.materialize(
        [assets.landing_files, assets.kefu_dbt_models, assets.gx_suites],
        resources={
            "dbt": resources.dbt_resource(),
            "warehouse": resources.KefuWarehouse(
                db=str(db_path), landing=str(landing), publish=str(published)
            ),
        },
        instance=instance,
        run_config=jobs.build_run_config(as_of, FULL_BUILD),
        tags={
            **assets.window_tags(as_of, FULL_BUILD),
            **schedules.partition_tags(FULL_BUILD, as_of, schedules.first_data_day(db_path)),
        },
        raise_on_error=False,
    )
    failures = [e.message for e in full.all_events if e.is_step_failure]
    assert full.success, failures
    assert instance.get_materialized_partitions(dg.AssetKey(["marts", "fct_rounds"])) == three | {
        "2026-05-01",
        "2026-05-05",
    }
    with duckdb.connect(str(db_path)) as con:
        comment = con.execute(
            "select comment from duckdb_tables() where table_name = 'fct_rounds'"
        ).fetchone()[0]
        built = con.execute(
            "select count(distinct biz_date) from marts.agent_daily_kpis"
        ).fetchone()[0]
        last = con.execute(
            "select window_start, window_end from raw.build_runs order by build_id desc limit 1"
        ).fetchone()
    assert comment is None
    assert built == 5
    assert last == (None, None)
    full_checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in full.get_asset_check_evaluations()
    }
    assert all(full_checks.values()), full_checks
    # every check is one of the checks step's (no dbt test as a check of the dbt step),
    # and the intermediate models', the seeds' and the sources' tests are among them
    assert set(full_checks) == {
        (key.asset_key.to_user_string(), key.name) for key in assets.GX_CHECKS
    } | {("landing_files", "no_rejected_files")}
    assert {name for _, name in full_checks} >= {"dq_intermediate", "dq_seeds", "dq_sources"}
    with duckdb.connect(str(db_path)) as con:
        tested = dict(
            con.execute(
                "select suite, count(*) from marts.dq_results where suite in"
                " ('raw', 'seeds', 'intermediate') group by suite"
            ).fetchall()
        )
    assert set(tested) == {"raw", "seeds", "intermediate"}, tested


def _checked_warehouse(db_path, success: bool):
    with duckdb.connect(str(db_path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.dq_results as select 'marts' as suite, true as is_critical,"
            f" {str(success).lower()} as success"
        )
        create_raw_schema(con)
        warehouse.finish_build(con, warehouse.start_build(con, "test", None, FULL_BUILD, []))
    return db_path


def test_publication_asset_publishes_the_window_of_its_run(orchestration, tmp_path):
    assets = orchestration["assets"]
    db_path = _checked_warehouse(tmp_path / "w.duckdb", success=True)
    published = tmp_path / "bi" / "kefu.duckdb"
    resource = orchestration["resources"].KefuWarehouse(db=str(db_path), publish=str(published))
    tags = assets.window_tags(D(2026, 5, 8), (D(2026, 5, 4), D(2026, 5, 8)))
    result = dg.materialize([assets.publication], resources={"warehouse": resource}, tags=tags)
    assert result.success
    sql = (
        "select as_of_date, window_start, window_end, is_full_build, checks_passed"
        " from marts.publication"
    )
    expected = [(D(2026, 5, 8), D(2026, 5, 4), D(2026, 5, 8), False, True)]
    with duckdb.connect(str(db_path)) as con:
        assert con.execute(sql).fetchall() == expected
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute(sql).fetchall() == expected
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
    assert sorted(tables) == [("marts", "dq_results"), ("marts", "publication")]


def test_publication_asset_refuses_after_a_failed_critical_check(orchestration, tmp_path):
    assets = orchestration["assets"]
    db_path = _checked_warehouse(tmp_path / "w.duckdb", success=False)
    published = tmp_path / "bi" / "kefu.duckdb"
    resource = orchestration["resources"].KefuWarehouse(db=str(db_path), publish=str(published))
    tags = assets.window_tags(D(2026, 5, 8), FULL_BUILD)
    result = dg.materialize(
        [assets.publication], resources={"warehouse": resource}, tags=tags, raise_on_error=False
    )
    assert not result.success
    with duckdb.connect(str(db_path)) as con:
        assert "publication" not in warehouse.existing_tables(con, "marts")
    assert not published.exists()


# ---------------------------------------------------------------- instance settings


def test_dagster_yaml_queues_runs_one_kefu_run_at_a_time_without_telemetry(tmp_path):
    from dagster._core.run_coordinator import QueuedRunCoordinator

    (tmp_path / "dagster.yaml").write_text((PROJECT_DIR / "dagster.yaml").read_text())
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        queue = instance.get_concurrency_config().run_queue_config
        limits = [(limit["key"], limit["limit"]) for limit in queue.tag_concurrency_limits]
        assert ("kefu/warehouse", 1) in limits
        assert instance.telemetry_enabled is False
    finally:
        instance.dispose()
    import orchestration.jobs as jobs

    assert jobs.nightly_job.tags["kefu/warehouse"] == "writer"
    makefile = (PROJECT_DIR / "Makefile").read_text()
    assert "DAGSTER_HOME=$(DAGSTER_HOME_DIR)" in makefile
    assert "cp dagster.yaml $(DAGSTER_HOME_DIR)/dagster.yaml" in makefile


def test_a_runs_checks_cover_the_days_of_every_build_not_published_since(tmp_path):
    """Run 2's checks failed (its build is recorded, not published); run 3's checks cover
    its own days and run 2's, which its publication copies too."""
    from kefu.build import BuildWindow
    from orchestration.assets import checked_days

    D = dt.date
    target = tmp_path / "published" / "kefu.duckdb"
    target.parent.mkdir()
    target.write_bytes(b"the last publication")
    db = tmp_path / "w.duckdb"
    run3 = BuildWindow(D(2026, 5, 4), D(2026, 5, 6))
    assert checked_days(db, run3, target) == run3  # no build recorded: its own days
    with duckdb.connect(str(db)) as con:
        first = warehouse.start_build(con, "dagster run 1", D(2026, 5, 1), (None, None), [1])
        warehouse.finish_build(con, first)
        warehouse.mark_published(con, first)
        warehouse.record_published_file(con, first, target)
        second = warehouse.start_build(
            con, "dagster run 2", D(2026, 5, 3), (D(2026, 5, 2), D(2026, 5, 3)), [2]
        )
        warehouse.finish_build(con, second)
        third = warehouse.start_build(
            con, "dagster run 3", D(2026, 5, 6), (run3.start, run3.end), []
        )
        warehouse.finish_build(con, third)
    assert checked_days(db, run3, target) == BuildWindow(D(2026, 5, 2), D(2026, 5, 6))
    # never fewer than the run's own days (the last build may be another writer's)
    wider = BuildWindow(D(2026, 5, 4), D(2026, 5, 8))
    assert checked_days(db, wider, target) == BuildWindow(D(2026, 5, 2), D(2026, 5, 8))
    assert checked_days(db, BuildWindow(), target) == BuildWindow()  # a full run: every day
    target.write_bytes(b"another file")  # not the last publication's: every day
    assert checked_days(db, run3, target) == BuildWindow()
