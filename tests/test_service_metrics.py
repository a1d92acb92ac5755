"""Service metrics (docs/metrics.md §2, §3, §6, §8): receptions, sessions, rounds,
response times, concurrency and the platform indicators.

One warehouse holds every scenario, each in its own shop, built once for the
module with a real dbt build of the service models. Each test is named after
the rule it checks and asserts numbers worked out by hand (the arithmetic is in
the comments). Times are shop-local wall times; the default ruleset applies:
max_wait_s 1800, slow_reply_s 120, slow_round_count 3, reply_sla_s 180.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import shutil

import duckdb
import pytest

from kefu.build import BuildWindow, build, run_dbt
from tests.support import msg, one, query, write_raw

D1 = dt.date(2026, 5, 1)
D2 = dt.date(2026, 5, 2)
SPRING = dt.date(2026, 3, 8)  # America/New_York: 02:00 EST -> 03:00 EDT
FALL = dt.date(2026, 11, 1)  # America/New_York: 02:00 EDT -> 01:00 EST

# The service models and everything they read (seeds, staging, shared models).
SERVICE_SELECT = "+path:models/intermediate/service +path:models/marts/service"
SERVICE_MARTS = ["fct_rounds", "fct_receptions", "reception_load_hourly", "platform_service_daily"]


def conversation(shop: str, agent: str, buyer: str, day: str, transcript: str) -> list[dict]:
    """Messages of one (shop, account, buyer) on `day` from a transcript such as
    'buyer 10:00:00, agent 10:01:00' (role and local time, in order)."""
    lines = [line.split() for line in transcript.split(",")]
    return [msg(shop, agent, buyer, role, f"{day} {clock}") for role, clock in lines]


def scenario_rows() -> dict[str, list[dict]]:
    d1, d2 = D1.isoformat(), D2.isoformat()
    messages: list[dict] = []

    def add(shop: str, agent: str, buyer: str, transcript: str, day: str = d1) -> None:
        messages.extend(conversation(shop, agent, buyer, day, transcript))

    # docs/metrics.md §3 worked example.
    add(
        "example", "a", "b",
        "buyer 10:10:15, buyer 10:15:20, agent 10:18:10, buyer 10:18:30, agent 10:19:00, "
        "buyer 10:30:00",
    )  # fmt: skip
    # A burst of three buyer messages is one round, timed from the first.
    add("burst", "a", "b", "buyer 09:00:00, buyer 09:00:10, buyer 09:00:20, agent 09:01:00")
    # Follow-up replies answer nothing but count as agent messages.
    add("follow_up", "a", "b", "buyer 09:00:00, agent 09:00:30, agent 09:01:00, assist 09:02:00")
    # Auto replies neither count nor close a round, but they are session messages.
    add(
        "auto", "a", "b",
        "auto 08:59:50, buyer 09:00:00, auto 09:00:01, auto 09:00:30, agent 09:05:00",
    )  # fmt: skip
    # System messages are ignored everywhere: not a reply, not a session message.
    add("system", "a", "b", "buyer 09:00:00, system 09:00:05, agent 09:00:40, system 09:50:00")
    # ... nor a bridge: buyer messages 2400 s apart with a system message between them.
    add("system_gap", "a", "b", "buyer 10:00:00, system 10:20:00, buyer 10:40:00, agent 10:40:30")
    # An assist message (bot text sent by a person) is a valid reply.
    add("assist", "a", "b", "buyer 09:00:00, assist 09:00:45")
    # Replies after midnight belong to the next day's messages.
    add("midnight", "a", "b1", "buyer 23:50:00")
    add("midnight", "a", "b1", "agent 00:05:00, buyer 00:10:00, agent 00:12:00", d2)
    add("midnight", "a", "b2", "buyer 23:55:00")
    add("midnight", "a", "b2", "buyer 00:01:00, agent 00:03:00", d2)
    add("midnight", "a", "b3", "buyer 23:58:00")
    add("midnight", "a", "b3", "agent 00:02:00", d2)
    # Waits of max_wait_s + 1 (untimed, splits the session) and exactly max_wait_s.
    add("long_wait", "a", "over", "buyer 10:00:00, agent 10:30:01")
    add("long_wait", "a", "exact", "buyer 10:00:00, agent 10:30:00")
    # One buyer on two accounts; a second buyer on the second account.
    add("two_accounts", "a1", "b1", "buyer 10:00:00, agent 10:01:00")
    add("two_accounts", "a2", "b1", "buyer 11:00:00")
    add("two_accounts", "a2", "b2", "buyer 12:00:00, agent 12:00:30")
    # A listed (filtered) buyer next to a received one.
    add("filtered", "a", "listed", "buyer 10:00:00, agent 10:01:00")
    add("filtered", "a", "b", "buyer 10:05:00, agent 10:06:00")
    # An account whose only reception is filtered.
    add("all_filtered", "a", "listed", "buyer 10:00:00, agent 10:00:30")
    # The agent writes first; an agent-only day is no reception.
    add("agent_first", "a", "b", "agent 09:00:00, agent 09:10:00, buyer 09:20:00, agent 09:21:00")
    add("agent_first", "a", "agent_only", "agent 09:00:00")
    # Slow rounds and slow receptions.
    add(
        "slow", "a", "three_slow",
        "buyer 10:00:00, agent 10:02:01, buyer 10:03:00, agent 10:05:01, buyer 10:06:00",
    )  # fmt: skip
    add("slow", "a", "two_slow", "buyer 11:00:00, agent 11:02:01, buyer 11:03:00")
    # Boundaries: waits of exactly slow_reply_s, exactly reply_sla_s, and one more second.
    add(
        "boundary", "a", "b",
        "buyer 10:00:00, agent 10:02:00, buyer 10:10:00, agent 10:13:00, buyer 10:20:00, "
        "agent 10:23:01",
    )  # fmt: skip
    # Sessions: a gap of 1799 s stays, 2101 s splits.
    add(
        "sessions", "a", "b",
        "buyer 09:00:00, agent 09:05:00, buyer 09:34:59, agent 10:10:00, buyer 10:10:30",
    )  # fmt: skip
    # Concurrency: sessions that touch at 10:10:00 are open together.
    add("concurrency", "a", "b1", "buyer 10:00:00, agent 10:10:00")
    add("concurrency", "a", "b2", "buyer 10:10:00, agent 10:20:00")
    add("concurrency", "a", "b3", "buyer 10:10:00")
    add("concurrency", "a", "b4", "buyer 10:20:01, agent 10:30:00")
    add("concurrency", "a", "b5", "buyer 10:50:00, agent 11:15:00")
    add("concurrency", "a", "b6", "buyer 11:15:00")
    # A session open from 09:30 to 12:10 (no gap over 1800 s), and one inside hour 11.
    add(
        "long_session", "a", "b1",
        "buyer 09:30:00, agent 09:50:00, buyer 10:15:00, agent 10:40:00, buyer 11:05:00, "
        "agent 11:30:00, buyer 11:50:00, agent 12:10:00",
    )  # fmt: skip
    add("long_session", "a", "b2", "buyer 11:00:00, agent 11:05:00")
    # Platform presets: window edges, every round replied after 10 s ...
    add("platform", "edges", "e0759", "buyer 07:59:59, agent 08:00:09")
    add("platform", "edges", "e0800", "buyer 08:00:00, agent 08:00:10")
    add("platform", "edges", "e0859", "buyer 08:59:59, agent 09:00:09")
    add("platform", "edges", "e0900", "buyer 09:00:00, agent 09:00:10")
    add("platform", "edges", "e2259", "buyer 22:59:59, agent 23:00:09")
    add("platform", "edges", "e2300", "buyer 23:00:00, agent 23:00:10")
    # ... units, SLA and cap ...
    add("platform", "units", "bA", "buyer 10:00:00, agent 10:01:00, buyer 10:10:00, agent 10:15:00")
    add("platform", "units", "bB", "buyer 11:00:00")
    add("platform", "units", "bC", "buyer 12:00:00, agent 12:11:40")
    add("platform", "units", "bD", "buyer 13:00:00, agent 13:00:30")
    add("platform", "units", "bE", "buyer 14:00:00, agent 14:00:20, buyer 15:00:00, agent 15:00:40")
    # ... a jd session opened before 09:00 whose later round is inside the window ...
    add("platform", "late", "bF", "buyer 08:50:00, agent 08:50:20, buyer 09:05:00, agent 09:05:10")
    # ... and an account-day with nothing in any window.
    add("platform", "night", "bG", "buyer 23:30:00, agent 23:30:10")
    # Platform presets, own shops: a round that spans two sessions (buyer 10:00 and
    # 10:40 are 2400 s apart) ...
    add(
        "platform_span", "a", "b",
        "buyer 10:00:00, buyer 10:40:00, agent 10:40:10, buyer 10:50:00, agent 10:50:20",
    )  # fmt: skip
    # ... and a slow round before every window next to a quick one inside them.
    add(
        "platform_early", "a", "b",
        "buyer 07:00:00, agent 07:10:00, buyer 09:00:00, agent 09:00:30",
    )  # fmt: skip
    # Order ties on sent_at go by message_id as text: 'k1' < 'k10' < 'k9'.
    for message_id, role in [("k10", "buyer"), ("k9", "agent"), ("k1", "agent")]:
        messages.append(msg("tie", "a", "b", role, f"{d1} 10:00:00", message_id=message_id))
    # Only text order puts buyer 'k10' before agent 'k2': inserted agent first, and
    # numerically 2 < 10, so insertion or numeric order would leave the round unreplied.
    # Three more buyers alike ('k20' < 'k3', 'k80' < 'k9', 'k123' < 'k7'): with no
    # message_id tiebreak at all, DuckDB's order of equal sent_at is unspecified and
    # varies from run to run and pair to pair; more pairs make that failure likely to show.
    tied = {"b": ("k2", "k10"), "b1": ("k3", "k20"), "b2": ("k9", "k80"), "b3": ("k7", "k123")}
    for buyer, (agent_message_id, buyer_message_id) in tied.items():
        for message_id, role in [(agent_message_id, "agent"), (buyer_message_id, "buyer")]:
            messages.append(
                msg("tie_text", "a", buyer, role, f"{d1} 10:00:00", message_id=message_id)
            )

    # Instants (docs/metrics.md §0): two shops in America/New_York, whose clock skips
    # 02:00-03:00 on 2026-03-08 and repeats 01:00-02:00 on 2026-11-01.
    add("dst_spring", "a", "b1", "buyer 01:59:00, agent 03:01:00", day=SPRING.isoformat())
    add("dst_spring", "a", "b2", "buyer 01:50:00, agent 03:10:00", day=SPRING.isoformat())
    add("dst_fall", "a", "c1", "buyer 00:50:00, agent 01:10:00", day=FALL.isoformat())
    add("dst_fall", "a", "c2", "buyer 01:55:00, agent 02:05:00", day=FALL.isoformat())

    filters = [
        {"shop_id": "filtered", "buyer_id": "listed"},
        {"shop_id": "all_filtered", "buyer_id": "listed"},
    ]
    shops = [
        {"shop_id": shop, "platform": "taobao", "timezone": "America/New_York"}
        for shop in ("dst_spring", "dst_fall")
    ]
    return {"messages": messages, "filters": filters, "shops": shops}


def build_service(db_path, window: BuildWindow | None = None):
    """Build the service models (and what they read) for all days or a window."""
    build(db_path, window or BuildWindow(), select=SERVICE_SELECT)
    return db_path


@pytest.fixture(scope="module")
def rows():
    return scenario_rows()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, rows):
    db_path = tmp_path_factory.mktemp("service") / "w.duckdb"
    write_raw(db_path, rows)
    return build_service(db_path)


def agent_day(db, shop, agent="a", day=D1):
    return one(
        db,
        "select * from intermediate.int_agent_days_serviced "
        "where shop_id = ? and agent_id = ? and biz_date = ?",
        [shop, agent, day],
    )


def shop_day(db, shop, day=D1):
    return one(
        db,
        "select * from intermediate.int_shop_days_serviced where shop_id = ? and biz_date = ?",
        [shop, day],
    )


def reception(db, shop, buyer, agent="a", day=D1):
    return one(
        db,
        "select * from marts.fct_receptions "
        "where shop_id = ? and agent_id = ? and buyer_id = ? and biz_date = ?",
        [shop, agent, buyer, day],
    )


def rounds(db, shop, buyer, agent="a", day=D1):
    return query(
        db,
        "select * from marts.fct_rounds "
        "where shop_id = ? and agent_id = ? and buyer_id = ? and biz_date = ? order by round_seq",
        [shop, agent, buyer, day],
    )


def presets(db, shop, agent):
    found = query(
        db,
        "select * from marts.platform_service_daily where shop_id = ? and agent_id = ?",
        [shop, agent],
    )
    return {row["preset"]: row for row in found}


def mart_contents(db, mart):
    return query(db, f"select * from marts.{mart} order by all")


# docs/metrics.md §3 worked example -------------------------------------------------------------


def test_worked_example_rounds(warehouse):
    found = rounds(warehouse, "example", "b")
    # 10:18:10 − 10:10:15 = 475 s; 10:19:00 − 10:18:30 = 30 s; 10:30:00 never answered.
    assert [r["wait_s"] for r in found] == [475.0, 30.0, None]
    assert [r["is_first_round"] for r in found] == [True, False, False]
    assert [r["is_replied"] for r in found] == [True, True, False]
    # slow: 475 > 120 yes, 30 no, unreplied yes.
    assert [r["is_slow"] for r in found] == [True, False, True]


def test_worked_example_agent_day(warehouse):
    row = agent_day(warehouse, "example")
    assert row["round_cnt"] == 3
    # (475 + 30) / 2 = 252.5
    assert row["response_cnt"] == 2 and row["response_total_s"] == 505.0
    assert row["avg_response_s"] == pytest.approx(252.5)
    # first round only: 475 / 1
    assert row["first_response_cnt"] == 1 and row["avg_first_response_s"] == pytest.approx(475.0)
    # within 180 s: only the 30 s round -> 1 / 3
    assert row["replied_3min_round_cnt"] == 1 and row["reply_3min_rate"] == pytest.approx(1 / 3)
    assert row["replied_buyer_cnt"] == 1 and row["reply_rate"] == pytest.approx(1.0)
    # 2 slow rounds < slow_round_count 3: not a slow reception.
    assert reception(warehouse, "example", "b")["slow_round_cnt"] == 2
    assert row["slow_reception_cnt"] == 0
    # 4 buyer messages, 2 replies: 2 / 4
    assert row["buyer_msg_cnt"] == 4 and row["agent_msg_cnt"] == 2
    assert row["answer_question_ratio"] == pytest.approx(0.5)
    # One session 10:10:15 .. 10:30:00 = 1185 s; 1185 / 1 replied reception.
    assert row["reception_duration_s"] == 1185.0
    assert row["avg_reception_duration_s"] == pytest.approx(1185.0)


# docs/metrics.md §3.1 rounds


def test_buyer_burst_is_one_round_timed_from_its_first_message(warehouse):
    found = rounds(warehouse, "burst", "b")
    # 09:01:00 − 09:00:00 = 60 s, three buyer messages in the round.
    assert len(found) == 1
    assert found[0]["wait_s"] == 60.0 and found[0]["buyer_msg_cnt"] == 3
    row = agent_day(warehouse, "burst")
    assert row["buyer_msg_cnt"] == 3 and row["agent_msg_cnt"] == 1
    assert row["answer_question_ratio"] == pytest.approx(1 / 3)


def test_follow_up_replies_answer_nothing_but_count_as_agent_messages(warehouse):
    found = rounds(warehouse, "follow_up", "b")
    # Only 09:00:00 -> 09:00:30 (30 s); 09:01:00 and 09:02:00 (assist) answer nothing.
    assert [r["wait_s"] for r in found] == [30.0]
    row = agent_day(warehouse, "follow_up")
    assert row["round_cnt"] == 1 and row["response_cnt"] == 1 and row["response_total_s"] == 30.0
    # agent + agent + assist = 3 agent messages for 1 buyer message.
    assert row["agent_msg_cnt"] == 3 and row["answer_question_ratio"] == pytest.approx(3.0)


def test_auto_replies_do_not_count_or_close_rounds_but_are_session_messages(warehouse):
    found = rounds(warehouse, "auto", "b")
    # Closed by the agent at 09:05:00, not the auto replies: 300 s.
    assert [r["wait_s"] for r in found] == [300.0]
    row = agent_day(warehouse, "auto")
    assert row["agent_msg_cnt"] == 1
    # Session from the auto reply 08:59:50 to 09:05:00 = 310 s.
    assert reception(warehouse, "auto", "b")["session_cnt"] == 1
    assert row["reception_duration_s"] == 310.0


def test_system_messages_are_ignored(warehouse):
    found = rounds(warehouse, "system", "b")
    assert [r["wait_s"] for r in found] == [40.0]
    rec = reception(warehouse, "system", "b")
    # The 09:50 system message neither opens a second session nor stretches the first:
    # one session 09:00:00 .. 09:00:40 = 40 s.
    assert rec["session_cnt"] == 1 and rec["reception_duration_s"] == 40.0
    assert rec["agent_msg_cnt"] == 1


def test_system_message_does_not_bridge_a_session_gap(warehouse):
    rec = reception(warehouse, "system_gap", "b")
    # Without the 10:20 system message the gaps are 2400 s (> 1800: splits) and 30 s:
    # sessions [10:00:00] (0 s) and [10:40:00, 10:40:30] (30 s). Bridged it would be one
    # session of 2430 s.
    assert rec["session_cnt"] == 2 and rec["reception_duration_s"] == 30.0
    found = rounds(warehouse, "system_gap", "b")
    # One round: opened 10:00:00, joined by 10:40:00, closed 10:40:30 -> 2430 s,
    # replied but untimed (> 1800) and slow (> 120); it opened in session 1.
    assert [r["wait_s"] for r in found] == [2430.0]
    assert found[0]["buyer_msg_cnt"] == 2 and found[0]["session_seq"] == 1
    assert found[0]["is_replied"] and not found[0]["is_timed"] and found[0]["is_slow"]
    assert rec["is_replied"] and not rec["is_first_round_timed"]


def test_assist_message_closes_a_round(warehouse):
    found = rounds(warehouse, "assist", "b")
    # 09:00:45 − 09:00:00 = 45 s.
    assert [r["wait_s"] for r in found] == [45.0] and found[0]["is_replied"]
    row = agent_day(warehouse, "assist")
    # The assist message is an agent message: 1 / 1; the reception is replied.
    assert row["agent_msg_cnt"] == 1 and row["answer_question_ratio"] == pytest.approx(1.0)
    assert row["replied_buyer_cnt"] == 1 and row["response_total_s"] == 45.0


def test_order_ties_go_by_message_id_as_text(warehouse):
    found = rounds(warehouse, "tie", "b")
    # All at 10:00:00; text order k1 < k10 < k9: k1 answers nothing, k9 closes k10's round.
    assert len(found) == 1 and found[0]["wait_s"] == 0.0 and found[0]["is_replied"]
    assert agent_day(warehouse, "tie")["agent_msg_cnt"] == 2


def test_order_ties_go_by_message_id_as_text_not_insertion_or_number(warehouse):
    # Both at 10:00:00, agent 'k2' inserted before buyer 'k10'. Text order 'k10' < 'k2':
    # the buyer opens the round, k2 closes it, wait 0. Insertion order or numeric order
    # (2 < 10) put the reply first: it would answer nothing and the round stay unreplied.
    # Likewise b1 ('k20' < 'k3'), b2 ('k80' < 'k9') and b3 ('k123' < 'k7').
    for buyer in ["b", "b1", "b2", "b3"]:
        found = rounds(warehouse, "tie_text", buyer)
        assert len(found) == 1 and found[0]["wait_s"] == 0.0 and found[0]["is_replied"], buyer
        assert reception(warehouse, "tie_text", buyer)["is_replied"], buyer
    assert agent_day(warehouse, "tie_text")["replied_buyer_cnt"] == 4


# docs/metrics.md §3.3 midnight


def test_rounds_do_not_cross_midnight(warehouse):
    # Day 1: three buyers write at 23:50, 23:55, 23:58; nobody replies that day.
    day1 = agent_day(warehouse, "midnight", day=D1)
    assert day1["received_buyer_cnt"] == 3 and day1["replied_buyer_cnt"] == 0
    assert day1["round_cnt"] == 3 and day1["response_cnt"] == 0
    assert day1["agent_msg_cnt"] == 0 and day1["reply_rate"] == pytest.approx(0.0)
    assert day1["avg_response_s"] is None


def test_reply_after_midnight_closes_a_round_the_buyer_opened_that_day(warehouse):
    # b2 writes again at 00:01, the agent answers at 00:03: 120 s.
    assert [r["wait_s"] for r in rounds(warehouse, "midnight", "b2", day=D2)] == [120.0]


def test_reply_after_midnight_before_the_buyer_writes_answers_nothing(warehouse):
    # b1: agent 00:05 (answers nothing), buyer 00:10, agent 00:12 -> one round of 120 s.
    assert [r["wait_s"] for r in rounds(warehouse, "midnight", "b1", day=D2)] == [120.0]
    rec = reception(warehouse, "midnight", "b1", day=D2)
    # Both replies are agent messages and session messages: 00:05 .. 00:12 = 420 s.
    assert rec["agent_msg_cnt"] == 2 and rec["reception_duration_s"] == 420.0


def test_reply_after_midnight_counts_nowhere_when_the_buyer_does_not_write(warehouse):
    # b3 does not write on day 2: no reception, and its 00:02 reply counts nowhere.
    day2 = agent_day(warehouse, "midnight", day=D2)
    assert day2["consult_buyer_cnt"] == 2
    # agent messages of day 2: b1 two + b2 one = 3 (not 4).
    assert day2["agent_msg_cnt"] == 3
    assert (
        query(
            warehouse,
            "select * from marts.fct_receptions where shop_id = 'midnight' and buyer_id = 'b3' "
            "and biz_date = ?",
            [D2],
        )
        == []
    )


# docs/metrics.md §3.4 timed waits, §2.5 sessions


def test_wait_over_max_wait_is_replied_but_untimed_and_splits_the_session(warehouse):
    (found,) = rounds(warehouse, "long_wait", "over")
    # 10:30:01 − 10:00:00 = 1801 s > 1800.
    assert found["wait_s"] == 1801.0 and found["is_replied"] and not found["is_timed"]
    rec = reception(warehouse, "long_wait", "over")
    # Two lone messages: two sessions of 0 s each; still replied, but no first response time.
    assert rec["session_cnt"] == 2 and rec["reception_duration_s"] == 0.0
    assert rec["is_replied"] and not rec["is_first_round_timed"]


def test_wait_of_exactly_max_wait_is_timed_and_does_not_split(warehouse):
    (found,) = rounds(warehouse, "long_wait", "exact")
    assert found["wait_s"] == 1800.0 and found["is_timed"]
    rec = reception(warehouse, "long_wait", "exact")
    assert rec["session_cnt"] == 1 and rec["reception_duration_s"] == 1800.0
    row = agent_day(warehouse, "long_wait")
    # Only the 1800 s round is timed: average 1800 / 1; both receptions replied.
    assert row["response_cnt"] == 1 and row["avg_response_s"] == pytest.approx(1800.0)
    assert row["first_response_cnt"] == 1 and row["avg_first_response_s"] == pytest.approx(1800.0)
    assert row["replied_buyer_cnt"] == 2
    # Σ durations (0 + 1800) / 2 replied receptions = 900.
    assert row["avg_reception_duration_s"] == pytest.approx(900.0)


def test_session_durations_sum_per_reception(warehouse):
    rec = reception(warehouse, "sessions", "b")
    # Gaps: 300, 1799 (stays), 2101 (splits), 30.
    # Sessions 09:00:00 .. 09:34:59 = 2099 s and 10:10:00 .. 10:10:30 = 30 s.
    assert rec["session_cnt"] == 2 and rec["reception_duration_s"] == 2129.0
    found = rounds(warehouse, "sessions", "b")
    # Rounds 300 s, 2101 s (replied, untimed; opened in session 1), unreplied (session 2).
    assert [r["wait_s"] for r in found] == [300.0, 2101.0, None]
    assert [r["session_seq"] for r in found] == [1, 1, 2]
    assert [r["is_timed"] for r in found] == [True, False, False]


def test_agent_messages_before_the_buyer_are_in_sessions_and_answer_nothing(warehouse):
    found = rounds(warehouse, "agent_first", "b")
    # 09:00 and 09:10 answer nothing; 09:21 closes the 09:20 round: 60 s.
    assert [r["wait_s"] for r in found] == [60.0]
    rec = reception(warehouse, "agent_first", "b")
    # One session 09:00 .. 09:21 (gaps 600, 600, 60) = 1260 s; 3 agent messages.
    assert rec["session_cnt"] == 1 and rec["reception_duration_s"] == 1260.0
    assert rec["agent_msg_cnt"] == 3 and rec["is_replied"]
    # The agent-only buyer is no reception.
    assert agent_day(warehouse, "agent_first")["consult_buyer_cnt"] == 1


# docs/metrics.md §2.2–2.4 receptions, filters, accounts


def test_buyer_on_two_accounts_is_two_receptions_and_one_shop_buyer(warehouse):
    first = agent_day(warehouse, "two_accounts", "a1")
    second = agent_day(warehouse, "two_accounts", "a2")
    assert (first["received_buyer_cnt"], first["replied_buyer_cnt"]) == (1, 1)
    # a2: b1 unreplied, b2 replied -> 1 / 2.
    assert (second["received_buyer_cnt"], second["replied_buyer_cnt"]) == (2, 1)
    assert second["reply_rate"] == pytest.approx(0.5)
    shop = shop_day(warehouse, "two_accounts")
    # Distinct buyers b1, b2; b1 is replied on a1, so both count as replied.
    assert shop["consult_buyer_cnt"] == 2 and shop["received_buyer_cnt"] == 2
    assert shop["replied_buyer_cnt"] == 2 and shop["unreplied_buyer_cnt"] == 0
    assert shop["reply_rate"] == pytest.approx(1.0)
    # Summed over accounts: 3 rounds, 2 timed (60 + 30) -> 45.
    assert shop["round_cnt"] == 3 and shop["response_total_s"] == 90.0
    assert shop["avg_response_s"] == pytest.approx(45.0)


def test_listed_buyer_is_filtered_with_null_figures(warehouse):
    row = agent_day(warehouse, "filtered")
    assert row["consult_buyer_cnt"] == 2 and row["filtered_buyer_cnt"] == 1
    assert row["received_buyer_cnt"] == 1 and row["replied_buyer_cnt"] == 1
    # Only the received buyer's messages count.
    assert row["buyer_msg_cnt"] == 1 and row["agent_msg_cnt"] == 1 and row["round_cnt"] == 1
    rec = reception(warehouse, "filtered", "listed")
    assert rec["is_filtered"] and rec["first_message_at"] == dt.datetime(2026, 5, 1, 10, 0)
    assert rec["is_replied"] is None and rec["round_cnt"] is None
    assert rec["session_cnt"] is None and rec["reception_duration_s"] is None
    assert rounds(warehouse, "filtered", "listed") == []


def test_rates_are_null_and_counts_zero_when_every_reception_is_filtered(warehouse):
    row = agent_day(warehouse, "all_filtered")
    assert row["consult_buyer_cnt"] == 1 and row["filtered_buyer_cnt"] == 1
    for column in [
        "received_buyer_cnt",
        "replied_buyer_cnt",
        "unreplied_buyer_cnt",
        "buyer_msg_cnt",
        "agent_msg_cnt",
        "round_cnt",
        "response_cnt",
        "first_response_cnt",
        "replied_3min_round_cnt",
        "slow_reception_cnt",
        "max_concurrent_receptions",
    ]:
        assert row[column] == 0, column
    assert row["response_total_s"] == 0.0 and row["reception_duration_s"] == 0.0
    for column in [
        "reply_rate",
        "answer_question_ratio",
        "avg_first_response_s",
        "avg_response_s",
        "reply_3min_rate",
        "avg_reception_duration_s",
    ]:
        assert row[column] is None, column
    shop = shop_day(warehouse, "all_filtered")
    assert (shop["consult_buyer_cnt"], shop["filtered_buyer_cnt"], shop["received_buyer_cnt"]) == (
        1,
        1,
        0,
    )
    assert shop["reply_rate"] is None and shop["reply_3min_rate"] is None
    # No received reception: no platform rows for the account-day.
    assert presets(warehouse, "all_filtered", "a") == {}


# docs/metrics.md §3.7–3.8 slow rounds and SLA boundaries


def test_slow_reception_has_at_least_three_slow_rounds(warehouse):
    # three_slow: 121 s, 121 s, unreplied -> 3 slow rounds; two_slow: 121 s, unreplied -> 2.
    assert reception(warehouse, "slow", "three_slow")["slow_round_cnt"] == 3
    assert reception(warehouse, "slow", "three_slow")["is_slow_reception"]
    assert not reception(warehouse, "slow", "two_slow")["is_slow_reception"]
    assert agent_day(warehouse, "slow")["slow_reception_cnt"] == 1


def test_wait_of_exactly_slow_reply_is_not_slow_and_exactly_reply_sla_is_within(warehouse):
    found = rounds(warehouse, "boundary", "b")
    # 120 s (= slow_reply_s), 180 s (= reply_sla_s), 181 s.
    assert [r["wait_s"] for r in found] == [120.0, 180.0, 181.0]
    assert [r["is_slow"] for r in found] == [False, True, True]
    assert [r["is_within_sla"] for r in found] == [True, True, False]
    row = agent_day(warehouse, "boundary")
    # 2 of 3 rounds within 180 s.
    assert row["replied_3min_round_cnt"] == 2 and row["reply_3min_rate"] == pytest.approx(2 / 3)


# docs/metrics.md §2.6 concurrency


def test_max_concurrency_counts_touching_sessions_as_open_together(warehouse):
    # b1 [10:00, 10:10], b2 [10:10, 10:20], b3 lone at 10:10 -> 3 open at 10:10:00.
    # b4 [10:20:01, 10:30] does not touch b2. b5 [10:50, 11:15], b6 lone at 11:15.
    assert agent_day(warehouse, "concurrency")["max_concurrent_receptions"] == 3


def test_hourly_load(warehouse):
    hours = query(
        warehouse,
        "select hour, consult_buyer_cnt, buyer_msg_cnt, max_concurrent_receptions "
        "from marts.reception_load_hourly where shop_id = 'concurrency' order by hour",
    )
    # Hour 10: b1..b5 write (5 buyers, 5 messages), peak 3 at 10:10:00.
    # Hour 11: b6 writes; b5 is carried in from 10:50 and ends at 11:15:00, when b6's
    # lone session opens -> 2.
    assert hours == [
        {"hour": 10, "consult_buyer_cnt": 5, "buyer_msg_cnt": 5, "max_concurrent_receptions": 3},
        {"hour": 11, "consult_buyer_cnt": 1, "buyer_msg_cnt": 1, "max_concurrent_receptions": 2},
    ]


def test_hourly_load_counts_a_session_in_every_hour_it_is_open(warehouse):
    hours = query(
        warehouse,
        "select hour, consult_buyer_cnt, buyer_msg_cnt, max_concurrent_receptions "
        "from marts.reception_load_hourly where shop_id = 'long_session' order by hour",
    )
    # b1: one session 09:30:00 .. 12:10:00 (gaps 1200, 1500, 1500, 1500, 1500, 1200, 1200
    # s, none > 1800), buyer messages at 09:30, 10:15, 11:05, 11:50.
    # b2: session 11:00:00 .. 11:05:00, open while b1's is.
    # Hour 9: b1 writes, b1 open -> 1. Hour 10: b1 writes, b1 open -> 1.
    # Hour 11: b1 (2 messages) and b2 (1) write, both open at 11:00 -> 2.
    # Hour 12: nobody writes, b1 still open until 12:10 -> 1.
    assert hours == [
        {"hour": 9, "consult_buyer_cnt": 1, "buyer_msg_cnt": 1, "max_concurrent_receptions": 1},
        {"hour": 10, "consult_buyer_cnt": 1, "buyer_msg_cnt": 1, "max_concurrent_receptions": 1},
        {"hour": 11, "consult_buyer_cnt": 2, "buyer_msg_cnt": 3, "max_concurrent_receptions": 2},
        {"hour": 12, "consult_buyer_cnt": 0, "buyer_msg_cnt": 0, "max_concurrent_receptions": 1},
    ]
    # 09:30:00 .. 12:10:00 = 9600 s; the day's peak is the largest hourly one.
    assert reception(warehouse, "long_session", "b1")["reception_duration_s"] == 9600.0
    assert agent_day(warehouse, "long_session")["max_concurrent_receptions"] == 2


def test_reception_duration_over_replied_receptions(warehouse):
    row = agent_day(warehouse, "concurrency")
    # Durations 600 + 600 + 0 + 599 + 1500 + 0 = 3299 s; replied b1, b2, b4, b5 = 4.
    assert row["reception_duration_s"] == 3299.0 and row["replied_buyer_cnt"] == 4
    assert row["avg_reception_duration_s"] == pytest.approx(3299 / 4)


# docs/metrics.md §6 platform indicators


def test_platform_window_edges(warehouse):
    rows = presets(warehouse, "platform", "edges")
    assert set(rows) == {"taobao_platform", "pdd", "kuaishou", "douyin", "jd"}
    # [08:00, 23:00): 08:00:00, 08:59:59, 09:00:00 and 22:59:59 in; 07:59:59 and 23:00:00 out.
    for preset in ["taobao_platform", "douyin", "pdd", "kuaishou"]:
        assert rows[preset]["assessed_cnt"] == 4, preset
        assert rows[preset]["within_sla_cnt"] == 4, preset
    # jd [09:00, 23:00): 09:00:00 and 22:59:59 in; 08:59:59 out. 10 s <= 30 s.
    assert rows["jd"]["assessed_cnt"] == 2 and rows["jd"]["within_sla_cnt"] == 2
    assert rows["jd"]["capped_round_cnt"] == 2 and rows["jd"]["capped_wait_total_s"] == 20.0


def test_platform_round_unit_with_cap(warehouse):
    row = presets(warehouse, "platform", "units")["taobao_platform"]
    # Rounds: bA 60, 300; bB unreplied; bC 700; bD 30; bE 20, 40 -> 7 assessed.
    # Within 180 s: 60, 30, 20, 40 -> 4.
    assert (row["unit"], row["sla_s"]) == ("round", 180)
    assert row["assessed_cnt"] == 7 and row["within_sla_cnt"] == 4
    assert row["sla_reply_rate"] == pytest.approx(4 / 7)
    # Capped at 600: 60 + 300 + 600 (unreplied) + 600 (700) + 30 + 20 + 40 = 1650.
    assert row["capped_round_cnt"] == 7 and row["capped_wait_total_s"] == 1650.0
    assert row["capped_avg_response_s"] == pytest.approx(1650 / 7)


def test_platform_buyer_unit(warehouse):
    for preset in ["pdd", "kuaishou"]:
        row = presets(warehouse, "platform", "units")[preset]
        # 5 buyers assessed; all rounds within 180 s only for bD and bE (bA has 300 s).
        assert row["assessed_cnt"] == 5 and row["within_sla_cnt"] == 2
        assert row["sla_reply_rate"] == pytest.approx(0.4)
        assert row["capped_round_cnt"] == 7 and row["capped_wait_total_s"] == 1650.0


def test_platform_session_unit(warehouse):
    row = presets(warehouse, "platform", "units")["jd"]
    # Sessions: bA (first round 60 s), bB (unreplied), bC (700 s), bD (30 s), bE session 1
    # (20 s), bE session 2 opened 15:00 (40 s) -> 6 assessed, 30 s SLA met by bD and bE#1.
    assert row["assessed_cnt"] == 6 and row["within_sla_cnt"] == 2
    assert row["sla_reply_rate"] == pytest.approx(2 / 6)


def test_platform_session_opened_before_the_window_is_not_assessed(warehouse):
    rows = presets(warehouse, "platform", "late")
    # bF's session opens with a round at 08:50 (before jd's 09:00): not assessed, although
    # its 09:05 round is an assessed round (capped 10 s).
    assert rows["jd"]["assessed_cnt"] == 0 and rows["jd"]["sla_reply_rate"] is None
    assert rows["jd"]["capped_round_cnt"] == 1 and rows["jd"]["capped_wait_total_s"] == 10.0
    assert rows["taobao_platform"]["assessed_cnt"] == 2


def test_platform_round_spanning_two_sessions(warehouse):
    # Buyer 10:00:00 and 10:40:00 (2400 s apart: two sessions), reply 10:40:10 closes the
    # round opened at 10:00:00 -> 2410 s (session 1); buyer 10:50:00, reply 10:50:20 ->
    # 20 s, the first round opened in session 2.
    found = rounds(warehouse, "platform_span", "b")
    assert [r["wait_s"] for r in found] == [2410.0, 20.0]
    assert [r["session_seq"] for r in found] == [1, 2]
    assert reception(warehouse, "platform_span", "b")["session_cnt"] == 2
    rows = presets(warehouse, "platform_span", "a")
    # jd (session, 30 s): sessions 1 (2410 s > 30) and 2 (20 s <= 30) both assessed -> 1 / 2.
    assert rows["jd"]["assessed_cnt"] == 2 and rows["jd"]["within_sla_cnt"] == 1
    assert rows["jd"]["sla_reply_rate"] == pytest.approx(0.5)
    # Every preset caps both assessed rounds: min(2410, 600) + 20 = 620.
    for preset, row in rows.items():
        assert row["capped_round_cnt"] == 2 and row["capped_wait_total_s"] == 620.0, preset
        assert row["capped_avg_response_s"] == pytest.approx(310.0), preset
    # pdd / kuaishou (buyer, 180 s): one buyer assessed, 2410 s > 180 -> 0 within.
    for preset in ["pdd", "kuaishou"]:
        assert rows[preset]["assessed_cnt"] == 1 and rows[preset]["within_sla_cnt"] == 0
    # taobao_platform / douyin (round, 180 s): 2 rounds, only the 20 s one within.
    for preset in ["taobao_platform", "douyin"]:
        assert rows[preset]["assessed_cnt"] == 2 and rows[preset]["within_sla_cnt"] == 1


def test_platform_buyer_unit_ignores_an_unassessed_slow_round(warehouse):
    rows = presets(warehouse, "platform_early", "a")
    # Rounds 07:00:00 -> 07:10:00 (600 s, before every window) and 09:00:00 -> 09:00:30
    # (30 s, inside every window); gap 07:10 -> 09:00 = 6600 s splits the sessions.
    # pdd / kuaishou: the buyer's only assessed round is 30 s <= 180 -> 1 / 1.
    for preset in ["pdd", "kuaishou"]:
        row = rows[preset]
        assert row["assessed_cnt"] == 1 and row["within_sla_cnt"] == 1, preset
        assert row["sla_reply_rate"] == pytest.approx(1.0), preset
        # Only the assessed round is capped: 30 s.
        assert row["capped_round_cnt"] == 1 and row["capped_wait_total_s"] == 30.0, preset
    # jd: session 2 opens with the 09:00:00 round (window start included); 30 s is exactly
    # jd's sla_s, within -> 1 / 1. Session 1 (07:00) is not assessed.
    assert rows["jd"]["assessed_cnt"] == 1 and rows["jd"]["within_sla_cnt"] == 1


def test_platform_rows_present_with_nothing_assessed(warehouse):
    rows = presets(warehouse, "platform", "night")
    # One round at 23:30: outside every window; each preset still has its row.
    assert len(rows) == 5
    for row in rows.values():
        assert row["assessed_cnt"] == 0 and row["within_sla_cnt"] == 0
        assert row["capped_round_cnt"] == 0 and row["capped_wait_total_s"] == 0.0
        assert row["sla_reply_rate"] is None and row["capped_avg_response_s"] is None


# Publication ----------------------------------------------------------------------------


def test_marts_hold_no_message_text(warehouse):
    columns = query(
        warehouse,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and column_name in ('content', 'msg_type', 'message_id')",
    )
    assert columns == []


def test_keyword_filter_and_pseudonymised_buyers(tmp_path, monkeypatch):
    """A buyer message with a keyword of seed filter_keywords filters its reception.
    The shared seed is empty, so the keyword goes into the built seed table, then the
    models (not the seed) are built again; that build also pseudonymises buyer ids
    (HMAC-SHA256 under KEFU_PSEUDONYM_KEY, see tests/test_pseudonyms.py)."""
    monkeypatch.setenv("KEFU_PSEUDONYM_KEY", "test-key")
    db_path = tmp_path / "w.duckdb"
    write_raw(
        db_path,
        {
            "messages": [
                msg("keyword", "a", "spam", "buyer", "2026-05-01 10:00:00", content="加我VX领券"),
                msg("keyword", "a", "spam", "agent", "2026-05-01 10:00:30"),
                msg("keyword", "a", "ok", "buyer", "2026-05-01 10:01:00", content="在吗"),
                msg("keyword", "a", "ok", "agent", "2026-05-01 10:01:30"),
                # The keyword in an agent message does not filter.
                msg("keyword", "a", "agent_said", "buyer", "2026-05-01 10:02:00", content="好的"),
                msg("keyword", "a", "agent_said", "agent", "2026-05-01 10:02:30", content="加VX"),
            ]
        },
    )
    run_dbt(db_path, ["seed"])
    with duckdb.connect(str(db_path)) as con:
        con.execute("insert into seeds.filter_keywords values ('*', 'vx')")
    dbt_vars = {**BuildWindow().dbt_vars(), "pseudonymise_buyers": True}
    run_dbt(
        db_path,
        [
            "build",
            "--vars",
            json.dumps(dbt_vars),
            "--select",
            SERVICE_SELECT,
            "--exclude",
            "resource_type:seed",
            "--indirect-selection",
            "cautious",
        ],
    )
    row = agent_day(db_path, "keyword")
    # 'VX' matches 'vx' case-insensitively in spam's buyer message; agent_said's 'VX' is
    # in an agent message: 3 consulting, 1 filtered (spam), 2 received (ok, agent_said).
    assert (row["consult_buyer_cnt"], row["filtered_buyer_cnt"], row["received_buyer_cnt"]) == (
        3,
        1,
        2,
    )
    published = {
        r["buyer_id"]: r["is_filtered"]
        for r in query(db_path, "select buyer_id, is_filtered from marts.fct_receptions")
    }
    spam_key = hmac.new(b"test-key", b"spam", hashlib.sha256).hexdigest()
    ok_key = hmac.new(b"test-key", b"ok", hashlib.sha256).hexdigest()
    agent_said_key = hmac.new(b"test-key", b"agent_said", hashlib.sha256).hexdigest()
    assert published == {spam_key: True, ok_key: False, agent_said_key: False}


# Builds: repeatable, and day by day equals all at once -------------------------------------


def test_building_twice_gives_identical_marts(warehouse, tmp_path):
    copy = tmp_path / "again.duckdb"
    shutil.copy(warehouse, copy)
    build_service(copy)
    for mart in SERVICE_MARTS:
        assert mart_contents(copy, mart) == mart_contents(warehouse, mart), mart


def test_building_day_by_day_equals_building_all_at_once(warehouse, rows, tmp_path):
    db_path = tmp_path / "daily.duckdb"
    write_raw(db_path, rows)
    for day in [SPRING, D1, D2, FALL]:
        build_service(db_path, BuildWindow(start=day, end=day))
    for mart in SERVICE_MARTS:
        daily = mart_contents(db_path, mart)
        assert daily, mart
        assert daily == mart_contents(warehouse, mart), mart


# docs/metrics.md §0: durations are differences of instants, marts show local wall time


def test_wait_across_spring_forward_is_the_time_that_passed(warehouse):
    (found,) = rounds(warehouse, "dst_spring", "b1", day=SPRING)
    # 01:59 EST (06:59Z) -> 03:01 EDT (07:01Z) = 120 s, not the 3,720 s of the wall clock.
    assert found["wait_s"] == 120.0 and found["is_timed"] and found["is_within_sla"]
    assert not found["is_slow"]
    # The mart still shows the wall times the shop saw.
    assert found["asked_at"] == dt.datetime(2026, 3, 8, 1, 59)
    assert found["replied_at"] == dt.datetime(2026, 3, 8, 3, 1)
    rec = reception(warehouse, "dst_spring", "b1", day=SPRING)
    assert rec["session_cnt"] == 1 and rec["reception_duration_s"] == 120.0


def test_spring_forward_does_not_split_a_session(warehouse):
    # 01:50 EST -> 03:10 EDT: 1,200 s passed (80 minutes of wall clock, over max_wait_s).
    (found,) = rounds(warehouse, "dst_spring", "b2", day=SPRING)
    assert found["wait_s"] == 1200.0 and found["is_timed"] and found["is_slow"]
    rec = reception(warehouse, "dst_spring", "b2", day=SPRING)
    assert rec["session_cnt"] == 1 and rec["reception_duration_s"] == 1200.0
    row = agent_day(warehouse, "dst_spring", day=SPRING)
    # Both rounds timed: (120 + 1200) / 2 = 660 s.
    assert row["response_cnt"] == 2 and row["avg_response_s"] == pytest.approx(660.0)


def test_hourly_load_skips_the_hour_the_clock_skips(warehouse):
    hours = query(
        warehouse,
        "select hour, consult_buyer_cnt, max_concurrent_receptions "
        "from marts.reception_load_hourly where shop_id = 'dst_spring' order by hour",
    )
    # Sessions 01:59-03:01 and 01:50-03:10: both open at 01:59 and carried into hour 3;
    # there is no 02:00-02:59 that night, so no row for hour 2.
    assert hours == [
        {"hour": 1, "consult_buyer_cnt": 2, "max_concurrent_receptions": 2},
        {"hour": 3, "consult_buyer_cnt": 0, "max_concurrent_receptions": 2},
    ]


def test_repeated_wall_time_is_read_as_its_first_occurrence(warehouse):
    # 00:50 EDT -> 01:10, read as 01:10 EDT (its first occurrence): 1,200 s.
    (found,) = rounds(warehouse, "dst_fall", "c1", day=FALL)
    assert found["wait_s"] == 1200.0 and found["is_timed"]
    # 01:55 EDT (05:55Z) -> 02:05 EST (07:05Z): 4,200 s passed although the wall
    # clock moved 10 minutes: replied but untimed, and the silence splits the session.
    (late,) = rounds(warehouse, "dst_fall", "c2", day=FALL)
    assert late["wait_s"] == 4200.0 and late["is_replied"] and not late["is_timed"]
    rec = reception(warehouse, "dst_fall", "c2", day=FALL)
    assert rec["session_cnt"] == 2 and rec["reception_duration_s"] == 0.0
