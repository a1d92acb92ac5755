"""kefu: load customer-service exports, build and check the scorecard marts."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import NoReturn

from kefu import progress
from kefu.build import dbt_env, temporary_environment
from kefu.paths import resolve_db_path, resolve_landing_dir
from kefu.progress import NORMAL, QUIET, VERBOSE, Progress

log = logging.getLogger("kefu")


class Failure(Exception):
    """An expected failure: its message is the one line the user reads."""

    status = 1


class UsageFailure(Failure):
    """A bad option value found after parsing: exit status 2, as argparse's own errors."""

    status = 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (and in the log) instead of usage + error."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("kefu").strip() or "kefu"
        log_path = _open_log(_log_dir(resolve_db_path(None)), command)
        log.error("usage error: %s", message)
        print(f"{self.prog}: {message} (see {self.prog} --help; log: {log_path})", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kefu", description=__doc__)
    output = argparse.ArgumentParser(add_help=False)
    loudness = output.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="print only the result and errors"
    )
    loudness.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print every file, dbt node and check, and dbt's own log",
    )
    common = argparse.ArgumentParser(add_help=False, parents=[output])
    common.add_argument("--db", help="warehouse file (env KEFU_DB, default data/warehouse.duckdb)")
    common.add_argument(
        "--lock-timeout",
        help="seconds a writer waits for the warehouse lock (env KEFU_LOCK_TIMEOUT, default 3600)",
    )
    publish = argparse.ArgumentParser(add_help=False)
    publish.add_argument(
        "--publish",
        help="published file for BI (env KEFU_PUBLISH, default published/kefu.duckdb"
        " beside the warehouse)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo",
        parents=[common, publish],
        help="write a demo landing zone and run the nightly job on it",
    )
    demo.add_argument("--landing", help="landing zone to write (default data/landing)")
    demo.add_argument("--messages", type=int, default=200_000, help="about this many messages")
    demo.add_argument("--seed", type=int, default=7)

    gen = sub.add_parser("generate", parents=[output], help="write a demo landing zone only")
    gen.add_argument("--landing", help="landing zone to write (default data/landing)")
    gen.add_argument("--messages", type=int, default=200_000, help="about this many messages")
    gen.add_argument("--seed", type=int, default=7)

    load = sub.add_parser("load", parents=[common], help="ingest new export files")
    load.add_argument("--landing", help="landing zone (default data/landing)")
    load.add_argument("--mappings", help="a folder of your own column mappings (*.yaml)")

    build = sub.add_parser("build", parents=[common], help="build the dbt models")
    build.add_argument("--start", type=_date, help="first biz_date to rebuild")
    build.add_argument("--end", type=_date, help="last biz_date to rebuild")
    build.add_argument("--as-of", type=_date, help="as-of date for maturity flags")
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="drop and re-create every table (a build without --start/--end does it"
        " already; refused with them)",
    )
    _add_engine_arguments(build)

    check = sub.add_parser(
        "check",
        parents=[common],
        help=(
            "run the data-quality rules (dbt data tests and the marts' shape in SQL,"
            " GX on the latest load)"
        ),
    )
    check.add_argument("--start", type=_date, help="first biz_date whose rows to test")
    check.add_argument("--end", type=_date, help="last biz_date whose rows to test")

    terms = sub.add_parser(
        "topic-terms",
        parents=[common],
        help="most frequent words of buyer messages of question topic 'other' (to grow the seed)",
    )
    terms.add_argument("--shop", help="one shop_id (default: every shop)")
    terms.add_argument("--top", type=int, default=30, help="how many words (default 30)")

    nightly = sub.add_parser(
        "run-nightly",
        parents=[common, publish],
        help="load + build refresh window + checks + publish",
    )
    nightly.add_argument("--landing", help="landing zone (default data/landing)")
    nightly.add_argument("--as-of", type=_date, help="as-of date (default: last day in the data)")
    nightly.add_argument(
        "--report", action="store_true", help="then write the day's reports (kefu report)"
    )

    report = sub.add_parser(
        "report", parents=[common], help="write each shop's scorecard as HTML and Excel"
    )
    report.add_argument("--period", choices=("day", "week", "month"), default="day")
    report.add_argument("--date", type=_date, help="a day of the period (default: as-of date)")
    report.add_argument("--shop", help="one shop (default: every shop)")
    report.add_argument("--out", help="output folder (default: reports/ next to the warehouse)")
    report.add_argument(
        "--publish", help="published marts file (env KEFU_PUBLISH, default next to --db)"
    )

    export = sub.add_parser(
        "export", parents=[common], help="write a mart to a formula-safe .csv or .xlsx file"
    )
    export.add_argument("mart", help="mart name, e.g. agent_daily_kpis")
    export.add_argument("--out", required=True, help="output file (.csv or .xlsx)")

    inspect = sub.add_parser(
        "inspect", help="show what a load would make of one export file (writes nothing)"
    )
    inspect.add_argument("file", help="an export file (csv, xlsx, parquet, jsonl)")
    inspect.add_argument("--entity", help="messages, orders, ... (default: from its folder)")
    inspect.add_argument("--mappings", help="a folder of your own column mappings (*.yaml)")
    inspect.add_argument("--rows", type=int, default=5, help="how many rows to show")

    bench = sub.add_parser(
        "bench",
        parents=[output],
        help="time full / window builds and a no-op night on a short and a long history "
        "(or, with --messages, generate + load + build on N messages)",
    )
    bench.add_argument(
        "--days",
        type=int,
        help="days of the long warehouse (default 120); with --messages, the days the "
        "messages spread over (default 60)",
    )
    bench.add_argument(
        "--short-days", type=int, default=30, help="days of the short warehouse (default 30)"
    )
    bench.add_argument("--per-day", type=int, default=20_000, help="messages a day")
    bench.add_argument(
        "--messages", type=int, help="scale mode: N messages against a baseline of N/10"
    )
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--workdir", help="scratch folder (default: a temp folder)")
    return parser


