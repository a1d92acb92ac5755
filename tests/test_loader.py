"""The loader (docs/landing.md §1): one test per rule, on small hand-made files in tmp_path."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from kefu.cli import main
from kefu.loader import CRASH_ENV, LoadReport, Outcome, load_landing
from kefu.loading.readers import cell_text
from kefu.paths import PROJECT_DIR

MESSAGE_HEADER = [
    "message_id",
    "shop_id",
    "buyer_id",
    "agent_id",
    "sender_role",
    "sent_at",
    "msg_type",
    "content",
]
ORDER_HEADER = [
    "order_id",
    "shop_id",
    "buyer_id",
    "created_at",
    "paid_at",
    "amount",
    "quantity",
    "status",
    "refund_amount",
    "updated_at",
]
RATING_HEADER = ["rating_id", "shop_id", "buyer_id", "agent_id", "rated_at", "score"]


# Hand-made exports -------------------------------------------------------------------------


def message(
    message_id: str,
    sent_at: str = "2026-05-01 10:00:00",
    role: str = "buyer",
    shop: str = "s1",
    content: str = "你好",
) -> list[Any]:
    return [message_id, shop, "buyer1", "agent1", role, sent_at, "text", content]


def order(
    order_id: str,
    amount: str = "99.00",
    status: str = "paid",
    updated_at: str = "",
    **values: str,
) -> list[Any]:
    row = {
        "order_id": order_id,
        "shop_id": "s1",
        "buyer_id": "buyer1",
        "created_at": "2026-05-01 10:00:00",
        "paid_at": "2026-05-01 10:05:00",
        "amount": amount,
        "quantity": "1",
        "status": status,
        "refund_amount": "0",
        "updated_at": updated_at,
    }
    row.update(values)
    return [row[name] for name in ORDER_HEADER]


def rating(rating_id: str, score: str = "5", rated_at: str = "2026-05-01 11:00:00") -> list[Any]:
    return [rating_id, "s1", "buyer1", "agent1", rated_at, score]


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    encoding: str = "utf-8",
    newline: str = "\n",
) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    other = workbook.create_sheet("notes")
    other.append(["this sheet is not read"])
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def write_parquet(path: Path, table: pa.Table) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def write_jsonl(path: Path, lines: Sequence[dict[str, Any] | str]) -> Path:
    text = "".join(
        (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
        for line in lines
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def load(db: Path, landing: Path) -> LoadReport:
    return load_landing(db, landing)


def query(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def counts(db: Path) -> dict[str, int]:
    tables = [
        "load_files",
        "quarantine",
        "shops",
        "agents",
        "filters",
        "messages",
        "orders",
        "ratings",
    ]
    return {table: query(db, f"select count(*) from raw.{table}")[0][0] for table in tables}


def quarantine(db: Path) -> list[tuple[Any, ...]]:
    return query(db, "select file_path, line, column_name, reason from raw.quarantine order by all")


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# Formats and encodings --------------------------------------------------------------------


def test_utf8_csv_loads_every_row_with_its_line(db: Path, landing: Path) -> None:
    write_csv(landing / "messages/day1.csv", MESSAGE_HEADER, [message("m1"), message("m2")])
    report = load(db, landing)
    result = report.file("messages/day1.csv")
    assert (result.outcome, result.rows_read, result.rows_loaded) == (Outcome.LOADED, 2, 2)
    assert query(db, "select message_id, sent_at, _row_num from raw.messages order by 1") == [
        ("m1", ts("2026-05-01 10:00:00"), 2),
        ("m2", ts("2026-05-01 10:00:00"), 3),
    ]
    assert query(db, "select encoding, file_format, status from raw.load_files") == [
        ("utf-8", "csv", "loaded")
    ]


def test_utf8_csv_with_bom_and_crlf_loads(db: Path, landing: Path) -> None:
    write_csv(landing / "messages/a.csv", MESSAGE_HEADER, [message("m1")], "utf-8-sig", "\r\n")
    report = load(db, landing)
    assert report.file("a.csv").rows_loaded == 1
    assert query(db, "select message_id, content, encoding from raw.messages, raw.load_files") == [
        ("m1", "你好", "utf-8-sig")
    ]


def test_gb18030_csv_with_chinese_headers_and_roles_loads(db: Path, landing: Path) -> None:
    header = ["消息ID", "店铺ID", "买家", "客服", "发送方", "发送时间", "内容"]
    rows = [
        ["m1", "s1", "买家甲", "客服小王", "买家", "2026-05-01 10:00:00", "在吗？"],
        ["m2", "s1", "买家甲", "客服小王", "客服", "2026-05-01 10:00:30", "在的，亲"],
        ["m3", "s1", "买家甲", "客服小王", "智能辅助", "2026-05-01 10:00:40", "推荐"],
        ["m4", "s1", "买家甲", "客服小王", "自动回复", "2026-05-01 10:00:41", "欢迎"],
        ["m5", "s1", "买家甲", "客服小王", "系统", "2026-05-01 10:00:42", "卡片"],
    ]
    write_csv(landing / "messages/千牛导出.csv", header, rows, "gb18030", "\r\n")
    report = load(db, landing)
    assert report.file("千牛导出.csv").rows_loaded == 5
    assert query(db, "select message_id, buyer_id, agent_id, sender_role from raw.messages") == [
        ("m1", "买家甲", "客服小王", "buyer"),
        ("m2", "买家甲", "客服小王", "agent"),
        ("m3", "买家甲", "客服小王", "assist"),
        ("m4", "买家甲", "客服小王", "auto"),
        ("m5", "买家甲", "客服小王", "system"),
    ]
    assert query(db, "select encoding from raw.load_files") == [("gb18030",)]


def test_xlsx_first_sheet_loads_with_excel_datetimes_as_local_time(db: Path, landing: Path) -> None:
    rows = [
        ["r1", "s1", "buyer1", "agent1", dt.datetime(2026, 5, 1, 9, 30, 0), 4.0],
        [None, None, None, None, None, None],  # an empty row: skipped, its line still counts
        ["r2", "s1", "buyer1", "agent1", dt.datetime(2026, 5, 1, 9, 31, 0, 999_999), "满意"],
        ["r3", "s1", "buyer1", "agent1", "2026-05-01 09:32:00", 7],
    ]
    write_xlsx(landing / "ratings/kuaishou.xlsx", RATING_HEADER, rows)
    report = load(db, landing)
    result = report.file("kuaishou.xlsx")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert query(db, "select rating_id, rated_at, score, _row_num from raw.ratings") == [
        ("r1", ts("2026-05-01 09:30:00"), "4", 2),
        ("r2", ts("2026-05-01 09:31:01"), "满意", 4),
    ]
    assert quarantine(db) == [("ratings/kuaishou.xlsx", 5, "score", "unknown score")]


def test_parquet_loads_typed_columns_and_converts_timestamptz(db: Path, landing: Path) -> None:
    table = pa.table(
        {
            "order_id": ["o1", "o2"],
            "shop_id": ["s1", "s1"],
            "buyer_id": ["b1", "b2"],
            "created_at": pa.array(
                [dt.datetime(2026, 5, 1, 10, 0), dt.datetime(2026, 5, 1, 11, 0)],
                pa.timestamp("us"),
            ),
            "paid_at": pa.array(
                [dt.datetime(2026, 5, 1, 2, 5, tzinfo=dt.UTC), None], pa.timestamp("us", "UTC")
            ),
            "amount": pa.array([Decimal("19.90"), Decimal("-1.00")], pa.decimal128(10, 2)),
            "quantity": pa.array([2, 1], pa.int64()),
        }
    )
    write_parquet(landing / "orders/2026-05-01.parquet", table)
    report = load(db, landing)
    assert report.file("2026-05-01.parquet").rows_loaded == 1
    assert query(db, "select order_id, created_at, paid_at, amount, quantity from raw.orders") == [
        ("o1", ts("2026-05-01 10:00:00"), ts("2026-05-01 10:05:00"), Decimal("19.90"), 2)
    ]
    assert quarantine(db) == [("orders/2026-05-01.parquet", 2, "amount", "negative amount")]


def test_jsonl_loads_with_numbers_and_line_numbers(db: Path, landing: Path) -> None:
    lines: list[dict[str, Any] | str] = [
        {"rating_id": 1, "shop_id": "s1", "buyer_id": "b1", "agent_id": "a1",
         "rated_at": "2026-05-01 10:00:00", "score": 5, "channel": "app"},
        "",  # a blank line: not a record, but it counts as a line
        {"rating_id": 2, "shop_id": "s1", "buyer_id": "b1", "agent_id": "a1",
         "rated_at": "2026-05-01 10:00:00", "score": 4.5},
    ]  # fmt: skip
    write_jsonl(landing / "ratings/r.jsonl", lines)
    report = load(db, landing)
    assert report.file("r.jsonl").rows_loaded == 1
    assert query(db, "select rating_id, score, channel, _row_num from raw.ratings") == [
        ("1", "5", "app", 1)
    ]
    assert quarantine(db) == [("ratings/r.jsonl", 3, "score", "unknown score")]


def test_headers_match_case_insensitively_and_extra_columns_are_ignored(
    db: Path, landing: Path
) -> None:
    header = [" Message ID", "SHOP_ID", "Buyer_Id", "agent_id ", "Sender-Role", "SENT_AT", "备注"]
    write_csv(landing / "messages/x.csv", header, [message("m1")[:6] + ["ignored"]])
    assert load(db, landing).file("x.csv").rows_loaded == 1
    assert query(db, "select message_id, msg_type, content from raw.messages") == [
        ("m1", None, None)
    ]


def test_chinese_aliases_accepted_for_every_entity(db: Path, landing: Path) -> None:
    write_csv(
        landing / "shops/s.csv",
        ["店铺ID", "平台", "店铺名称", "时区"],
        [["s1", "天猫", "旗舰店", "Asia/Shanghai"]],
    )
    write_csv(
        landing / "agents/a.csv",
        ["客服", "店铺ID", "客服名称", "组别", "工号"],
        [["a1", "s1", "小王", "售前", "E01"]],
    )
    write_csv(landing / "filters/f.csv", ["店铺ID", "买家", "原因"], [["s1", "b9", "广告"]])
    write_csv(
        landing / "orders/o.csv",
        ["订单号", "店铺ID", "买家", "下单时间", "付款时间", "实付金额", "件数", "退款金额"],
        [["o1", "s1", "b1", "2026-05-01 10:00:00", "", "¥1,299.50", "", "10"]],
    )
    write_csv(
        landing / "ratings/r.csv",
        ["评价ID", "店铺ID", "买家", "客服", "评价时间", "评分"],
        [["r1", "s1", "b1", "a1", "2026-05-01 10:00:00", "非常满意"]],
    )
    report = load(db, landing)
    assert not report.rejected, report.reason()
    assert query(db, "select shop_id, platform, shop_name from raw.shops") == [
        ("s1", "tmall", "旗舰店")
    ]
    assert query(db, "select agent_id, agent_name, team, employee_id from raw.agents") == [
        ("a1", "小王", "pre_sales", "E01")
    ]
    assert query(db, "select buyer_id, reason from raw.filters") == [("b9", "广告")]
    assert query(db, "select amount, quantity, refund_amount, paid_at from raw.orders") == [
        (Decimal("1299.50"), 1, Decimal("10.00"), None)
    ]
    assert query(db, "select score from raw.ratings") == [("非常满意",)]


# Timestamps -------------------------------------------------------------------------------


def test_local_timestamps_are_stored_as_read_in_every_layout(db: Path, landing: Path) -> None:
    layouts = [
        "2026-05-01 10:00:00",
        "2026/05/01 10:00:01",
        "2026-05-01T10:00:02",
        "2026-05-01 10:00:03.250",
        "2026/5/1 9:05",
    ]
    rows = [message(f"m{i}", sent_at) for i, sent_at in enumerate(layouts)]
    write_csv(landing / "messages/m.csv", MESSAGE_HEADER, rows)
    load(db, landing)
    assert [row[0] for row in query(db, "select sent_at from raw.messages order by 1")] == [
        ts("2026-05-01 09:05:00"),
        ts("2026-05-01 10:00:00"),
        ts("2026-05-01 10:00:01"),
        ts("2026-05-01 10:00:02"),
        ts("2026-05-01 10:00:03.250"),
    ]


def test_offset_timestamps_convert_to_the_shops_local_time(db: Path, landing: Path) -> None:
    write_csv(landing / "shops/shops.csv", ["shop_id", "timezone"], [["eu", "Europe/Berlin"]])
    rows = [
        message("m1", "2026-05-01T02:00:00Z"),  # s1 is not in shops/: Asia/Shanghai
        message("m2", "2026-05-01T10:00:00+08:00"),
        message("m3", "2026-05-01 03:00:00+0100"),
        message("m4", "2026-05-01T02:00:00Z", shop="eu"),  # CEST, UTC+2
        message("m5", "2026-05-01T02:00:00.5Z"),
    ]
    write_csv(landing / "messages/m.csv", MESSAGE_HEADER, rows)
    load(db, landing)
    assert query(db, "select message_id, sent_at from raw.messages order by 1") == [
        ("m1", ts("2026-05-01 10:00:00")),
        ("m2", ts("2026-05-01 10:00:00")),
        ("m3", ts("2026-05-01 10:00:00")),
        ("m4", ts("2026-05-01 04:00:00")),
        ("m5", ts("2026-05-01 10:00:00.5")),
    ]


# Vocabularies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "stored"),
    [
        ("buyer", "buyer"),
        ("BUYER", "buyer"),
        ("买家", "buyer"),
        ("agent", "agent"),
        ("客服", "agent"),
        ("人工客服", "agent"),
        ("assist", "assist"),
        ("智能辅助", "assist"),
        ("auto", "auto"),
        ("自动回复", "auto"),
        ("机器人", "auto"),
        ("system", "system"),
        ("系统", "system"),
        ("系统消息", "system"),
    ],
)
def test_sender_roles_are_normalised(db: Path, landing: Path, role: str, stored: str) -> None:
    write_csv(landing / "messages/m.csv", MESSAGE_HEADER, [message("m1", role=role)])
    load(db, landing)
    assert query(db, "select sender_role from raw.messages") == [(stored,)]


def test_rating_scores_are_normalised_and_unknown_ones_quarantined(db: Path, landing: Path) -> None:
    scores = ["1", "5", "4.0", " 3 ", "满意", "一般", "失望", "不满意", "非常满意", "非常不满意"]
    bad = ["4.5", "0", "6", "good"]
    rows = [rating(f"r{i}", score) for i, score in enumerate(scores + bad)]
    write_csv(landing / "ratings/r.csv", RATING_HEADER, rows)
    load(db, landing)
    stored = [row[0] for row in query(db, "select score from raw.ratings order by _row_num")]
    assert stored == ["1", "5", "4", "3", *scores[4:]]
    assert quarantine(db) == [
        ("ratings/r.csv", line, "score", "unknown score") for line in range(12, 16)
    ]


def test_platforms_are_normalised_and_teams_kept_loose(db: Path, landing: Path) -> None:
    write_csv(
        landing / "shops/s.csv",
        ["shop_id", "platform", "timezone"],
        [["s1", "拼多多", ""], ["s2", "JD", ""], ["s3", "ebay", ""], ["s4", "", "Mars/Base"]],
    )
    write_csv(
        landing / "agents/a.csv",
        ["agent_id", "shop_id", "team"],
        [["a1", "s1", "售后"], ["a2", "s1", "Pre_Sales"], ["a3", "s1", "夜班"], ["a4", "s1", ""]],
    )
    load(db, landing)
    assert query(db, "select shop_id, platform from raw.shops order by 1") == [
        ("s1", "pdd"),
        ("s2", "jd"),
    ]
    assert quarantine(db) == [
        ("shops/s.csv", 4, "platform", "unknown platform"),
        ("shops/s.csv", 5, "timezone", "unknown timezone"),
    ]
    assert query(db, "select agent_id, team from raw.agents order by 1") == [
        ("a1", "after_sales"),
        ("a2", "pre_sales"),
        ("a3", "夜班"),
        ("a4", None),
    ]


# Orders -----------------------------------------------------------------------------------


def test_order_defaults_quantity_1_refund_0_and_unpaid_is_null(db: Path, landing: Path) -> None:
    write_csv(
        landing / "orders/o.csv",
        ["order_id", "shop_id", "buyer_id", "created_at", "paid_at", "amount"],
        [["o1", "s1", "b1", "2026-05-01 10:00:00", "", "0"]],
    )
    load(db, landing)
    assert query(
        db, "select paid_at, amount, quantity, refund_amount, status, updated_at from raw.orders"
    ) == [(None, Decimal("0.00"), 1, Decimal("0.00"), None, None)]


def test_every_order_version_is_kept(db: Path, landing: Path) -> None:
    created = order("o1", status="created", updated_at="2026-05-01 10:00:00")
    paid = order("o1", status="paid", updated_at="2026-05-01 10:05:00")
    write_csv(landing / "orders/day1.csv", ORDER_HEADER, [created, order("o2")])
    write_csv(landing / "orders/day2.csv", ORDER_HEADER, [paid])
    load(db, landing)
    assert query(db, "select order_id, status, _file_id from raw.orders order by 3, 1") == [
        ("o1", "created", 1),
        ("o2", "paid", 1),
        ("o1", "paid", 2),
    ]


# Row rules -> quarantine ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "header", "good", "bad", "column", "reason"),
    [
        ("messages", MESSAGE_HEADER, message("m1"), message(""), "message_id",
         "missing required value"),
        ("messages", MESSAGE_HEADER, message("m1"), message("m2", "   "), "sent_at",
         "missing required value"),
        ("messages", MESSAGE_HEADER, message("m1"), message("m2", "2026-13-01 10:00:00"),
         "sent_at", "unparseable timestamp"),
        ("messages", MESSAGE_HEADER, message("m1"), message("m2", "2026-05-01"), "sent_at",
         "unparseable timestamp"),
        ("messages", MESSAGE_HEADER, message("m1"), message("m2", "yesterday"), "sent_at",
         "unparseable timestamp"),
        ("messages", MESSAGE_HEADER, message("m1"), message("m2", role="顾客"), "sender_role",
         "unknown sender_role"),
        ("orders", ORDER_HEADER, order("o1"), order("o2", amount="-5"), "amount",
         "negative amount"),
        ("orders", ORDER_HEADER, order("o1"), order("o2", amount="abc"), "amount",
         "non-numeric amount"),
        ("orders", ORDER_HEADER, order("o1"), order("o2", amount=""), "amount",
         "missing required value"),
        ("orders", ORDER_HEADER, order("o1"), order("o2", quantity="0"), "quantity",
         "bad quantity"),
        ("orders", ORDER_HEADER, order("o1"), order("o2", quantity="1.5"), "quantity",
         "bad quantity"),
        ("orders", ORDER_HEADER, order("o1"), order("o2", quantity="two"), "quantity",
         "bad quantity"),
        ("orders", ORDER_HEADER, order("o1"), order("o2", refund_amount="-1"), "refund_amount",
         "negative amount"),
        ("orders", ORDER_HEADER, order("o1"), order("o2", paid_at="soon"), "paid_at",
         "unparseable timestamp"),
        ("ratings", RATING_HEADER, rating("r1"), rating("r2", "6"), "score", "unknown score"),
        ("ratings", RATING_HEADER, rating("r1"), rating("r2", rated_at=""), "rated_at",
         "missing required value"),
    ],
)  # fmt: skip
def test_bad_values_are_quarantined_with_reason_and_line_while_good_rows_load(
    db: Path,
    landing: Path,
    entity: str,
    header: list[str],
    good: list[Any],
    bad: list[Any],
    column: str,
    reason: str,
) -> None:
    write_csv(landing / f"{entity}/export.csv", header, [good, bad, good[:1] + ["s2"] + good[2:]])
    result = load(db, landing).file("export.csv")
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    assert quarantine(db) == [(f"{entity}/export.csv", 3, column, reason)]
    raw_values = json.loads(query(db, "select raw_values from raw.quarantine")[0][0])
    assert list(raw_values) == header
    assert raw_values[header[0]] == (bad[0] or None)


def test_every_failing_column_of_a_bad_row_is_quarantined(db: Path, landing: Path) -> None:
    write_csv(landing / "messages/m.csv", MESSAGE_HEADER, [message("m1", "never", role="x")])
    result = load(db, landing).file("m.csv")
    assert (result.rows_quarantined, result.rows_loaded) == (1, 0)
    assert quarantine(db) == [
        ("messages/m.csv", 2, "sender_role", "unknown sender_role"),
        ("messages/m.csv", 2, "sent_at", "unparseable timestamp"),
    ]


def test_quarantine_line_is_the_physical_line_when_values_span_lines(
    db: Path, landing: Path
) -> None:
    rows = [message("m1", content="第一行\n第二行"), message("m2", "bad time")]
    path = write_csv(landing / "messages/m.csv", MESSAGE_HEADER, rows)
    path.write_bytes(path.read_bytes().replace(b"\nm2", b"\n\nm2"))  # plus a blank line
    load(db, landing)
    assert quarantine(db) == [("messages/m.csv", 5, "sent_at", "unparseable timestamp")]
    assert query(db, "select content from raw.messages") == [("第一行\n第二行",)]


# Duplicates -------------------------------------------------------------------------------


def test_duplicate_message_ids_are_stored_once_first_loaded_copy_wins(
    db: Path, landing: Path
) -> None:
    """Identical copies are duplicates; a copy with other fields is a conflicting duplicate,
    quarantined with a reason naming the copy that stays."""
    first, second = message("m1", content="first"), message("m1", content="second")
    write_csv(
        landing / "messages/a.csv", MESSAGE_HEADER, [first, message("m2"), second, list(first)]
    )
    other_shop = message("m1", shop="s2")
    write_csv(
        landing / "messages/b.csv",
        MESSAGE_HEADER,
        [message("m2", content="later"), message("m3"), other_shop, message("m2")],
    )
    report = load(db, landing)
    assert [
        (r.name, r.rows_loaded, r.rows_duplicate, r.rows_quarantined) for r in report.loaded
    ] == [("a.csv", 2, 1, 1), ("b.csv", 2, 1, 1)]
    assert query(db, "select shop_id, message_id, content from raw.messages order by 1, 2") == [
        ("s1", "m1", "first"),
        ("s1", "m2", "你好"),
        ("s1", "m3", "你好"),
        ("s2", "m1", "你好"),
    ]
    assert quarantine(db) == [
        ("messages/a.csv", 4, "message_id", "conflicting duplicate of messages/a.csv line 2"),
        ("messages/b.csv", 2, "message_id", "conflicting duplicate of messages/a.csv line 3"),
    ]
    assert query(db, "select sum(rows_duplicate) from raw.load_files") == [(2,)]


def test_duplicate_rating_ids_are_stored_once(db: Path, landing: Path) -> None:
    write_csv(landing / "ratings/a.csv", RATING_HEADER, [rating("r1", "5"), rating("r1", "5")])
    write_csv(landing / "ratings/b.csv", RATING_HEADER, [rating("r1", "3"), rating("r2", "3")])
    report = load(db, landing)
    assert [(r.rows_duplicate, r.rows_quarantined) for r in report.loaded] == [(1, 0), (0, 1)]
    assert query(db, "select rating_id, score from raw.ratings order by 1") == [
        ("r1", "5"),
        ("r2", "3"),
    ]
    assert quarantine(db) == [
        ("ratings/b.csv", 2, "rating_id", "conflicting duplicate of ratings/a.csv line 2")
    ]


def _files_to_match(db: Path, entity: str, rows: list[tuple[str, str]]) -> str:
    """stored_files_to_match for a file whose good rows are `rows` (shop_id, id)."""
    from kefu.loading.entities import ENTITIES
    from kefu.loading.run import stored_files_to_match
    from kefu.loading.transform import CLEAN
    from kefu.schema import KEY_RANGE_COLUMNS

    column = KEY_RANGE_COLUMNS[entity]
    with duckdb.connect(str(db)) as con:
        con.execute(f"create temp table {CLEAN} (shop_id varchar, {column} varchar, _bad bool)")
        con.executemany(f"insert into {CLEAN} values (?, ?, false)", rows)
        return stored_files_to_match(con, ENTITIES[entity], "f")


def test_a_new_files_key_check_reads_only_the_stored_files_whose_id_range_meets_its_own(
    db: Path, landing: Path
) -> None:
    """Each loaded file records the id range of each shop's rows (raw.load_key_ranges);
    a new file's rows are checked against the stored files whose range of the same shop
    overlaps theirs, and the files with no range recorded, and against no other."""
    write_csv(landing / "messages/a.csv", MESSAGE_HEADER, [message("m01"), message("m02")])
    write_csv(landing / "messages/b.csv", MESSAGE_HEADER, [message("m11"), message("m12")])
    write_csv(
        landing / "messages/c.csv", MESSAGE_HEADER, [message("m21"), message("m05", shop="s2")]
    )
    write_csv(landing / "messages/d.csv", MESSAGE_HEADER, [message("m01")])  # all duplicates
    load(db, landing)
    files = dict(query(db, "select file_name, file_id from raw.load_files"))
    assert query(db, "select * from raw.load_key_ranges order by file_id, shop_id") == [
        (files["a.csv"], "s1", "m01", "m02"),
        (files["b.csv"], "s1", "m11", "m12"),
        (files["c.csv"], "s1", "m21", "m21"),
        (files["c.csv"], "s2", "m05", "m05"),
    ]
    d = files["d.csv"]  # no rows stored: no range, always read (it holds nothing)
    assert _files_to_match(db, "messages", [("s1", "m12")]) == (
        f"(f between {files['b.csv']} and {files['b.csv']} or f between {d} and {d})"
    )
    # m12 … m30 of s1 meets c's m21 too: files b to d, one run.
    assert _files_to_match(db, "messages", [("s1", "m12"), ("s1", "m30")]) == (
        f"(f between {files['b.csv']} and {d})"
    )
    # m05 of s1 falls between a's and b's ranges; s2's m05 is another shop's id.
    assert _files_to_match(db, "messages", [("s1", "m05")]) == f"(f between {d} and {d})"
    assert _files_to_match(db, "messages", [("s2", "m01"), ("s2", "m09")]) == (
        f"(f between {files['c.csv']} and {d})"
    )
    # The check finds the conflicting copy in b.csv and stores the new id.
    write_csv(
        landing / "messages/e.csv",
        MESSAGE_HEADER,
        [message("m12", content="changed"), message("m30")],
    )
    report = load(db, landing)
    assert [(r.name, r.rows_loaded, r.rows_quarantined) for r in report.loaded] == [("e.csv", 1, 1)]
    assert quarantine(db) == [
        ("messages/e.csv", 2, "message_id", "conflicting duplicate of messages/b.csv line 3")
    ]


def test_orders_identical_to_a_stored_version_are_found_through_the_id_ranges(
    db: Path, landing: Path
) -> None:
    write_csv(landing / "orders/a.csv", ORDER_HEADER, [order("o1", status="created")])
    write_csv(landing / "orders/b.csv", ORDER_HEADER, [order("o5", status="created")])
    load(db, landing)
    files = dict(query(db, "select file_name, file_id from raw.load_files"))
    assert _files_to_match(db, "orders", [("s1", "o5")]) == (
        f"(f between {files['b.csv']} and {files['b.csv']})"
    )
    write_csv(
        landing / "orders/c.csv",
        ORDER_HEADER,
        [order("o5", status="created"), order("o5", status="paid"), order("o1", status="paid")],
    )
    report = load(db, landing)
    assert [(r.rows_loaded, r.rows_duplicate) for r in report.loaded] == [(2, 1)]
    assert query(db, "select order_id, status from raw.orders order by _file_id, _row_num") == [
        ("o1", "created"),
        ("o5", "created"),
        ("o5", "paid"),
        ("o1", "paid"),
    ]


def test_a_warehouse_loaded_before_the_id_ranges_gets_them_once_and_still_finds_copies(
    db: Path, landing: Path
) -> None:
    write_csv(landing / "ratings/a.csv", RATING_HEADER, [rating("r1"), rating("r2")])
    write_csv(landing / "ratings/b.csv", RATING_HEADER, [rating("r7")])
    load(db, landing)
    recorded = query(db, "select * from raw.load_key_ranges order by all")
    with duckdb.connect(str(db)) as con:  # as a warehouse of an earlier kefu
        con.execute("drop table raw.load_key_ranges")
    write_csv(landing / "ratings/c.csv", RATING_HEADER, [rating("r2", score="1"), rating("r9")])
    report = load(db, landing)
    assert [(r.rows_loaded, r.rows_quarantined) for r in report.loaded] == [(1, 1)]
    assert quarantine(db) == [
        ("ratings/c.csv", 2, "rating_id", "conflicting duplicate of ratings/a.csv line 3")
    ]
    c = query(db, "select file_id from raw.load_files where file_name = 'c.csv'")[0][0]
    assert query(db, "select * from raw.load_key_ranges order by all") == sorted(
        [*recorded, (c, "s1", "r9", "r9")]
    )


def test_overlapping_exports_store_each_message_once_and_keep_order_versions(
    db: Path, landing: Path
) -> None:
    write_csv(landing / "messages/a-0501.csv", MESSAGE_HEADER, [message("m1"), message("m2")])
    write_csv(landing / "messages/b-0501-0502.csv", MESSAGE_HEADER, [message("m2"), message("m3")])
    write_csv(landing / "orders/a-0501.csv", ORDER_HEADER, [order("o1", status="created")])
    write_csv(landing / "orders/b-0501-0502.csv", ORDER_HEADER, [order("o1", status="paid")])
    load(db, landing)
    assert query(db, "select message_id, count(*) from raw.messages group by 1 order by 1") == [
        ("m1", 1),
        ("m2", 1),
        ("m3", 1),
    ]
    assert query(db, "select status from raw.orders order by _file_id") == [
        ("created",),
        ("paid",),
    ]


# File registry ----------------------------------------------------------------------------


def test_the_progress_line_counts_the_rows_loaded_so_far(
    db: Path, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After each file, the rows loaded by this run so far (skipped and rejected files
    add none)."""
    from kefu import progress

    seen: list[tuple[int, int, str]] = []

    class Recorder:
        def step(self, name: str, done: int, total: int, text: str) -> None:
            seen.append((done, total, text.split(" rows")[0]))

    write_csv(landing / "messages/a.csv", MESSAGE_HEADER, [message("m1"), message("m2")])
    load(db, landing)
    write_csv(landing / "messages/b.csv", MESSAGE_HEADER, [message("m3")])
    write_csv(landing / "messages/c.csv", MESSAGE_HEADER, [message("m4"), message("m5", "bad")])
    monkeypatch.setattr(progress, "_current", Recorder())
    report = load(db, landing)
    assert [r.outcome for r in report.files] == [Outcome.SKIPPED, Outcome.LOADED, Outcome.LOADED]
    assert seen == [(1, 3, "0"), (2, 3, "1"), (3, 3, "2")]
    assert report.totals()["rows_loaded"] == 2


