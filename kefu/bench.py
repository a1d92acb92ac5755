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

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PHASES = ("generate", "load", "build")
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


def run_bench(messages: int, seed: int, workdir: Path | None) -> int:
    """Generate, load and build `messages` messages and a baseline of a tenth of
    them; print one table row per size and phase. 0 when every phase succeeded."""
    if messages < 1:
        raise ValueError(f"messages must be positive, got {messages}")
    scratch = workdir is None
    root = Path(tempfile.mkdtemp(prefix="kefu-bench-")) if scratch else Path(workdir)
    baseline = max(1_000, messages // 10)
    sizes = [("baseline", baseline), ("full", messages)] if baseline < messages else []
    sizes = sizes or [("full", messages)]
    print(
        f"kefu bench: {messages:,} messages (baseline {baseline:,}), seed {seed}, "
        f"workdir {root}, {os.cpu_count()} CPUs"
    )
    print(_HEADER)
    results: list[PhaseResult] = []
    try:
        for label, size in sizes:
            folder = _bench_folder(root / f"{label}-{size}")
            landing, db_path = folder / "landing", folder / "warehouse.duckdb"
            for phase in PHASES:
                result = _run_phase(label, phase, size, seed, landing, db_path)
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
    label: str, phase: str, messages: int, seed: int, landing: Path, db_path: Path
) -> PhaseResult:
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    args = [sys.executable, "-c", _CHILD, phase, str(landing), str(db_path), str(messages)]
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        started = time.perf_counter()
        child = subprocess.Popen([*args, str(seed)], stdout=out_file, stderr=err_file, env=env)
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
    phase, landing, db_path, messages, seed = argv
    landing_dir, db = Path(landing), Path(db_path)
    if phase == "generate":
        from kefu.demo_data import generate_landing

        started = time.perf_counter()
        summary = generate_landing(landing_dir, messages=int(messages), seed=int(seed))
        result = {"seconds": time.perf_counter() - started, "note": summary}
        code = 0
    elif phase == "load":
        from kefu.loader import load_landing

        started = time.perf_counter()
        report = load_landing(db, landing_dir)
        result = {"seconds": time.perf_counter() - started}
        code = 0
        if report.rejected:
            result["note"] = report.reason()
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