def _add_engine_arguments(build: argparse.ArgumentParser) -> None:
    """--engine and --spark-warehouse of `kefu build`."""
    build.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="duckdb (default: the warehouse file) or spark (extra .[spark]: the raw layer as"
        " Parquet, the marts as Parquet tables of database marts)",
    )
    build.add_argument(
        "--spark-warehouse",
        help="Spark warehouse folder of --engine spark (default data/spark-warehouse)",
    )
    build.add_argument(
        "--compare",
        action="store_true",
        help="with --engine spark: then compare every mart with the DuckDB build, cell by cell",
    )


# ---------------------------------------------------------------- log file and output


# Commands that work on an existing warehouse only (a mistyped --db creates nothing).
NEEDS_WAREHOUSE = frozenset({"build", "check", "export", "topic-terms"})
# Commands that write nothing next to the warehouse, not even their log.
WRITES_NOTHING = frozenset({"inspect"})


def _log_dir(db_path: Path, command: str | None = None) -> Path:
    """<warehouse folder>/logs when that folder exists, else a kefu folder in the temp dir
    (a mistyped path must not be created just to hold a log, and `kefu inspect` writes
    nothing beside the warehouse)."""
    if db_path.parent.is_dir() and command not in WRITES_NOTHING:
        return db_path.parent / "logs"
    return Path(tempfile.gettempdir()) / "kefu-logs"


def _open_log(folder: Path, command: str) -> Path:
    """Send the kefu logger (every detail, tracebacks included) to folder/kefu-<command>.log,
    replacing the previous run's log of that command."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"kefu-{command}.log"
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False
    return path


def _level(args: argparse.Namespace) -> int:
    if getattr(args, "quiet", False):
        return QUIET
    return VERBOSE if getattr(args, "verbose", False) else NORMAL


def _dbt_settings(level: int) -> dict[str, str]:
    """dbt writes its own log to its log file (next to the warehouse, see kefu.build); on
    the console only with --verbose, and in colour only on a terminal; never colour codes
    in its file. Set for the command's duration only (a Dagster dbt subprocess started
    later in the same process reads dbt's console output and needs the defaults)."""
    return {
        "DBT_LOG_LEVEL": "info" if level >= VERBOSE else "none",
        # Else the file log follows DBT_LOG_LEVEL ("none" would switch it off).
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "debug"),
        "DBT_USE_COLORS": "true" if sys.stdout.isatty() else "false",
        "DBT_USE_COLORS_FILE": "false",
    }


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    db_path = resolve_db_path(getattr(args, "db", None))
    log_path = _open_log(_log_dir(db_path, args.command), args.command)
    level = _level(args)
    ui = Progress(level, log=log.info)
    progress.install(ui)
    log.info("kefu %s (warehouse %s)", " ".join(sys.argv[1:] if argv is None else argv), db_path)
    log.info("dbt's own log: %s/dbt.log", dbt_env(db_path)["DBT_LOG_PATH"])
    try:
        with temporary_environment(_dbt_settings(level)):
            return _dispatch(args, db_path, ui)
    except KeyboardInterrupt:
        return _fail(args.command, "interrupted", log_path, 130)
    except Failure as exc:
        return _fail(args.command, str(exc), log_path, exc.status)
    except Exception as exc:  # noqa: BLE001 - every failure ends as one line + a log
        log.error("%s", traceback.format_exc())
        return _fail(args.command, _explain(exc, db_path), log_path)
    finally:
        progress.install(None)


