"""A tiny hand-made landing zone (docs/landing.md §1 columns) for end-to-end tests of the nightly
job and the Dagster assets: one shop, two agents, a few chats, orders and a rating a day."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

MESSAGE_HEADER = [
    "message_id", "shop_id", "buyer_id", "agent_id", "sender_role", "sent_at", "msg_type",
    "content",
]  # fmt: skip
ORDER_HEADER = [
    "order_id", "shop_id", "buyer_id", "created_at", "paid_at", "amount", "quantity", "status",
]  # fmt: skip


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def day_messages(day: dt.date) -> list[list[object]]:
    """Two receptions on `day`: b1 with a1 (replied in 60 s), b2 with a2 (replied in 5 min),
    and one unreplied buyer of a2."""
    d = day.isoformat()
    tag = day.strftime("%m%d")
    return [
        [f"m{tag}1", "s1", "b1", "a1", "buyer", f"{d} 10:00:00", "text", "在吗"],
        [f"m{tag}2", "s1", "b1", "a1", "agent", f"{d} 10:01:00", "text", "在的"],
        [f"m{tag}3", "s1", "b2", "a2", "buyer", f"{d} 11:00:00", "text", "有货吗"],
        [f"m{tag}4", "s1", "b2", "a2", "agent", f"{d} 11:05:00", "text", "有的"],
        [f"m{tag}5", "s1", f"b3{tag}", "a2", "buyer", f"{d} 15:00:00", "text", "优惠吗"],
    ]


def day_orders(day: dt.date) -> list[list[object]]:
    """b1 orders and pays on `day` (credited to a1); b2 orders unpaid."""
    d = day.isoformat()
    tag = day.strftime("%m%d")
    return [
        [f"o{tag}1", "s1", "b1", f"{d} 10:30:00", f"{d} 10:31:00", "99.00", 1, "paid"],
        [f"o{tag}2", "s1", "b2", f"{d} 12:00:00", "", "50.00", 2, "created"],
    ]


def write_landing(landing: Path, days: list[dt.date]) -> Path:
    """Master data plus one messages / orders file per day and a rating."""
    write_csv(
        landing / "shops" / "shops.csv",
        ["shop_id", "platform", "shop_name", "timezone", "ruleset"],
        [["s1", "taobao", "Shop One", "Asia/Shanghai", "taobao_tool"]],
    )
    write_csv(
        landing / "agents" / "agents.csv",
        ["agent_id", "shop_id", "agent_name", "team"],
        [["a1", "s1", "Alice", "pre_sales"], ["a2", "s1", "Bob", "pre_sales"]],
    )
    for day in days:
        write_day(landing, day)
    write_csv(
        landing / "ratings" / "ratings.csv",
        ["rating_id", "shop_id", "buyer_id", "agent_id", "rated_at", "score"],
        [["r1", "s1", "b1", "a1", f"{days[0].isoformat()} 12:00:00", "5"]],
    )
    return landing


def write_day(landing: Path, day: dt.date) -> None:
    """One day's exports: a messages file and an orders file."""
    write_csv(landing / "messages" / f"{day}.csv", MESSAGE_HEADER, day_messages(day))
    write_csv(landing / "orders" / f"{day}.csv", ORDER_HEADER, day_orders(day))
