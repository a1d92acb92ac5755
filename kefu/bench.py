"""`kefu bench`: wall time and peak memory of generate, load and build on N messages.

The same phases run first on a baseline of N/10 messages (same seed, same days),
so that the table shows how the cost per message scales. Each phase runs in a
child process of its own: its peak RSS is the child's `ru_maxrss` as `os.wait4`
reports it (the child and every process it waited for), so one phase's memory
never hides in another's. The phase time is measured inside the child (after
the imports); the process's wall time, interpreter start included, is shown
beside it. Nothing here asserts a time: the numbers are printed, not judged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kefu.machine import memory_limit

PHASES = ("generate", "load", "build")
# Generated data ends on this day, whatever the number of days: the loader holds back
# times after the load day (+1), so the history is laid out before it, and the same
# arguments give the same data on any day.
BENCH_LAST_DAY = dt.date(2026, 9, 30)
BENCH_MARKER = ".kefu-bench"
_CHILD = "import sys; from kefu.bench import phase_main; sys.exit(phase_main(sys.argv[1:]))"


@dataclass(frozen=True)
class PhaseResult:
    label: str
    phase: str
    messages: int
    ok: bool
    seconds: float  # inside the child, after imports
    wall_s: float  # the whole child process
    peak_rss_mb: float
    note: str = ""

    @property
    def us_per_message(self) -> float:
        return self.seconds / self.messages * 1e6


def run_bench(messages: int, seed: int, workdir: Path | None, days: int | None = None) -> int:
    """Generate, load and build `messages` messages spread over `days` days (the
    generator's default when None) and a baseline of a tenth of them over the same days;
    print one table row per size and phase. 0 when every phase succeeded."""
    if messages < 1:
        raise ValueError(f"messages must be positive, got {messages}")
    if days is not None and days < 1:
        raise ValueError(f"--days must be positive, got {days}")
    scratch = workdir is None
    root = Path(tempfile.mkdtemp(prefix="kefu-bench-")) if scratch else Path(workdir)
    baseline = max(1_000, messages // 10)
    sizes = [("baseline", baseline), ("full", messages)] if baseline < messages else []
    sizes = sizes or [("full", messages)]
    span = f"{days} days" if days else "the generator's default days"
    print(
        f"kefu bench: {messages:,} messages (baseline {baseline:,}) over {span}, seed {seed}, "
        f"workdir {root}, {os.cpu_count()} CPUs, DuckDB memory limit {memory_limit()}"
    )
    print(_HEADER)
    results: list[PhaseResult] = []
    try:
        for label, size in sizes:
            folder = _bench_folder(root / f"{label}-{size}")
            landing, db_path = folder / "landing", folder / "warehouse.duckdb"
            for phase in PHASES:
                result = _run_phase(label, phase, size, seed, landing, db_path, days)
                results.append(result)
                print(_row(result, _baseline_of(results, result)), flush=True)
                if not result.ok and phase != "load":
                    break  # nothing to load or build from
    finally:
        if scratch:
            shutil.rmtree(root, ignore_errors=True)
    print(_legend())
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(f"kefu bench: {result.label} {result.phase} failed: {result.note}", file=sys.stderr)
    return 1 if failed else 0


def _bench_folder(folder: Path) -> Path:
    """A folder of this bench: new, or one an earlier bench made (its warehouse is
    removed so that the load really loads); never someone else's folder."""
    marker = folder / BENCH_MARKER
    if folder.exists() and any(folder.iterdir()) and not marker.exists():
        raise FileExistsError(f"{folder} exists and was not made by kefu bench ({BENCH_MARKER})")
    folder.mkdir(parents=True, exist_ok=True)
    marker.touch()
    for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
        (folder / name).unlink(missing_ok=True)
    return folder


def _run_phase(
    label: str,
    phase: str,
    messages: int,
    seed: int,
    landing: Path,
    db_path: Path,
    days: int | None = None,
) -> PhaseResult:
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    args = [sys.executable, "-c", _CHILD, phase, str(landing), str(db_path), str(messages)]
    args += [str(seed)] + ([str(days)] if days is not None else [])
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        started = time.perf_counter()
        child = subprocess.Popen(args, stdout=out_file, stderr=err_file, env=env)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage
        wall = time.perf_counter() - started
        code = child.returncode = os.waitstatus_to_exitcode(status)
        out_file.seek(0)
        err_file.seek(0)
        out = out_file.read().decode("utf-8", "replace")
        err = err_file.read().decode("utf-8", "replace")
    report = _last_json_line(out)
    note = report.get("note", "")
    if code != 0 and not note:
        note = (err.strip().splitlines() or [f"exit status {code}"])[-1]
    return PhaseResult(
        label=label,
        phase=phase,
        messages=messages,
        ok=code == 0,
        seconds=float(report.get("seconds", wall)),
        wall_s=wall,
        peak_rss_mb=usage.ru_maxrss / 1024,  # Linux: kilobytes
        note=note,
    )


def _last_json_line(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return {}
    return {}


def phase_main(argv: list[str]) -> int:
    """Child process: run one phase, print a JSON line with its time and a note."""
    phase, landing, db_path, messages, seed, *rest = argv
    landing_dir, db = Path(landing), Path(db_path)
    days = int(rest[0]) if rest else None
    if phase in HISTORY_PHASES:
        return _history_phase(phase, landing_dir, db)
    if phase == "generate":
        from kefu.demo_data import DEFAULT_DAYS, generate_landing

        started = time.perf_counter()
        span = days or DEFAULT_DAYS
        summary = generate_landing(
            landing_dir,
            messages=int(messages),
            seed=int(seed),
            start_date=BENCH_LAST_DAY - dt.timedelta(days=span - 1),
            days=span,
        )
        result = {"seconds": time.perf_counter() - started, "note": summary}
        code = 0
    elif phase == "load":
        from kefu.loader import load_landing

        started = time.perf_counter()
        report = load_landing(db, landing_dir)
        result = {"seconds": time.perf_counter() - started}
        code = 0
        quarantined = sum(r.rows_quarantined for r in report.loaded)
        if report.rejected:
            result["note"] = report.reason()
            code = 1
        elif quarantined:
            # Generated rows are clean: a quarantined one means the bench measures less
            # than it says (e.g. days after the load day, which the loader holds back).
            result["note"] = f"{quarantined:,} rows quarantined (see raw.quarantine)"
            code = 1
    elif phase == "build":
        from kefu.build import BuildError, build

        started = time.perf_counter()
        code = 0
        try:
            build(db)
            result = {}
        except BuildError as exc:
            result = {"note": str(exc)}
            code = 1
        result["seconds"] = time.perf_counter() - started
    else:
        raise ValueError(f"unknown bench phase {phase!r}")
    print(json.dumps(result, ensure_ascii=False))
    return code


def _baseline_of(results: list[PhaseResult], result: PhaseResult) -> PhaseResult | None:
    if result.label == "baseline":
        return None
    return next(
        (r for r in results if r.label == "baseline" and r.phase == result.phase and r.ok), None
    )


_HEADER = (
    f"{'size':<9} {'phase':<9} {'messages':>12} {'phase_s':>9} {'wall_s':>8} "
    f"{'peak_rss_mb':>11} {'msgs_per_s':>12} {'us_per_msg':>10} {'cost_ratio':>10}"
)


def _row(result: PhaseResult, baseline: PhaseResult | None) -> str:
    rate = result.messages / result.seconds if result.seconds > 0 else float("nan")
    ratio = f"{result.us_per_message / baseline.us_per_message:10.2f}" if baseline else " " * 10
    status = "" if result.ok else "  FAILED"
    return (
        f"{result.label:<9} {result.phase:<9} {result.messages:>12,} "
        f"{result.seconds:>9.1f} {result.wall_s:>8.1f} {result.peak_rss_mb:>11.0f} "
        f"{rate:>12,.0f} {result.us_per_message:>10.2f} {ratio}{status}"
    )


def _legend() -> str:
    return (
        "phase_s: the phase inside its process; wall_s: the whole process (interpreter and "
        "imports included); peak_rss_mb: the process's peak resident memory; cost_ratio: "
        "microseconds per message against the baseline (1.0 = linear scaling)."
    )


# ------------------------------------------------ history bench: kefu bench --days N


# The phases of one warehouse of the history bench, in order. `full` is a recorded full
# build (it takes in the load run, as the first night would); `window` rebuilds the last
# WINDOW_DAYS days as a night does; `noop` is `kefu run-nightly` with nothing new to load;
# `baseline` is one hand-written DuckDB query over raw.messages (see BASELINE_SQL).
HISTORY_PHASES = ("full", "window", "noop", "baseline")
# The no-op night runs this many times, each in its own process, and counts by its median:
# it is about a second, most of it importing Python modules, whose time alone varies by
# ±0.3 s from one process to the next on this machine (docs/performance.md, ninth pass).
NOOP_RUNS = 3
HISTORY_DAYS = 120  # the long warehouse's days when --days is not given
WINDOW_DAYS = 5
SHORT_DAYS = 30

# The floor of a build: agent-day consult buyers, rounds and average response time in one
# pass over raw.messages (metrics.md §2-3, without filters, sessions, orders or the
# midnight rule): a round opens at a buyer message after a valid reply (or at the
# reception's first buyer message) and closes at the next agent / assist message; a
# round's wait counts in the average when it is at most max_wait_s (1800 s by default).
BASELINE_SQL = """
with
marked as (
    select
        shop_id, agent_id, buyer_id, message_id, sent_at, sender_role,
        cast(sent_at as date) as biz_date,
        lag(sender_role) over reception as previous_role
    from raw.messages
    where sender_role in ('buyer', 'agent', 'assist')
    window reception as (
        partition by shop_id, agent_id, buyer_id, cast(sent_at as date)
        order by sent_at, message_id
    )
),
numbered as (
    select
        *,
        sum(case when sender_role = 'buyer' and coalesce(previous_role, 'agent') <> 'buyer'
            then 1 else 0 end) over (
            partition by shop_id, agent_id, buyer_id, biz_date
            order by sent_at, message_id rows unbounded preceding
        ) as round_no
    from marked
),
rounds as (
    select
        shop_id, agent_id, buyer_id, biz_date, round_no,
        min(sent_at) filter (where sender_role = 'buyer') as opened_at,
        min(sent_at) filter (where sender_role <> 'buyer') as replied_at
    from numbered
    where round_no > 0
    group by all
)
select
    shop_id, agent_id, biz_date,
    count(distinct buyer_id) as consult_buyer_cnt,
    count(*) as round_cnt,
    avg(epoch(replied_at) - epoch(opened_at)) filter (
        where epoch(replied_at) - epoch(opened_at) <= 1800
    ) as avg_response_s
from rounds
group by all
"""


@dataclass(frozen=True)
class Goal:
    """One ratio the issue sets: numerator / denominator (phase results), its limit."""

    name: str
    numerator: tuple[str, str]  # (warehouse label, phase)
    denominator: tuple[str, str]
    limit: float | None  # None: reported, no number set ("close to nothing")


def history_goals(short: str, long: str) -> tuple[Goal, ...]:
    window, full, noop = "window", "full", "noop"
    return (
        Goal("flat in history: window build long / short", (long, window), (short, window), 1.2),
        Goal("proportional: window / full build (short)", (short, window), (short, full), 0.3),
        Goal("no-op night / full build (short)", (short, noop), (short, full), None),
        Goal("no-op night long / short", (long, noop), (short, noop), 1.2),
        Goal("close to the floor: full / baseline (long)", (long, full), (long, "baseline"), 5.0),
    )  # fmt: skip


def goal_rows(goals: tuple[Goal, ...], results: list[PhaseResult]) -> list[str]:
    """One line per goal: the ratio of the phase times, the limit and whether it holds
    ('n/a' when a phase is missing or failed)."""
    seconds = {(r.label, r.phase): r.seconds for r in results if r.ok}
    lines = [f"{'goal':<52} {'ratio':>7} {'limit':>6}  met"]
    for goal in goals:
        top, bottom = seconds.get(goal.numerator), seconds.get(goal.denominator)
        limit = f"{goal.limit:6.1f}" if goal.limit is not None else "     -"
        if top is None or not bottom:
            lines.append(f"{goal.name:<52} {'n/a':>7} {limit}  n/a")
            continue
        ratio = top / bottom
        met = "-" if goal.limit is None else ("yes" if ratio <= goal.limit else "NO")
        lines.append(f"{goal.name:<52} {ratio:7.2f} {limit}  {met}")
    return lines


def check_history_args(days: int, short_days: int, per_day: int) -> None:
    """Refuse sizes the bench cannot compare (one line naming the argument)."""
    if per_day < 1:
        raise ValueError(f"--per-day must be positive, got {per_day}")
    if short_days <= WINDOW_DAYS:
        raise ValueError(f"--short-days must exceed the {WINDOW_DAYS}-day window, got {short_days}")
    if days <= short_days:
        raise ValueError(f"--days ({days}) must exceed --short-days ({short_days})")


def run_history_bench(
    days: int, per_day: int, seed: int, workdir: Path | None, short_days: int = SHORT_DAYS
) -> int:
    """Two warehouses at the same daily traffic (`short_days` and `days` days of
    `per_day` messages): generate, load, full build, 5-day window build, no-op night and
    the single-pass baseline, each in a child process; then the issue's ratios."""
    check_history_args(days, short_days, per_day)
    scratch = workdir is None
    root = Path(tempfile.mkdtemp(prefix="kefu-bench-")) if scratch else Path(workdir)
    sizes = [("short", short_days), ("long", days)]
    print(
        f"kefu bench: {per_day:,} messages a day, {short_days} and {days} days, seed {seed}, "
        f"workdir {root}, {os.cpu_count()} CPUs"
    )
    print(_HEADER)
    results: list[PhaseResult] = []
    try:
        for label, size_days in sizes:
            folder = _bench_folder(root / f"{label}-{size_days}d")
            landing, db_path = folder / "landing", folder / "warehouse.duckdb"
            _remove_published(folder)
            messages = size_days * per_day
            for phase in ("generate", "load", *HISTORY_PHASES):
                runs: list[PhaseResult] = []
                while len(runs) < (NOOP_RUNS if phase == "noop" else 1):
                    runs.append(
                        _run_phase(label, phase, messages, seed, landing, db_path, size_days)
                    )
                    if not runs[-1].ok:
                        break
                result = median_result(runs)
                results.append(result)
                print(_row(result, None), flush=True)
                if not result.ok:
                    break
    finally:
        if scratch:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print("\n".join(goal_rows(history_goals("short", "long"), results)))
    noops = "; ".join(f"{r.label} {r.note}" for r in results if r.phase == "noop" and r.ok)
    print(
        "phase_s: the phase inside its process; peak_rss_mb: the process's peak resident "
        f"memory; ratios: phase_s over phase_s; noop: the median of {NOOP_RUNS} runs"
        + (f" (their times: {noops})." if noops else ".")
    )
    for result in results:
        if result.phase in ("full", "window") and result.ok and result.note:
            print(f"{result.label} {result.phase}: {result.note}")
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(f"kefu bench: {result.label} {result.phase} failed: {result.note}", file=sys.stderr)
    return 1 if failed else 0


def median_result(runs: list[PhaseResult]) -> PhaseResult:
    """One phase run several times: the run of the median phase time (the upper middle of
    an even count), with the peak memory of them all and every run's time in its note;
    a failed run stands for the phase. One run: itself."""
    if len(runs) == 1:
        return runs[0]
    failed = [run for run in runs if not run.ok]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda run: run.seconds)
    middle = ordered[len(ordered) // 2]
    times = ", ".join(f"{run.seconds:.2f}" for run in runs)
    return dataclasses.replace(
        middle, peak_rss_mb=max(run.peak_rss_mb for run in runs), note=f"{times} s"
    )


def _remove_published(folder: Path) -> None:
    shutil.rmtree(folder / "published", ignore_errors=True)
    shutil.rmtree(folder / ".dbt", ignore_errors=True)


def _history_phase(phase: str, landing_dir: Path, db: Path) -> int:
    """Child process of one history phase: run it, print a JSON line."""
    started = time.perf_counter()
    result: dict = {}
    code = 0
    try:
        if phase == "baseline":
            import duckdb

            with duckdb.connect(str(db), read_only=True) as con:
                rows = con.execute(f"select count(*) from ({BASELINE_SQL})").fetchone()[0]
            result["note"] = f"{rows:,} agent-days"
        elif phase == "noop":
            from kefu.nightly import run_nightly

            outcome = run_nightly(
                db, landing_dir, publish_path=db.parent / "published" / "k.duckdb"
            )
            result["note"] = outcome.plan.describe() if outcome.plan else outcome.reason()
            code = 0 if outcome.success else 1
        else:
            result["note"] = _recorded_build(phase, db)
    except Exception as exc:  # noqa: BLE001 - reported as the phase's note
        result["note"] = f"{type(exc).__name__}: {exc}"
        code = 1
    result["seconds"] = time.perf_counter() - started
    print(json.dumps(result, ensure_ascii=False, default=str))
    return code


def _recorded_build(phase: str, db: Path) -> str:
    """`full`: every day, taking in every load run (as a first night, `kefu build`: models
    and data tests); `window`: the last WINDOW_DAYS days as of the data's last day as a
    night builds them (models, then `kefu check` over the window). Both are
    recorded in raw.build_runs and published, as the nightly does, so that the no-op
    night that follows finds the watermark up to date. Returns the time of each step
    (step_times)."""
    from kefu import warehouse
    from kefu.build import BuildWindow, parsed_once
    from kefu.checks import run_checks
    from kefu.nightly import (
        build_recorded,
        pending_runs,
        publication_row,
        publish,
        unpublished_days,
    )

    steps: list[tuple[str, float]] = []
    started = time.perf_counter()
    with warehouse.connect(db) as con:
        as_of = warehouse.data_last_day(con)
    if phase == "full":
        window = BuildWindow(as_of=as_of)
        build_id = build_recorded(db, window, pending_runs(db), f"kefu bench {phase}")
        steps.append(("build with its tests", time.perf_counter() - started))
    else:
        # As the nightly: the models of the window, then its data tests and GX suites once.
        window = BuildWindow(as_of - dt.timedelta(days=WINDOW_DAYS - 1), as_of, as_of)
        runs = pending_runs(db)
        with parsed_once():
            build_id = build_recorded(db, window, runs, f"kefu bench {phase}", data_tests=False)
            steps.append(("models", time.perf_counter() - started))
            target = db.parent / "published" / "k.duckdb"
            checked = time.perf_counter()
            checks = run_checks(
                db, window=unpublished_days(db, build_id, window, target), load_runs=runs
            )
            steps.append(("checks", time.perf_counter() - checked))
        if not checks.success:
            raise RuntimeError(checks.reason())
    published = time.perf_counter()
    row = publication_row(db, build_id, as_of, (window.start, window.end))
    publish(db, row, db.parent / "published" / "k.duckdb", build_id)
    steps.append(("publication", time.perf_counter() - published))
    return step_times(steps)


def step_times(steps: list[tuple[str, float]]) -> str:
    """`models 5.3 s, checks 3.4 s, publication 1.3 s`: where a phase's time went."""
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps)