def test_the_same_file_loaded_twice_is_a_no_op(db: Path, landing: Path) -> None:
    write_csv(landing / "messages/a.csv", MESSAGE_HEADER, [message("m1"), message("m2", "bad")])
    load(db, landing)
    before = counts(db)
    again = load(db, landing)
    assert [(r.relative_path, r.outcome) for r in again.files] == [
        ("messages/a.csv", Outcome.SKIPPED)
    ]
    assert "skipped (already loaded)" in again.summary()
    assert counts(db) == before
    (landing / "messages/copy").mkdir()
    (landing / "messages/copy/a-renamed.csv").write_bytes((landing / "messages/a.csv").read_bytes())
    assert load(db, landing).file("a-renamed.csv").outcome is Outcome.SKIPPED
    assert counts(db) == before


def test_a_file_unchanged_since_it_was_loaded_is_not_read_again(
    db: Path, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A night with nothing new costs what the landing zone's listing costs: a file with
    the path, size and modification time it had when loaded is skipped unread. A touched
    file is read (its sha256 finds it loaded); a changed one is loaded."""
    from kefu.loading import run

    path = write_csv(landing / "messages/a.csv", MESSAGE_HEADER, [message("m1")])
    write_csv(landing / "orders/o.csv", ORDER_HEADER, [order("o1")])
    load(db, landing)
    read: list[str] = []
    real = run.fingerprint
    monkeypatch.setattr(run, "fingerprint", lambda f: read.append(f.relative) or real(f))
    before = counts(db)
    again = load(db, landing)
    assert [r.outcome for r in again.files] == [Outcome.SKIPPED, Outcome.SKIPPED]
    assert read == [] and counts(db) == before
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert load(db, landing).file("a.csv").outcome is Outcome.SKIPPED
    assert read == ["messages/a.csv"] and counts(db) == before
    assert load(db, landing).file("a.csv").outcome is Outcome.SKIPPED  # its new time is known
    assert read == ["messages/a.csv"]
    write_csv(path, MESSAGE_HEADER, [message("m1"), message("m2")])
    assert load(db, landing).file("a.csv").rows_loaded == 1
    assert query(db, "select message_id from raw.messages order by 1") == [("m1",), ("m2",)]


def test_a_corrected_file_is_loaded(db: Path, landing: Path) -> None:
    path = write_csv(
        landing / "messages/a.csv", MESSAGE_HEADER, [message("m1"), message("m2", "bad")]
    )
    load(db, landing)
    write_csv(path, MESSAGE_HEADER, [message("m1"), message("m2")])
    report = load(db, landing)
    result = report.file("a.csv")
    assert (result.outcome, result.rows_loaded, result.rows_duplicate) == (Outcome.LOADED, 1, 1)
    assert query(db, "select message_id, _file_id from raw.messages order by 1") == [
        ("m1", 1),
        ("m2", 2),
    ]
    assert query(db, "select file_id, status, load_run_id from raw.load_files order by 1") == [
        (1, "loaded", 1),
        (2, "loaded", 2),
    ]


def test_a_rerun_never_duplicates_rows(db: Path, landing: Path) -> None:
    write_csv(landing / "shops/s.csv", ["shop_id"], [["s1"]])
    write_csv(landing / "orders/o.csv", ORDER_HEADER, [order("o1")])
    write_csv(landing / "messages/m.csv", MESSAGE_HEADER, [message("m1")])
    load(db, landing)
    first = counts(db)
    for _ in range(2):
        report = load(db, landing)
        assert not report.loaded and len(report.skipped) == 3
    assert counts(db) == first


def test_files_load_entity_by_entity_and_in_path_order(db: Path, landing: Path) -> None:
    write_csv(landing / "ratings/r.csv", RATING_HEADER, [rating("r1")])
    write_csv(landing / "messages/2026-05/02.csv", MESSAGE_HEADER, [message("m3")])
    write_csv(landing / "messages/2026-05/01.csv", MESSAGE_HEADER, [message("m2")])
    write_csv(landing / "messages/2026-04.csv", MESSAGE_HEADER, [message("m1")])
    write_csv(landing / "shops/z/s.csv", ["shop_id"], [["s1"]])
    report = load(db, landing)
    assert [result.relative_path for result in report.files] == [
        "shops/z/s.csv",
        "messages/2026-04.csv",
        "messages/2026-05/01.csv",
        "messages/2026-05/02.csv",
        "ratings/r.csv",
    ]
    assert query(db, "select message_id, _file_id from raw.messages order by 1") == [
        ("m1", 2),
        ("m2", 3),
        ("m3", 4),
    ]


# Rejected files ---------------------------------------------------------------------------


def test_corrupt_files_are_rejected_while_the_others_load(db: Path, landing: Path) -> None:
    write_csv(landing / "messages/good.csv", MESSAGE_HEADER, [message("m1")])
    (landing / "ratings").mkdir()
    (landing / "ratings/broken.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    (landing / "orders").mkdir()
    (landing / "orders/broken.parquet").write_bytes(b"PAR1 garbage bytes PAR1")
    write_csv(landing / "messages/ragged.csv", MESSAGE_HEADER, [message("m2"), ["m3", "s1"]])
    report = load(db, landing)
    assert [result.relative_path for result in report.rejected] == [
        "messages/ragged.csv",
        "orders/broken.parquet",
        "ratings/broken.xlsx",
    ]
    assert "cannot be read as xlsx" in report.file("broken.xlsx").message
    assert "cannot be read as Parquet" in report.file("broken.parquet").message
    assert "Line: 3" in report.file("ragged.csv").message
    assert report.reason().startswith("3 files rejected: messages/ragged.csv (")
    assert query(db, "select message_id from raw.messages") == [("m1",)]
    assert query(db, "select file_path, status from raw.load_files order by file_id") == [
        ("messages/good.csv", "loaded"),
        ("messages/ragged.csv", "rejected"),
        ("orders/broken.parquet", "rejected"),
        ("ratings/broken.xlsx", "rejected"),
    ]


def test_a_file_missing_a_required_column_is_rejected_naming_it(db: Path, landing: Path) -> None:
    header = [name for name in MESSAGE_HEADER if name != "sent_at"]
    write_csv(landing / "messages/m.csv", header, [["m1", "s1", "b1", "a1", "buyer", "text", "x"]])
    report = load(db, landing)
    assert report.file("m.csv").message == "missing required column: sent_at (发送时间)"
    assert "messages/m.csv (missing required column: sent_at" in report.reason()
    assert counts(db)["messages"] == 0


def test_empty_files_and_empty_headers_are_rejected(db: Path, landing: Path) -> None:
    (landing / "messages").mkdir()
    (landing / "messages/empty.csv").write_bytes(b"")
    (landing / "messages/blank-header.csv").write_bytes(b",,\nm1,s1,b1\n")
    write_jsonl(landing / "ratings/none.jsonl", [])
    report = load(db, landing)
    assert {result.name: result.message for result in report.rejected} == {
        "blank-header.csv": "empty header: the first line names no columns",
        "empty.csv": "empty file: no header line",
        "none.jsonl": "empty file: no JSON records",
    }


def test_two_headers_naming_one_column_are_rejected(db: Path, landing: Path) -> None:
    write_csv(landing / "messages/m.csv", MESSAGE_HEADER + ["消息ID"], [message("m1") + ["m1"]])
    message_text = load(db, landing).file("m.csv").message or ""
    assert message_text.startswith("ambiguous header: 'message_id' and '消息ID'")


def test_a_rejected_file_is_retried_on_the_next_load(db: Path, landing: Path) -> None:
    path = write_csv(landing / "messages/m.csv", ["message_id"], [["m1"]])
    assert load(db, landing).rejected
    assert load(db, landing).rejected  # unchanged: rejected again
    write_csv(path, MESSAGE_HEADER, [message("m1")])
    report = load(db, landing)
    assert not report.rejected and report.file("m.csv").rows_loaded == 1
    assert query(db, "select status, load_run_id from raw.load_files order by file_id") == [
        ("rejected", 1),
        ("rejected", 2),
        ("loaded", 3),
    ]


def test_unknown_folders_and_file_types_are_rejected_and_hidden_files_ignored(
    db: Path, landing: Path
) -> None:
    write_csv(landing / "message/typo.csv", MESSAGE_HEADER, [message("m1")])
    write_csv(landing / "loose.csv", MESSAGE_HEADER, [message("m1")])
    (landing / "orders").mkdir()
    (landing / "orders/old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (landing / ".kefu-demo").write_text("marker")
    (landing / "orders/~$open.xlsx").write_bytes(b"lock")
    report = load(db, landing)
    assert {result.relative_path: result.message for result in report.rejected} == {
        "orders/old.xls": "unsupported file type '.xls' (accepted: .csv, .xlsx, .parquet, .jsonl)",
        "loose.csv": "not inside an entity folder "
        "(expected one of: shops, agents, filters, messages, orders, ratings)",
        "message/typo.csv": "unknown entity folder 'message' "
        "(expected one of: shops, agents, filters, messages, orders, ratings)",
    }
    ignored = [result.relative_path for result in report.files if result.outcome is Outcome.IGNORED]
    assert ignored == [".kefu-demo", "orders/~$open.xlsx"]
    assert counts(db)["messages"] == 0


def test_a_missing_landing_zone_is_reported_as_rejected(db: Path, tmp_path: Path) -> None:
    report = load(db, tmp_path / "nowhere")
    assert report.rejected and "landing zone not found" in report.reason()


# One transaction per file -----------------------------------------------------------------


def test_an_interrupted_load_leaves_nothing_and_the_rerun_loads_the_file_once(
    db: Path, landing: Path
) -> None:
    write_csv(landing / "messages/a.csv", MESSAGE_HEADER, [message("m1")])
    write_csv(landing / "messages/b.csv", MESSAGE_HEADER, [message("m2"), message("m3", "bad")])
    command = [sys.executable, "-m", "kefu.cli", "load", "--db", str(db), "--landing", str(landing)]
    env = {**os.environ, CRASH_ENV: "b.csv", "PYTHONPATH": str(PROJECT_DIR)}
    crashed = subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=True, check=False)
    assert crashed.returncode == 17
    assert query(db, "select message_id from raw.messages") == [("m1",)]
    assert query(db, "select file_path from raw.load_files") == [("messages/a.csv",)]
    assert counts(db)["quarantine"] == 0
    env.pop(CRASH_ENV)
    rerun = subprocess.run(command, env=env, cwd=PROJECT_DIR, capture_output=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert query(db, "select message_id, count(*) from raw.messages group by 1 order by 1") == [
        ("m1", 1),
        ("m2", 1),
    ]
    assert query(db, "select file_path, status from raw.load_files order by file_id") == [
        ("messages/a.csv", "loaded"),
        ("messages/b.csv", "loaded"),
    ]
    assert counts(db)["quarantine"] == 1


# CLI --------------------------------------------------------------------------------------


def test_cli_load_exits_1_with_a_reason_when_a_file_is_rejected(
    db: Path, landing: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_csv(landing / "messages/m.csv", MESSAGE_HEADER, [message("m1")])
    argv = ["load", "--db", str(db), "--landing", str(landing)]
    assert main(argv) == 0
    assert "messages/m.csv: messages, loaded, rows read 1 / loaded 1" in capsys.readouterr().out
    write_csv(landing / "orders/o.csv", ["order_id"], [["o1"]])
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "messages/m.csv: messages, skipped (already loaded)" in captured.out
    assert captured.err.startswith("kefu load: 1 file rejected: orders/o.csv (missing required")
    assert len(captured.err.strip().splitlines()) == 1


def test_xlsx_cells_read_as_the_text_an_export_shows() -> None:
    assert cell_text(3500000000000.0) == "3500000000000"  # an id typed as a number
    assert cell_text(19.9) == "19.9"
    assert cell_text(dt.datetime(2026, 5, 1, 9, 59, 59, 999_700)) == "2026-05-01 10:00:00"
    assert cell_text(dt.datetime(2026, 5, 1, 10, 0, 0, 250_000)) == "2026-05-01 10:00:00.250"
    assert cell_text(True) == "true"
    assert cell_text(None) is None