def _fail(command: str, message: str, log_path: Path, status: int = 1) -> int:
    """The one stderr line of a failure: what, where, and the log holding the details."""
    line = " ".join(message.split())
    log.error("kefu %s failed: %s", command, line)
    print(f"kefu {command}: {line} (details: {log_path})", file=sys.stderr, flush=True)
    return status


def _explain(exc: BaseException, db_path: Path) -> str:
    """One line for an exception the command did not expect to handle itself."""
    text = " ".join(str(exc).split())
    if "Could not set lock" in text or "Conflicting lock" in text:
        return (
            f"warehouse {db_path} is in use by another process (a load, build or BI tool);"
            " try again when it has finished"
        )
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or text}: {exc.filename}"
    return f"{type(exc).__name__}: {text}"[:500]


# ---------------------------------------------------------------- commands


def _dispatch(args: argparse.Namespace, db_path: Path, ui: Progress) -> int:
    if args.command == "generate":
        ui.say(_generate(resolve_landing_dir(args.landing), args.messages, args.seed))
        return 0

    if args.command == "bench":
        from kefu.bench import HISTORY_DAYS, run_bench, run_history_bench

        workdir = Path(args.workdir) if args.workdir else None
        if args.messages is not None:
            return run_bench(
                messages=args.messages, seed=args.seed, workdir=workdir, days=args.days
            )
        try:
            return run_history_bench(
                args.days or HISTORY_DAYS,
                args.per_day,
                args.seed,
                workdir,
                short_days=args.short_days,
            )
        except ValueError as exc:
            print(f"kefu bench: {exc}", file=sys.stderr)
            return 2

    if args.command == "inspect":
        return _inspect(args, ui)

    from kefu.lock import LockTimeout, resolve_timeout, warehouse_lock

    try:
        timeout = resolve_timeout(args.lock_timeout)
    except ValueError as exc:
        raise UsageFailure(str(exc)) from exc
    if args.command in NEEDS_WAREHOUSE:
        _require_warehouse(db_path)  # before the lock, whose file would create the folder
    try:
        with warehouse_lock(db_path, f"kefu {args.command}", timeout):
            return _dispatch_writer(args, db_path, ui)
    except LockTimeout as exc:
        raise Failure(str(exc)) from exc


def _dispatch_writer(args: argparse.Namespace, db_path: Path, ui: Progress) -> int:
    """The commands that read or write the warehouse, run under its lock."""
    if args.command == "load":
        mappings = Path(args.mappings).expanduser() if args.mappings else None
        return _load(db_path, resolve_landing_dir(args.landing), ui, mappings)

    if args.command == "export":
        from kefu.export import ExportError, export_mart

        try:
            count = export_mart(db_path, args.mart, Path(args.out))
        except ExportError as exc:
            raise Failure(str(exc)) from exc
        ui.say(f"wrote {count} rows of marts.{args.mart} to {args.out}", QUIET)
        return 0

    if args.command == "topic-terms":
        from kefu.topic_terms import format_terms, frequent_terms, other_topic_messages

        _require_warehouse(db_path)
        texts = other_topic_messages(db_path, args.shop)
        ui.say(format_terms(frequent_terms(texts, args.top), len(texts)), QUIET)
        return 0

    if args.command == "report":
        return _report(db_path, args.publish, args.out, args.period, args.date, args.shop, ui)

    if args.command == "build" and args.full_refresh and (args.start or args.end):
        # Tables made anew hold what their query reads: the marts, the window's days only.
        raise UsageFailure(
            "--full-refresh makes every table anew, so it builds every day: run it without"
            " --start / --end"
        )
    if args.command == "build" and args.engine == "spark":
        from kefu.spark.cli import build_on_spark

        return build_on_spark(db_path, args, ui)

    if args.command == "build":
        if args.spark_warehouse or args.compare:
            raise UsageFailure("--spark-warehouse and --compare go with --engine spark")
        return _build(db_path, args, ui)

    if args.command == "check":
        return _check(args, db_path, ui)

    if args.command in ("run-nightly", "demo"):
        landing = resolve_landing_dir(args.landing)
        if args.command == "demo":
            ui.say(_generate(landing, args.messages, args.seed))
        _nightly(db_path, landing, getattr(args, "as_of", None), args.publish, ui)
        if args.command == "demo" or args.report:
            also_month = args.command == "demo"
            return _report(db_path, args.publish, None, "day", None, None, ui, also_month)
        return 0

    raise AssertionError(f"unhandled command {args.command}")


