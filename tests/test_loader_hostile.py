"""Hostile exports (issue 8): every one ends stored, quarantined with a reason, counted as a
duplicate or in a rejected file, and the accounting identity holds for every entity:

    rows in the files = rows stored + rows quarantined + duplicate rows + rows of rejected files
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from kefu.loader import LoadReport, Outcome, load_landing
from kefu.warehouse import data_last_day
from tests.test_loader import (
    MESSAGE_HEADER,
    ORDER_HEADER,
    message,
    order,
    write_csv,
    write_jsonl,
    write_parquet,
)

LOAD_DAY = dt.date(2026, 5, 2)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    folder.mkdir()
    return folder


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def load(db: Path, landing: Path) -> LoadReport:
    return load_landing(db, landing, load_day=LOAD_DAY)


def query(db: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def assert_accounting(db: Path, entity: str, rows_in_files: int, rows_rejected: int = 0) -> None:
    """rows in the files = stored + quarantined + duplicate + rows of rejected files, and
    every quarantined row carries a reason."""
    stored = query(db, f"select count(*) from raw.{entity}")[0][0]
    quarantined = query(
        db,
        "select count(distinct (file_id, line)) from raw.quarantine where entity = ?",
        [entity],
    )[0][0]
    duplicate = query(
        db,
        "select coalesce(sum(rows_duplicate), 0) from raw.load_files where entity = ?",
        [entity],
    )[0][0]
    assert stored + quarantined + duplicate + rows_rejected == rows_in_files, (
        stored,
        quarantined,
        duplicate,
        rows_rejected,
        rows_in_files,
    )
    assert query(
        db,
        "select count(*) from raw.quarantine where entity = ? and coalesce(reason, '') = ''",
        [entity],
    ) == [(0,)]


def quarantined(db: Path) -> list[tuple[Any, ...]]:
    return query(db, "select file_path, line, column_name, reason from raw.quarantine order by all")


# 1. Exact paths ------------------------------------------------------------------------------

SPECIAL_NAMES = [
    "export[1].csv",
    "export*.csv",
    "export?.csv",
    "export{1,2}.csv",
    "export,1.csv",
    "export 1.csv",
    "export'1'.csv",
    'export"1".csv',
    "导出 [一].csv",
]


@pytest.mark.parametrize("name", SPECIAL_NAMES)
def test_a_file_is_read_by_its_exact_path_whatever_its_name(
    db: Path, landing: Path, name: str
) -> None:
    """A special character in the name never expands: the file loads its own rows, the
    siblings its pattern would match load theirs (with their own column order)."""
    write_csv(landing / "messages" / name, MESSAGE_HEADER, [message("special")])
    swapped = [MESSAGE_HEADER[i] for i in (0, 1, 3, 2, 4, 5, 6, 7)]  # agent before buyer
    for sibling in ("export1.csv", "exporta.csv", "export.csv"):
        row = message(sibling)
        write_csv(
            landing / "messages" / sibling, swapped, [[row[i] for i in (0, 1, 3, 2, 4, 5, 6, 7)]]
        )
    report = load(db, landing)
    assert not report.rejected
    assert report.file(f"messages/{name}").rows_loaded == 1
    stored = query(
        db,
        "select messages.message_id, buyer_id, agent_id, file_path from raw.messages "
        "join raw.load_files on file_id = _file_id order by 1",
    )
    expected = [
        (sibling, "buyer1", "agent1", f"messages/{sibling}")
        for sibling in ("export.csv", "export1.csv", "exporta.csv")
    ] + [("special", "buyer1", "agent1", f"messages/{name}")]
    assert stored == sorted(expected)
    assert_accounting(db, "messages", 4)


def test_parquet_and_jsonl_are_read_by_their_exact_path(db: Path, landing: Path) -> None:
    columns = {name: [value] for name, value in zip(MESSAGE_HEADER, message("p*"), strict=True)}
    write_parquet(landing / "messages/m[1].parquet", pa.table(columns))
    write_parquet(
        landing / "messages/m1.parquet",
        pa.table(
            {name: [value] for name, value in zip(MESSAGE_HEADER, message("p1"), strict=True)}
        ),
    )
    write_jsonl(
        landing / "messages/j*.jsonl", [dict(zip(MESSAGE_HEADER, message("j*"), strict=True))]
    )
    write_jsonl(
        landing / "messages/j1.jsonl", [dict(zip(MESSAGE_HEADER, message("j1"), strict=True))]
    )
    report = load(db, landing)
    assert not report.rejected
    assert [(r.name, r.rows_loaded) for r in report.loaded] == [
        ("j*.jsonl", 1),
        ("j1.jsonl", 1),
        ("m1.parquet", 1),
        ("m[1].parquet", 1),
    ]
    assert_accounting(db, "messages", 4)


# 2. Encodings --------------------------------------------------------------------------------


def test_a_utf8_row_in_a_gb18030_file_is_quarantined_as_encoding(db: Path, landing: Path) -> None:
    header = ",".join(MESSAGE_HEADER) + "\r\n"
    gb_rows = [
        "m1,s1,毛毛小铺买家,客服小王,buyer,2026-05-01 10:00:00,text,在吗\r\n",
        "m2,s1,毛毛小铺买家,客服小王,agent,2026-05-01 10:01:00,text,在的\r\n",
    ]
    utf8_row = "m3,s1,毛毛小铺买家,客服小王,buyer,2026-05-01 10:02:00,text,追加的一行\r\n"
    path = landing / "messages/mixed.csv"
    path.parent.mkdir()
    path.write_bytes(
        header.encode("gb18030") + "".join(gb_rows).encode("gb18030") + utf8_row.encode("utf-8")
    )
    report = load(db, landing)
    assert report.file("mixed.csv").rows_loaded == 2
    assert query(db, "select message_id, buyer_id, content from raw.messages order by 1") == [
        ("m1", "毛毛小铺买家", "在吗"),
        ("m2", "毛毛小铺买家", "在的"),
    ]
    assert quarantined(db) == [("messages/mixed.csv", 4, "(row)", "encoding")]
    raw = json.loads(query(db, "select raw_values from raw.quarantine")[0][0])
    assert raw == {"line": utf8_row.strip()}  # shown as the UTF-8 it is
    assert query(db, "select encoding from raw.load_files") == [("gb18030",)]
    assert_accounting(db, "messages", 3)


def test_a_gb18030_row_in_a_utf8_file_is_quarantined_as_encoding(db: Path, landing: Path) -> None:
    rows = [message(f"m{i}", content="你好，在吗") for i in range(1, 4)]
    path = write_csv(landing / "messages/utf8.csv", MESSAGE_HEADER, rows)
    bad = "m9,s1,buyer1,agent1,buyer,2026-05-01 10:00:00,text,国标编码的一行\n"
    path.write_bytes(path.read_bytes() + bad.encode("gb18030"))
    load(db, landing)
    assert query(db, "select count(*) from raw.messages where content = '你好，在吗'") == [(3,)]
    assert quarantined(db) == [("messages/utf8.csv", 5, "(row)", "encoding")]
    assert query(db, "select encoding from raw.load_files") == [("utf-8",)]
    assert_accounting(db, "messages", 4)


def test_a_bom_contradicting_the_bytes_is_named_in_the_rejection(db: Path, landing: Path) -> None:
    path = write_csv(
        landing / "messages/bom.csv",
        ["消息ID", "店铺ID", "买家", "客服", "发送方", "发送时间"],
        [["m1", "s1", "买家甲", "客服小王", "买家", "2026-05-01 10:00:00"]],
        encoding="gb18030",
    )
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = load(db, landing)
    message_text = report.file("bom.csv").message or ""
    assert message_text.startswith("encoding: the file starts with a UTF-8 byte-order mark")
    assert "GB18030" in message_text
    assert_accounting(db, "messages", 1, rows_rejected=1)


# 3. Plausibility bounds ------------------------------------------------------------------------


def test_implausible_times_offsets_amounts_and_quantities_are_quarantined_naming_the_bound(
    db: Path, landing: Path
) -> None:
    messages = [
        message("ok", "2026-05-01 10:00:00"),
        message("y1", "0001-01-01 10:00:00"),
        message("y1900", "1900-01-01 10:00:00"),
        message("y1999", "1999-12-31 23:59:59"),
        message("y2000", "2000-01-01 00:00:00"),
        message("next_day", "2026-05-03 23:59:59"),  # load day + 1: accepted
        message("day_after", "2026-05-04 00:00:00"),
        message("y2099", "2099-01-01 10:00:00"),
        message("y9999", "9999-12-31 23:59:59"),
        message("offset99", "2026-05-01T10:00:00+99:00"),
        message("offset14", "2026-05-01T10:00:00+14:00"),
        message("offset-1401", "2026-05-01T10:00:00-14:01"),
    ]
    write_csv(landing / "messages/m.csv", MESSAGE_HEADER, messages)
    orders = [
        order("ok", amount="10000000.00", quantity="10000"),
        order("poison", amount="9999999999999999.99"),
        order("above", amount="10000000.01"),
        order("huge", amount="1e30"),
        order("refund", refund_amount="99999999999"),
        order("qty", quantity="10001"),
        order("paid9999", paid_at="9999-01-01 00:00:00"),
    ]
    write_csv(landing / "orders/o.csv", ORDER_HEADER, orders)
    load(db, landing)
    assert query(db, "select message_id from raw.messages order by 1") == [
        ("next_day",),
        ("offset14",),
        ("ok",),
        ("y2000",),
    ]
    assert quarantined(db) == [
        ("messages/m.csv", 3, "sent_at", "time before min_time 2000-01-01"),
        ("messages/m.csv", 4, "sent_at", "time before min_time 2000-01-01"),
        ("messages/m.csv", 5, "sent_at", "time before min_time 2000-01-01"),
        ("messages/m.csv", 8, "sent_at",
         "time after the load day + max_days_after_load (latest 2026-05-03 23:59:59)"),
        ("messages/m.csv", 9, "sent_at",
         "time after the load day + max_days_after_load (latest 2026-05-03 23:59:59)"),
        ("messages/m.csv", 10, "sent_at",
         "time after the load day + max_days_after_load (latest 2026-05-03 23:59:59)"),
        ("messages/m.csv", 11, "sent_at", "offset beyond max_offset_minutes ±14:00"),
        ("messages/m.csv", 13, "sent_at", "offset beyond max_offset_minutes ±14:00"),
        ("orders/o.csv", 3, "amount", "amount above max_amount 10000000.00"),
        ("orders/o.csv", 4, "amount", "amount above max_amount 10000000.00"),
        ("orders/o.csv", 5, "amount", "amount above max_amount 10000000.00"),
        ("orders/o.csv", 6, "refund_amount", "amount above max_amount 10000000.00"),
        ("orders/o.csv", 7, "quantity", "quantity above max_quantity 10000"),
        ("orders/o.csv", 8, "paid_at",
         "time after the load day + max_days_after_load (latest 2026-05-03 23:59:59)"),
    ]  # fmt: skip
    assert query(db, "select order_id, amount, quantity from raw.orders") == [
        ("ok", 10000000, 10000)
    ]
    assert_accounting(db, "messages", 12)
    assert_accounting(db, "orders", 7)
    with duckdb.connect(str(db), read_only=True) as con:
        assert data_last_day(con) == dt.date(2026, 5, 3)  # from accepted rows only


def test_bounds_follow_the_shops_ruleset(
    db: Path, landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shop on a ruleset with its own row in load_bounds gets its bounds."""
    from kefu.loading import bounds as bounds_module

    seed = landing.parent / "load_bounds.csv"
    seed.write_text(
        "ruleset,min_time,max_days_after_load,max_offset_minutes,max_amount,max_quantity\n"
        "taobao_tool,2000-01-01,1,840,10000000.00,10000\n"
        "small,2020-01-01,0,480,100.00,5\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(bounds_module, "BOUNDS_SEED", seed)
    write_csv(landing / "shops/s.csv", ["shop_id", "ruleset"], [["s2", "small"]])
    rows = [order("a", amount="200"), order("b", amount="200")]
    rows[1][1] = "s2"
    write_csv(landing / "orders/o.csv", ORDER_HEADER, rows)
    load_landing(db, landing, load_day=LOAD_DAY)
    assert query(db, "select order_id from raw.orders") == [("a",)]
    assert quarantined(db) == [("orders/o.csv", 3, "amount", "amount above max_amount 100.00")]
    assert_accounting(db, "orders", 2)


# 6. The landing-zone walk ------------------------------------------------------------------


def test_links_out_of_the_zone_dangling_links_and_odd_entries_each_get_a_line(
    db: Path, landing: Path, tmp_path: Path
) -> None:
    outside = write_csv(tmp_path / "outside/secret.csv", MESSAGE_HEADER, [message("secret")])
    write_csv(landing / "messages/real.csv", MESSAGE_HEADER, [message("m1")])
    (landing / "messages/out.csv").symlink_to(outside)
    (landing / "messages/etc.csv").symlink_to("/etc/hostname")
    (landing / "messages/dangling.csv").symlink_to(tmp_path / "nothing.csv")
    (landing / "messages/linked-folder").symlink_to(outside.parent, target_is_directory=True)
    (landing / "messages/inside.csv").symlink_to(landing / "messages/real.csv")
    (landing / "messages/inside-folder").symlink_to(landing / "orders", target_is_directory=True)
    write_csv(landing / "orders/day1.csv/part1.csv", ORDER_HEADER, [order("o1")])
    os.mkfifo(landing / "orders/pipe.csv")
    report = load(db, landing)
    out = "symbolic link pointing outside the landing zone: refused, not read"
    assert {r.relative_path: r.message for r in report.rejected} == {
        "messages/out.csv": out,
        "messages/etc.csv": out,
        "messages/dangling.csv": "dangling symbolic link (its target does not exist)",
        "messages/linked-folder": out,
        "messages/inside-folder": "symbolic link to a folder: not followed",
        "orders/pipe.csv": "not a regular file (fifo, socket or device): not read",
    }
    notes = [(r.relative_path, r.message) for r in report.files if r.outcome is Outcome.NOTED]
    assert notes == [("orders/day1.csv", "a folder named like a file; its files are loaded")]
    assert [report.file(f"messages/{name}.csv").outcome for name in ("inside", "real")] == [
        Outcome.LOADED,
        Outcome.SKIPPED,  # same content, loaded once
    ]
    assert query(db, "select message_id from raw.messages") == [("m1",)]
    assert query(db, "select order_id from raw.orders") == [("o1",)]
    assert query(
        db, "select count(*) from raw.load_files where content_sha256 <> '' and status = 'rejected'"
    ) == [(0,)]  # nothing refused was opened
    assert "secret" not in report.summary()
    assert_accounting(db, "messages", 1)
    assert_accounting(db, "orders", 1)


# 8. Short raw values in messages ---------------------------------------------------------------


def test_quarantine_and_rejection_messages_cap_raw_values(db: Path, landing: Path) -> None:
    chat = "很长的聊天" * 2000  # 10,000 characters
    write_csv(landing / "messages/long.csv", MESSAGE_HEADER, [message("m1", "never", content=chat)])
    ragged = landing / "messages/ragged.csv"
    ragged.write_text(
        ",".join(MESSAGE_HEADER) + "\n" + ",".join(message("m2")) + "\n" + chat + ',"\n',
        encoding="utf-8",
    )
    report = load(db, landing)
    assert quarantined(db) == [("messages/long.csv", 2, "sent_at", "unparseable timestamp")]
    raw = json.loads(query(db, "select raw_values from raw.quarantine")[0][0])
    assert raw["content"] == chat[:64] + "…" and raw["message_id"] == "m1"
    rejection = report.file("ragged.csv").message or ""
    assert rejection.startswith("cannot be read as CSV") and len(rejection) < 400
    assert_accounting(db, "messages", 3, rows_rejected=2)


# 7. Conflicting duplicates, identical order versions ------------------------------------------


def test_conflicting_duplicates_are_quarantined_with_both_file_references(
    db: Path, landing: Path, tmp_path: Path
) -> None:
    write_csv(landing / "messages/zone1.csv", MESSAGE_HEADER, [message("m1"), message("m2")])
    load(db, landing)
    second_zone = tmp_path / "zone2"
    write_csv(
        second_zone / "messages/other.csv",
        MESSAGE_HEADER,
        [message("m1", content="另一个店的消息"), message("m2"), message("m3")],
    )
    report = load(db, second_zone)
    assert report.file("other.csv").rows_quarantined == 1
    assert quarantined(db) == [
        (
            "messages/other.csv",
            2,
            "message_id",
            "conflicting duplicate of messages/zone1.csv line 2",
        )
    ]
    raw = json.loads(query(db, "select raw_values from raw.quarantine")[0][0])
    assert (raw["message_id"], raw["content"]) == ("m1", "另一个店的消息")
    assert query(db, "select message_id, content from raw.messages order by 1") == [
        ("m1", "你好"),
        ("m2", "你好"),
        ("m3", "你好"),
    ]
    assert_accounting(db, "messages", 5)


def test_identical_order_versions_re_exported_with_other_bytes_are_stored_once(
    db: Path, landing: Path
) -> None:
    write_csv(landing / "orders/a.csv", ORDER_HEADER, [order("o1"), order("o2", status="created")])
    reordered = [ORDER_HEADER[i] for i in (9, 8, 7, 6, 5, 4, 3, 2, 1, 0)]
    again = [
        [row[i] for i in (9, 8, 7, 6, 5, 4, 3, 2, 1, 0)]
        for row in (order("o1", amount="￥99"), order("o2", status="paid"), order("o1"))
    ]
    write_csv(landing / "orders/b.csv", reordered, again, newline="\r\n")
    report = load(db, landing)
    assert [(r.name, r.rows_loaded, r.rows_duplicate) for r in report.loaded] == [
        ("a.csv", 2, 0),
        ("b.csv", 1, 2),
    ]
    assert query(db, "select order_id, status from raw.orders order by _file_id, 1") == [
        ("o1", "paid"),
        ("o2", "created"),
        ("o2", "paid"),
    ]
    assert_accounting(db, "orders", 5)
