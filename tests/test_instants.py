"""The instant of a message (docs/metrics.md §0), in every kind of local day.

int_messages_classified reads a day without a clock change through the day's shift to
UTC (macro kefu_steady_shifts) and converts the other days' messages one by one
(kefu_instant). Both must give the rule's answer: the wall time in the shop's zone, a
repeated wall time read as its first occurrence and a skipped one with the offset
before the change. Python's zoneinfo with fold=0 reads them the same way (PEP 495), so
it is the reference here, independent of DuckDB's ICU.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kefu.build import BuildWindow, build
from tests.support import msg, query, write_raw

# Zones whose rules have not changed for years (ICU's copy and Python's agree): no
# clock change, whole-hour changes before and after midnight UTC, a change at local
# midnight (the Azores skip and repeat 00:00-00:59), a half-hour change (Lord Howe),
# and offsets of 5:45 and 9:30.
ZONES = {
    "shanghai": "Asia/Shanghai",
    "new_york": "America/New_York",
    "london": "Europe/London",
    "azores": "Atlantic/Azores",
    "lord_howe": "Australia/Lord_Howe",
    "kathmandu": "Asia/Kathmandu",
    "adelaide": "Australia/Adelaide",
}
YEAR = 2026
STEP = dt.timedelta(minutes=9, seconds=17)  # not a divisor of an hour: every minute mark drifts


def change_days(zone: str) -> list[dt.date]:
    """The local days of YEAR whose offset at 00:00 differs from the next day's."""
    tz = ZoneInfo(zone)
    day = dt.date(YEAR, 1, 1)
    found = []
    while day.year == YEAR:
        start = dt.datetime.combine(day, dt.time(), tz).utcoffset()
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz).utcoffset()
        if start != end:
            found.append(day)
        day += dt.timedelta(days=1)
    return found


def test_days_to_cover() -> None:
    """The zones above change their clocks twice a year, except the two without DST."""
    counts = {shop: len(change_days(zone)) for shop, zone in ZONES.items()}
    assert counts == {
        "shanghai": 0,
        "new_york": 2,
        "london": 2,
        "azores": 2,
        "lord_howe": 2,
        "kathmandu": 0,
        "adelaide": 2,
    }


def expected_instant(local: dt.datetime, zone: str) -> dt.datetime:
    """UTC of a wall time: fold=0 takes a repeated one's first occurrence and reads a
    skipped one with the offset before the change."""
    aware = local.replace(tzinfo=ZoneInfo(zone), fold=0)
    return aware.astimezone(dt.UTC).replace(tzinfo=None)


@pytest.fixture(scope="module")
def classified(tmp_path_factory):
    """A warehouse with a message every 9 min 17 s through each zone's change days, the
    days around them and one ordinary day; int_messages_classified built over it."""
    messages = []
    for shop, zone in ZONES.items():
        days = {dt.date(YEAR, 5, 20)}
        for day in change_days(zone):
            days |= {day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)}
        for day in sorted(days):
            local = dt.datetime.combine(day, dt.time(0, 0, 3))
            while local.date() == day:
                messages.append(msg(shop, "a", "b", "buyer", local.isoformat(sep=" ")))
                local += STEP
    shops = [
        {"shop_id": shop, "platform": "taobao", "timezone": zone} for shop, zone in ZONES.items()
    ]
    db_path = tmp_path_factory.mktemp("instants") / "w.duckdb"
    write_raw(db_path, {"messages": messages, "shops": shops})
    build(db_path, BuildWindow(), select="+int_messages_classified")
    return db_path, messages


def test_every_message_gets_the_instant_of_its_wall_time_in_its_shops_zone(classified) -> None:
    db_path, messages = classified
    rows = query(
        db_path,
        "select shop_id, sent_at, sent_instant from intermediate.int_messages_classified",
    )
    assert len(rows) == len(messages)
    wrong = [
        (row["shop_id"], row["sent_at"], row["sent_instant"], expected)
        for row in rows
        if row["sent_instant"]
        != (expected := expected_instant(row["sent_at"], ZONES[row["shop_id"]]))
    ]
    assert wrong == []


def test_the_change_days_hold_skipped_and_repeated_wall_times(classified) -> None:
    """The fixture reaches both kinds of wall time the rule singles out: a skipped one
    (read with the offset before: it maps back to another wall time) and a repeated one."""
    db_path, messages = classified
    skipped = repeated = 0
    for message in messages:
        zone = ZoneInfo(ZONES[message["shop_id"]])
        local = message["sent_at"]
        first = local.replace(tzinfo=zone, fold=0)
        second = local.replace(tzinfo=zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            round_trip = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
            if round_trip == local:
                repeated += 1
            else:
                skipped += 1
    # 5 zones x (1 skipped + 1 repeated hour, half an hour at Lord Howe) at one message
    # per 9 min 17 s: at least 3 of each per whole hour.
    assert skipped >= 12 and repeated >= 12


def test_the_days_without_a_change_are_read_through_one_shift(classified) -> None:
    """The shortcut is taken: the model's own compiled SQL lists every day without a
    clock change with its shift to UTC (Shanghai -8 h, Kathmandu -5:45, New York in
    May -4 h, ...) and leaves out each change day, whose messages are converted one by
    one."""
    db_path, messages = classified
    compiled = (
        db_path.parent
        / ".dbt"
        / db_path.stem
        / "target"
        / "compiled"
        / "kefu"
        / "models"
        / "intermediate"
        / "shared"
        / "int_messages_classified.sql"
    ).read_text(encoding="utf-8")
    body, final = compiled.rsplit("select * from classified", 1)
    assert final.strip() == ""
    listed = {
        (row["shop_id"], row["biz_date"]): row["utc_shift_s"]
        for row in query(db_path, body + "select * from steady_shifts")
    }
    days = {(m["shop_id"], m["sent_at"].date()) for m in messages}
    expected = {}
    for shop, day in days:
        if day in change_days(ZONES[shop]):
            continue
        noon = dt.datetime.combine(day, dt.time(12), ZoneInfo(ZONES[shop]))
        expected[(shop, day)] = -int(noon.utcoffset().total_seconds())
    assert listed == expected
    assert listed[("kathmandu", dt.date(YEAR, 5, 20))] == -(5 * 3600 + 45 * 60)
