"""`kefu bench`: the pure parts (ratio table, argument checks) and the baseline query on
a hand-made raw.messages. Nothing here times anything: the bench prints, never asserts."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from kefu.bench import (
    BASELINE_SQL,
    Goal,
    PhaseResult,
    check_history_args,
    goal_rows,
    history_goals,
    median_result,
    step_times,
)
from kefu.cli import main


def _result(label: str, phase: str, seconds: float, ok: bool = True) -> PhaseResult:
    return PhaseResult(label, phase, 1_000, ok, seconds, seconds + 1, 100.0)


def test_goal_rows_divide_the_phase_times_and_judge_the_limit():
    results = [
        _result("short", "window", 3.0),
        _result("short", "full", 20.0),
        _result("long", "window", 4.5),
        _result("short", "noop", 0.5),
        _result("long", "noop", 0.5),
        _result("long", "full", 60.0),
        _result("long", "baseline", 10.0),
    ]
    lines = goal_rows(history_goals("short", "long"), results)
    assert lines[0].split() == ["goal", "ratio", "limit", "met"]
    by_name = {line[:52].strip(): line[52:].split() for line in lines[1:]}
    assert by_name["flat in history: window build long / short"] == ["1.50", "1.2", "NO"]
    assert by_name["proportional: window / full build (short)"] == ["0.15", "0.3", "yes"]
    assert by_name["no-op night / full build (short)"] == ["0.03", "-", "-"]
    assert by_name["no-op night long / short"] == ["1.00", "1.2", "yes"]
    assert by_name["close to the floor: full / baseline (long)"] == ["6.00", "5.0", "NO"]


def test_goal_rows_say_na_for_a_missing_or_failed_phase():
    goals = (Goal("g", ("a", "x"), ("a", "y"), 2.0),)
    assert goal_rows(goals, [_result("a", "x", 1.0)])[1].split()[-2:] == ["2.0", "n/a"]
    failed = [_result("a", "x", 1.0), _result("a", "y", 1.0, ok=False)]
    assert goal_rows(goals, failed)[1].split()[-2:] == ["2.0", "n/a"]


def test_a_phase_run_several_times_counts_by_its_median_run():
    runs = [
        PhaseResult("long", "noop", 1_000, True, 1.4, 2.4, 300.0),
        _result("long", "noop", 0.9),
        _result("long", "noop", 1.1),
    ]
    median = median_result(runs)
    assert (median.seconds, median.wall_s) == (1.1, 2.1)  # the middle run, whole
    assert median.peak_rss_mb == 300.0  # the highest of the three
    assert median.note == "1.40, 0.90, 1.10 s"
    assert median_result(runs[:1]) is runs[0]
    failed = [*runs, _result("long", "noop", 0.5, ok=False)]
    assert median_result(failed).ok is False


def test_step_times_name_each_step_of_a_phase_with_its_seconds():
    steps = [("models", 5.26), ("checks", 3.449), ("publication", 1.0)]
    assert step_times(steps) == "models 5.3 s, checks 3.4 s, publication 1.0 s"


@pytest.mark.parametrize(
    ("days", "short_days", "per_day", "word"),
    [(120, 30, 0, "--per-day"), (120, 5, 10, "--short-days"), (30, 30, 10, "--days")],
)
def test_history_arguments_are_refused_with_the_argument_named(days, short_days, per_day, word):
    with pytest.raises(ValueError, match=word):
        check_history_args(days, short_days, per_day)
    check_history_args(120, 30, 10)  # the defaults' shape passes


def test_cli_refuses_a_long_history_shorter_than_the_short_one(capsys, tmp_path):
    code = main(["bench", "--days", "20", "--per-day", "100", "--workdir", str(tmp_path)])
    assert code == 2
    assert "--days (20) must exceed --short-days (30)" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # nothing generated


def test_baseline_query_counts_rounds_and_averages_timed_waits():
    """a1 / b1 on 05-01: buyer 10:00, 10:00:30, agent 10:01 (round 1, wait 60 s), agent
    10:02 (follow-up), buyer 10:05, auto 10:05:10 (no reply), assist 10:07 (round 2, wait
    120 s), buyer 23:00 unreplied (round 3); b2: buyer 09:00, agent 10:00 (wait 3600 s, not
    timed); system messages ignored. a1 / b1 on 05-02: agent 00:10 (answers nothing)."""
    t = dt.datetime
    rows = [
        ("m01", "a1", "b1", t(2026, 5, 1, 10, 0, 0), "buyer"),
        ("m02", "a1", "b1", t(2026, 5, 1, 10, 0, 30), "buyer"),
        ("m03", "a1", "b1", t(2026, 5, 1, 10, 1, 0), "agent"),
        ("m04", "a1", "b1", t(2026, 5, 1, 10, 2, 0), "agent"),
        ("m05", "a1", "b1", t(2026, 5, 1, 10, 5, 0), "buyer"),
        ("m06", "a1", "b1", t(2026, 5, 1, 10, 5, 10), "auto"),
        ("m07", "a1", "b1", t(2026, 5, 1, 10, 7, 0), "assist"),
        ("m08", "a1", "b1", t(2026, 5, 1, 23, 0, 0), "buyer"),
        ("m09", "a1", "b2", t(2026, 5, 1, 9, 0, 0), "buyer"),
        ("m10", "a1", "b2", t(2026, 5, 1, 9, 30, 0), "system"),
        ("m11", "a1", "b2", t(2026, 5, 1, 10, 0, 0), "agent"),
        ("m12", "a1", "b1", t(2026, 5, 2, 0, 10, 0), "agent"),
    ]
    with duckdb.connect() as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.messages (message_id varchar, shop_id varchar, agent_id varchar,"
            " buyer_id varchar, sent_at timestamp, sender_role varchar)"
        )
        con.executemany(
            "insert into raw.messages values (?, 's1', ?, ?, ?, ?)",
            [list(row) for row in rows],
        )
        result = con.execute(f"select * from ({BASELINE_SQL}) order by biz_date").fetchall()
    assert result == [("s1", "a1", dt.date(2026, 5, 1), 2, 4, 90.0)]
