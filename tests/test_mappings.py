"""Column mappings as data (kefu/mappings/*.yaml, <landing>/mappings/, --mappings DIR):
each shipped sample export loads through its mapping into the expected raw rows, and a
user's own mapping (constant shop, value map, time format) makes a failing file load."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from kefu.loading.mappings import MappingError, load_mappings
from kefu.loading.report import LoadReport, Outcome
from kefu.loading.run import load_landing
from tests.landing import write_csv

SAMPLES = Path(__file__).parent / "samples"
LOAD_DAY = dt.date(2026, 11, 30)
T = dt.datetime


def load(db: Path, landing: Path, mappings_dir: Path | None = None) -> LoadReport:
    return load_landing(db, landing, load_day=LOAD_DAY, mappings_dir=mappings_dir)


def query(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def shop_mapping(landing: Path, extends: str, entity: str, shop: str) -> None:
    """The user's one-line-of-data mapping: the shipped one, with this shop."""
    (landing / "mappings").mkdir(parents=True, exist_ok=True)
    (landing / "mappings" / f"my_{extends}.yaml").write_text(
        f"name: my_{extends}\nentity: {entity}\nextends: {extends}\n"
        f"constants:\n  shop_id: {shop}\n",
        encoding="utf-8",
    )


def land_sample(landing: Path, entity: str, name: str) -> None:
    (landing / entity).mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLES / name, landing / entity / name)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


ORDER_COLUMNS = (
    "select order_id, shop_id, buyer_id, created_at, paid_at, amount, quantity, status, "
    "refund_amount from raw.orders order by _row_num"
)


def test_taobao_order_report_loads_with_a_constant_shop(db: Path, landing: Path) -> None:
    land_sample(landing, "orders", "ExportOrderList202611201000.csv")
    shop_mapping(landing, "taobao_orders", "orders", "tb_flagship")
    report = load(db, landing)
    assert not report.rejected, report.reason()
    assert query(db, ORDER_COLUMNS) == [
        (
            "3012345678901234567", "tb_flagship", "tb买家甲", T(2026, 11, 20, 10, 0),
            T(2026, 11, 20, 10, 3), Decimal("189.00"), 1, "交易成功", Decimal("0.00"),
        ),
        (
            "3012345678901234568", "tb_flagship", "tb买家乙", T(2026, 11, 20, 11, 30),
            None, Decimal("0.00"), 2, "等待买家付款", Decimal("0.00"),
        ),
        (
            "3012345678901234569", "tb_flagship", "tb买家甲", T(2026, 11, 21, 9, 15, 30),
            T(2026, 11, 21, 9, 16, 2), Decimal("99.00"), 1, "交易关闭", Decimal("99.00"),
        ),
    ]  # fmt: skip
    assert query(db, "select encoding from raw.load_files") == [("gb18030",)]
    assert "mappings" in [f.relative_path for f in report.files if f.outcome is Outcome.IGNORED]


def test_taobao_order_report_without_a_shop_is_rejected_naming_shop_id(
    db: Path, landing: Path
) -> None:
    land_sample(landing, "orders", "ExportOrderList202611201000.csv")
    report = load(db, landing)
    message = report.file("ExportOrderList202611201000.csv").message
    assert message == "missing required column: shop_id (店铺ID)"


def test_pinduoduo_export_loads(db: Path, landing: Path) -> None:
    land_sample(landing, "orders", "拼多多订单导出_20261120.csv")
    shop_mapping(landing, "pinduoduo_orders", "orders", "pdd_1")
    report = load(db, landing)
    assert not report.rejected, report.reason()
    assert query(db, ORDER_COLUMNS) == [
        (
            "261120-012345678901234", "pdd_1", "pdd_7a3f", T(2026, 11, 20, 8, 1, 2),
            T(2026, 11, 20, 8, 1, 2), Decimal("52.90"), 1, "已收货", Decimal("0.00"),
        ),
        (
            "261120-012345678901299", "pdd_1", "pdd_91bc", T(2026, 11, 20, 21, 45, 10),
            T(2026, 11, 20, 21, 45, 10), Decimal("39.80"), 2, "已发货退款成功", Decimal("0.00"),
        ),
    ]  # fmt: skip


def test_douyin_export_loads(db: Path, landing: Path) -> None:
    land_sample(landing, "orders", "抖店订单导出_20261120.csv")
    shop_mapping(landing, "douyin_orders", "orders", "dy_1")
    report = load(db, landing)
    assert not report.rejected, report.reason()
    assert query(db, ORDER_COLUMNS) == [
        (
            "6931234567890123456", "dy_1", "dy_用户A", T(2026, 11, 20, 20, 0, 5),
            T(2026, 11, 20, 20, 1), Decimal("119.00"), 1, "已发货", Decimal("0.00"),
        ),
        (
            "6931234567890123999", "dy_1", "dy_用户B", T(2026, 11, 20, 21, 10),
            None, Decimal("47.70"), 3, "已关闭", Decimal("0.00"),
        ),
    ]  # fmt: skip


def test_kuaishou_export_loads(db: Path, landing: Path) -> None:
    land_sample(landing, "orders", "快手小店订单_20261120.csv")
    shop_mapping(landing, "kuaishou_orders", "orders", "ks_1")
    report = load(db, landing)
    assert not report.rejected, report.reason()
    assert query(db, ORDER_COLUMNS) == [
        (
            "2611200000123", "ks_1", "ks_买家1", T(2026, 11, 20, 12, 0),
            T(2026, 11, 20, 12, 0, 30), Decimal("39.90"), 1, "已发货", Decimal("0.00"),
        ),
    ]  # fmt: skip


