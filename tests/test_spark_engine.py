"""One SQL, two engines: the same landing zone built on DuckDB and
on Spark (dbt-spark, a local SparkSession) gives the same marts, cell by cell.

One warehouse holds a generated demo zone (50k messages, every demo shop and
platform) and the hand-made scenarios of the metric tests (each in its own shops),
so one DuckDB build and one Spark build cover both; then a 3-day window build on
Spark must leave the marts exactly as the full build made them, and so must a window
build of a day that lost every row. The Spark session is one per test process
(kefu.spark.session), started by the first Spark build here. The full Spark build and
the lost-day window build run the data tests on Spark (the whole zone, then the
window's days); the 3-day window build skips them: the comparison checks every cell.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from kefu.build import BuildWindow, run_dbt
from kefu.cli import main
from kefu.demo_data import SHOPS, generate_landing
from kefu.loader import load_landing
from kefu.paths import PROJECT_DIR
from kefu.schema import ensure_raw_schema
from kefu.spark.build import build_spark, dbt_args
from kefu.spark.compare import compare_marts, mart_keys, spark_mart_folder
from kefu.spark.session import spark_session, stop_spark_session
from tests import test_conversion_metrics, test_kpi_marts, test_service_metrics
from tests.support import write_raw

# The generator writes about the number asked for: ask a little more than the 50k needed.
GENERATED_MESSAGES = 50_500
MIN_GENERATED_MESSAGES = 50_000
DEMO_START = dt.date(2026, 10, 1)
# Hand-made rows go in after the generated files, as later "files" of their own.
HAND_MADE_FILE_IDS = range(9001, 9004)

pytestmark = pytest.mark.slow


def hand_made_zones() -> list[dict[str, list[dict]]]:
    """The scenarios of the service, conversion and KPI tests (their own shops)."""
    return [
        test_service_metrics.scenario_rows(),
        test_conversion_metrics.first_load(),
        test_kpi_marts.scenario_rows(),
    ]


@pytest.fixture(scope="module")
def zone(tmp_path_factory) -> Iterator[dict[str, Path]]:
    """A warehouse loaded with both zones and built on DuckDB (models, seeds and unit
    tests; the data tests run in the other test modules) and on Spark (everything,
    data tests included: a failing test fails the build)."""
    root = tmp_path_factory.mktemp("engines")
    db_path = root / "warehouse.duckdb"
    generate_landing(root / "landing", messages=GENERATED_MESSAGES, start_date=DEMO_START)
    report = load_landing(db_path, root / "landing")
    assert report.loaded and not report.rejected
    for file_id, rows in zip(HAND_MADE_FILE_IDS, hand_made_zones(), strict=True):
        write_raw(db_path, rows, file_id=file_id)
    run_dbt(db_path, ["build", "--exclude-resource-type", "test"])
    spark_dir = root / "spark-warehouse"
    with pytest.MonkeyPatch.context() as patch:
        # Small data: two shuffle partitions (one per core) beat the default eight.
        patch.setenv("KEFU_SPARK_SHUFFLE_PARTITIONS", "2")
        build_spark(db_path, spark_dir, data_tests=True)
        yield {"db": db_path, "spark": spark_dir}
    stop_spark_session()


def test_generated_zone_has_every_demo_shop_and_platform(zone):
    demo_shops = {shop.shop_id for shop in SHOPS}
    with duckdb.connect(str(zone["db"]), read_only=True) as con:
        (messages,) = con.execute(
            "select count(*) from raw.messages where shop_id in (select unnest(?))",
            [sorted(demo_shops)],
        ).fetchone()
        shops = {
            row[0] for row in con.execute("select distinct shop_id from raw.messages").fetchall()
        }
        platforms = {row[0] for row in con.execute("select platform from raw.shops").fetchall()}
    assert messages >= MIN_GENERATED_MESSAGES
    assert demo_shops <= shops
    assert {shop.platform for shop in SHOPS} <= platforms


def test_marts_are_parquet_tables_of_database_marts(zone):
    for mart in ("agent_daily_kpis", "shop_daily_kpis", "fct_order_credits"):
        assert any(spark_mart_folder(zone["spark"], mart).rglob("*.parquet")), mart
    # Per-day marts are partitioned by biz_date (a window build overwrites its days).
    assert any(spark_mart_folder(zone["spark"], "agent_daily_kpis").glob("biz_date=*"))


def test_every_mart_agrees_cell_by_cell(zone):
    differences = compare_marts(zone["db"], zone["spark"])
    assert [d.describe() for d in differences] == []


def test_every_mart_model_is_compared_on_a_key(zone):
    marts = sorted(path.stem for path in (PROJECT_DIR / "models" / "marts").rglob("*.sql"))
    keys = mart_keys()
    assert len(marts) >= 19
    assert [mart for mart in marts if not keys.get(mart)] == []


def test_a_changed_cell_is_reported_by_mart_and_column(zone, tmp_path):
    changed = tmp_path / "changed.duckdb"
    shutil.copy(zone["db"], changed)
    with duckdb.connect(str(changed)) as con:
        con.execute(
            "update marts.agent_daily_kpis set cs_sales_amt = cs_sales_amt + 0.01"
            " where (shop_id, agent_id, biz_date) in"
            " (select (shop_id, agent_id, biz_date) from marts.agent_daily_kpis limit 1)"
        )
        con.execute(
            # By the whole key: the hand-made shops reuse order ids across shops. On
            # DuckDB marts.fct_order_credits is a view of int_orders_credited.
            "delete from intermediate.int_orders_credited where (shop_id, order_id) in"
            " (select (shop_id, order_id) from marts.fct_order_credits limit 1)"
        )
    differences = compare_marts(changed, zone["spark"], ["agent_daily_kpis", "fct_order_credits"])
    found = {(d.mart, d.column, d.count) for d in differences}
    assert ("agent_daily_kpis", "cs_sales_amt", 1) in found
    assert ("fct_order_credits", "key (shop_id, order_id)", 1) in found
    assert len(found) == 2


def test_a_three_day_window_build_on_spark_gives_the_full_build_marts(zone):
    start = DEMO_START + dt.timedelta(days=3)
    build_spark(
        zone["db"],
        zone["spark"],
        BuildWindow(start=start, end=start + dt.timedelta(days=2)),
        data_tests=False,
    )
    differences = compare_marts(zone["db"], zone["spark"])
    assert [d.describe() for d in differences] == []


def test_a_window_day_that_lost_every_row_loses_its_spark_partition(zone):
    """A day of the window whose input is gone must not keep its old partition:
    insert_overwrite alone replaces only the days the build writes. Rows planted on the
    day after the last day of data (as if that day's input had been deleted since) in a
    per-day mart and in the 30-day assessment (dropped by its shifted window) must be
    gone after a window build of that day, and every mart must again equal DuckDB's."""
    from pyspark.sql import functions as F  # noqa: N812 (the optional Spark extra)

    session = spark_session(zone["spark"])
    with duckdb.connect(str(zone["db"]), read_only=True) as con:
        (last_day,) = con.execute("select max(biz_date) from marts.agent_daily_kpis").fetchone()
    lost_day = last_day + dt.timedelta(days=1)
    planted = ["marts.agent_daily_kpis", "marts.platform_service_assessed"]
    for table in planted:
        session.sql(f"select * from {table} where biz_date = date '{last_day}' limit 1").withColumn(
            "biz_date", F.lit(lost_day)
        ).write.insertInto(table)
        assert (
            session.sql(f"select count(*) from {table} where biz_date = date '{lost_day}'").first()[
                0
            ]
            == 1
        )
    assert compare_marts(zone["db"], zone["spark"], ["agent_daily_kpis"]) != []

    build_spark(zone["db"], zone["spark"], BuildWindow(start=lost_day, end=lost_day))

    for table in planted:
        partitions = [row[0] for row in session.sql(f"show partitions {table}").collect()]
        assert f"biz_date={lost_day}" not in partitions, table
    differences = compare_marts(zone["db"], zone["spark"])
    assert [d.describe() for d in differences] == []


def test_spark_builds_without_a_window_start_afresh_and_window_builds_do_not():
    assert "--full-refresh" in dbt_args(BuildWindow(), full_refresh=False)
    windowed = dbt_args(BuildWindow(start=DEMO_START, end=DEMO_START), full_refresh=False)
    assert "--full-refresh" not in windowed
    assert windowed[:3] == ["build", "--target", "spark"]
    assert dbt_args(BuildWindow(), False, data_tests=False)[-2:] == [
        "--exclude-resource-type",
        "test",
    ]


def test_spark_options_without_engine_spark_are_a_usage_error(tmp_path, capsys):
    db_path = tmp_path / "w.duckdb"
    ensure_raw_schema(db_path)
    status = main(["build", "--db", str(db_path), "--spark-warehouse", str(tmp_path / "s")])
    assert status == 2
    assert "--engine spark" in capsys.readouterr().err