def _generate(landing: Path, messages: int, seed: int) -> str:
    from kefu.demo_data import generate_landing

    try:
        return generate_landing(landing, messages=messages, seed=seed)
    except (FileExistsError, ValueError) as exc:
        raise Failure(str(exc)) from exc


def _require_landing(landing: Path) -> None:
    if not landing.is_dir():
        raise Failure(f"landing zone {landing} not found (not a folder); pass --landing DIR")


def _require_warehouse(db_path: Path) -> None:
    """Read and build commands work on an existing warehouse only: a mistyped --db must
    not create an empty one."""
    if not db_path.is_file():
        raise Failure(
            f"warehouse {db_path} not found: run kefu load (or kefu demo) first, or pass --db"
        )


def _quarantined_files(report) -> list[str]:  # noqa: ANN001 - a LoadReport
    """Files that were read but whose every row went to quarantine."""
    return [
        f"{result.relative_path} ({result.rows_quarantined} rows)"
        for result in report.loaded
        if result.rows_loaded == 0 and result.rows_quarantined > 0
    ]


def _load_failure(report) -> str | None:  # noqa: ANN001 - a LoadReport
    if report.rejected:
        return report.reason()
    quarantined = _quarantined_files(report)
    if quarantined:
        return "every row quarantined in " + "; ".join(quarantined) + " (reasons in raw.quarantine)"
    return None


def _say_load(report, ui: Progress, every_file: int) -> None:  # noqa: ANN001 - a LoadReport
    """A line per file at level `every_file` (always in the log), the rejected and fully
    quarantined ones at the normal level, then the total."""
    *file_lines, total = report.summary().splitlines()
    for result, line in zip(report.files, file_lines, strict=True):
        important = result.outcome == "rejected" or (
            result.rows_loaded == 0 and result.rows_quarantined > 0
        )
        ui.say(line, min(NORMAL, every_file) if important else every_file)
    ui.say(total, QUIET)


def _load(db_path: Path, landing: Path, ui: Progress, mappings: Path | None = None) -> int:
    from kefu.loader import load_landing

    _require_landing(landing)
    report = load_landing(db_path, landing, mappings_dir=mappings)
    _say_load(report, ui, every_file=NORMAL)
    failure = _load_failure(report)
    if failure:
        raise Failure(failure)
    return 0


def _build(db_path: Path, args: argparse.Namespace, ui: Progress) -> int:
    from kefu import warehouse
    from kefu.build import BuildError, BuildWindow
    from kefu.nightly import build_recorded, pending_runs

    _require_warehouse(db_path)
    # Read-write like dbt-duckdb's connection, which an earlier build of this process may
    # keep open (DuckDB refuses a second one with another configuration).
    with warehouse.connect(db_path) as con:
        if warehouse.data_last_day(con) is None:
            raise Failure(f"no messages or orders in {db_path}: nothing to build (run kefu load)")
    # Without dates a full build: it takes in every load run not built yet.
    dated = args.start is not None or args.end is not None
    try:
        build_recorded(
            db_path,
            BuildWindow(start=args.start, end=args.end, as_of=args.as_of),
            [] if dated else pending_runs(db_path),
            "kefu build",
            full_refresh=args.full_refresh,
        )
    except BuildError as exc:
        raise Failure(_explain(exc, db_path) if "lock" in str(exc) else str(exc)) from exc
    ui.say(f"built the models in {db_path} ({ui.elapsed()})", QUIET)
    return 0


def _check(args: argparse.Namespace, db_path: Path, ui: Progress) -> int:
    from kefu.build import BuildError, BuildWindow
    from kefu.checks import run_checks

    _require_warehouse(db_path)
    try:
        report = run_checks(db_path, window=BuildWindow(start=args.start, end=args.end))
    except BuildError as exc:
        raise Failure(str(exc)) from exc
    _say_checks(report.summary(), ui)
    if not report.success:
        raise Failure(report.reason())
    return 0