def test_qianniu_chat_export_loads_with_derived_ids_once(db: Path, landing: Path) -> None:
    land_sample(landing, "messages", "聊天记录_20261120.csv")
    shop_mapping(landing, "qianniu_messages", "messages", "tb_flagship")
    report = load(db, landing)
    assert not report.rejected, report.reason()
    rows = query(
        db,
        "select message_id, shop_id, buyer_id, agent_id, sender_role, sent_at, content "
        "from raw.messages order by _row_num",
    )
    assert {row[1:4] for row in rows} == {("tb_flagship", "tb买家甲", "旗舰店:小王")}
    assert [row[4:] for row in rows] == [
        ("buyer", T(2026, 11, 20, 9, 58), "在吗？羽绒服有M码吗"),
        ("agent", T(2026, 11, 20, 9, 58, 40), "亲，有的哦，M码现货"),
        ("auto", T(2026, 11, 20, 9, 58, 1), "您好，欢迎光临"),
    ]
    ids = [row[0] for row in rows]
    assert len(set(ids)) == 3 and all(i.startswith("h") and len(i) == 21 for i in ids)
    # the same chat exported again under another name: every row is a duplicate
    shutil.copy(SAMPLES / "聊天记录_20261120.csv", landing / "messages" / "聊天记录_again.csv")
    (landing / "messages" / "聊天记录_again.csv").write_bytes(
        (SAMPLES / "聊天记录_20261120.csv").read_bytes() + b"\r\n"
    )
    again = load(db, landing).file("聊天记录_again.csv")
    assert (again.rows_loaded, again.rows_duplicate) == (0, 3)


def test_user_mapping_with_constant_shop_and_value_map_loads_a_failing_file(
    db: Path, landing: Path, tmp_path: Path
) -> None:
    header = ["订单号码", "顾客", "下单日期", "付款金额", "交易状态"]
    rows = [
        ["A1", "c1", "2026/11/20 10:00", "10.50", "待付款"],
        ["A2", "c2", "2026/11/21 08:30", "20", "已完成"],
    ]
    write_csv(landing / "orders" / "mine.csv", header, rows)
    first = load(db, landing)
    assert first.file("mine.csv").outcome is Outcome.REJECTED
    assert first.file("mine.csv").message.startswith("missing required columns: order_id")
    config = tmp_path / "config"
    config.mkdir()
    (config / "shop_x.yaml").write_text(
        """
name: shop_x_orders
entity: orders
files: ["mine*.csv"]
columns:
  订单号码: order_id
  顾客: buyer_id
  下单日期: created_at
  付款金额: amount
  交易状态: status
constants: {shop_id: shop_x}
values:
  status: {待付款: 等待买家付款, 已完成: 交易成功}
time_formats: ["%Y/%m/%d %H:%M"]
""",
        encoding="utf-8",
    )
    second = load(db, landing, mappings_dir=config)
    assert not second.rejected, second.reason()
    assert query(db, "select order_id, shop_id, buyer_id, created_at, amount, status " + (
        "from raw.orders order by order_id"
    )) == [
        ("A1", "shop_x", "c1", T(2026, 11, 20, 10, 0), Decimal("10.50"), "等待买家付款"),
        ("A2", "shop_x", "c2", T(2026, 11, 21, 8, 30), Decimal("20.00"), "交易成功"),
    ]  # fmt: skip


def test_a_mapping_applies_only_to_its_files_and_folders(db: Path, landing: Path) -> None:
    header = ["单号", "客户", "时间", "金额"]
    write_csv(
        landing / "orders" / "shop_a" / "x.csv", header, [["o1", "b1", "2026-11-20 10:00", "1"]]
    )
    write_csv(
        landing / "orders" / "other" / "x.csv", header, [["o2", "b2", "2026-11-20 10:00", "2"]]
    )
    (landing / "mappings").mkdir()
    (landing / "mappings" / "a.yaml").write_text(
        "entity: orders\nfolders: [shop_a]\nconstants: {shop_id: A}\n"
        "columns: {单号: order_id, 客户: buyer_id, 时间: created_at, 金额: amount}\n",
        encoding="utf-8",
    )
    report = load(db, landing)
    assert report.file("orders/shop_a/x.csv").outcome is Outcome.LOADED
    assert report.file("orders/other/x.csv").outcome is Outcome.REJECTED
    assert query(db, "select order_id, shop_id from raw.orders") == [("o1", "A")]


def test_the_built_in_aliases_are_the_default_mappings() -> None:
    mappings = load_mappings()
    default = mappings.default("messages")
    assert default.origin.endswith("kefu/mappings/default_messages.yaml")
    assert default.lookup()["发送时间"] == ("sent_at",)
    assert default.lookup()["sent_at"] == ("sent_at",)
    assert default.label("sent_at") == "sent_at (发送时间)"
    taobao = mappings.resolve("taobao_orders")
    assert taobao.lookup()["买家会员名"] == ("buyer_id",)
    assert taobao.lookup()["实付金额"] == ("amount",)  # extends the default


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("entity: order\n", "entity 'order' is not one of"),
        ("entity: orders\ncolumns: {订单: order_number}\n", "'order_number' is not a column"),
        ("entity: orders\nextends: nope\n", "extends 'nope', no such mapping"),
        ("entity: orders\ncolumn: {a: order_id}\n", "unknown key 'column'"),
        ("entity: [orders\n", "cannot be read as YAML"),
    ],
)
def test_a_bad_user_mapping_rejects_the_load_naming_the_file(
    db: Path, landing: Path, text: str, reason: str
) -> None:
    (landing / "mappings").mkdir()
    (landing / "mappings" / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=reason):
        load_mappings(landing)
    report = load(db, landing)
    assert report.rejected and reason in report.reason()
    assert "bad.yaml" in report.reason()