def _say_checks(summary: str, ui: Progress) -> None:
    *tables, verdict = summary.splitlines()
    for line in tables:
        ui.say(line, VERBOSE)
    ui.say(verdict, QUIET)


def _nightly(
    db_path: Path, landing: Path, as_of: dt.date | None, publish: str | None, ui: Progress
) -> None:
    from kefu.nightly import run_nightly
    from kefu.publish import resolve_publish_path

    _require_landing(landing)
    publish_path = resolve_publish_path(db_path, publish)
    outcome = run_nightly(db_path, landing, as_of=as_of, publish_path=publish_path)
    if outcome.load is not None:
        _say_load(outcome.load, ui, every_file=VERBOSE)
    if outcome.plan is not None:
        ui.say(f"build: {outcome.plan.describe()} ({ui.elapsed()})")
    if outcome.checks is not None:
        _say_checks(outcome.checks.summary(), ui)
    ui.say(
        f"published {publish_path}"
        if outcome.published
        else f"not published ({publish_path} keeps the previous night's marts)"
    )
    ui.say(_where_results(db_path, publish_path), QUIET)
    reasons = [outcome.reason()] if not outcome.success else []
    if outcome.load is not None and _quarantined_files(outcome.load):
        reasons.append(f"load: {_load_failure(outcome.load)}")
    if reasons:
        raise Failure("; ".join(reason for reason in reasons if reason))


def _report(
    db_path: Path,
    publish: str | None,
    out: str | None,
    period: str,
    date: dt.date | None,
    shop: str | None,
    ui: Progress,
    also_month: bool = False,
) -> int:
    """`kefu report` (and the report step of demo / run-nightly --report)."""
    from kefu.publish import resolve_publish_path
    from kefu.report import ReportError, report_source, write_reports

    out_dir = Path(out).expanduser().resolve() if out else db_path.parent / "reports"
    try:
        source = report_source(db_path, resolve_publish_path(db_path, publish))
        periods = [period, "month"] if also_month else [period]
        written = [
            w for p in periods for w in write_reports(source, out_dir, p, date=date, shop=shop)
        ]
    except ReportError as exc:
        raise Failure(str(exc)) from exc
    ui.say(f"reports (from {source}): page, workbook", QUIET)
    for w in written:
        ui.say(f"  {w.html}  {w.xlsx}", QUIET)
    return 0


def _inspect(args: argparse.Namespace, ui: Progress) -> int:
    """`kefu inspect FILE`: exit 0 when the file would load, 1 when it would be rejected."""
    from kefu.loading.inspect import InspectError, inspect_file

    path = Path(args.file).expanduser()
    try:
        mappings = Path(args.mappings).expanduser() if args.mappings else None
        result = inspect_file(path, args.entity, mappings, rows=args.rows)
    except InspectError as exc:
        raise Failure(str(exc)) from exc
    ui.say(result.text(), QUIET)
    if result.rejection:
        raise Failure(f"{path}: a load would reject it: {result.rejection}")
    return 0


def _where_results(db_path: Path, published: Path) -> str:
    """Where the marts are and how to look at them."""
    return (
        f"results: {db_path} (DuckDB, the pipeline's), published for BI: {published}"
        " (schema marts only), Parquet: "
        f"{published.parent / 'parquet'}\n"
        "  schema marts: agent_daily_kpis, shop_daily_kpis, "
        "agent_weekly_kpis, agent_monthly_kpis, fct_rounds, fct_receptions, fct_order_credits, "
        "platform_service_daily, reception_load_hourly, unpaid_order_followups, "
        "team_daily_kpis, team_weekly_kpis, team_monthly_kpis, shop_weekly_kpis, "
        "shop_monthly_kpis, platform_service_assessed, kpi_target_status, service_alerts, "
        "question_topics_daily\n"
        f"  look: .venv/bin/python -c \"import duckdb; duckdb.connect('{published}', "
        "read_only=True).sql('from marts.shop_daily_kpis').show()\"\n"
        "  BI tools (DBeaver, Metabase, Superset): see README.md, 'Pointing a BI tool at it'\n"
        "  what each column means: docs/metrics.md"
    )


if __name__ == "__main__":
    sys.exit(main())
