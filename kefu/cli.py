"""The `kefu` console command (contract §2)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from kefu.paths import resolve_db_path, resolve_landing_dir


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kefu", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
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

    gen = sub.add_parser("generate", help="write a demo landing zone only")
    gen.add_argument("--landing", help="landing zone to write (default data/landing)")
    gen.add_argument("--messages", type=int, default=200_000, help="about this many messages")
    gen.add_argument("--seed", type=int, default=7)

    load = sub.add_parser("load", parents=[common], help="ingest new export files")
    load.add_argument("--landing", help="landing zone (default data/landing)")

    build = sub.add_parser("build", parents=[common], help="build the dbt models")
    build.add_argument("--start", type=_date, help="first biz_date to rebuild")
    build.add_argument("--end", type=_date, help="last biz_date to rebuild")
    build.add_argument("--as-of", type=_date, help="as-of date for maturity flags")
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="drop and re-create the incremental tables (after a model's columns change)",
    )

    sub.add_parser("check", parents=[common], help="run the data-quality suites")

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

    bench = sub.add_parser(
        "bench",
        help="time full / window builds and a no-op night on a short and a long history "
        "(or, with --messages, generate + load + build on N messages)",
    )
    bench.add_argument("--days", type=int, default=120, help="days of the long warehouse")
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


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("kefu: interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "generate":
        from kefu.demo_data import generate_landing

        landing = resolve_landing_dir(args.landing)
        summary = generate_landing(landing, messages=args.messages, seed=args.seed)
        print(summary)
        return 0

    if args.command == "bench":
        from kefu.bench import run_bench, run_history_bench

        workdir = Path(args.workdir) if args.workdir else None
        if args.messages is not None:
            return run_bench(messages=args.messages, seed=args.seed, workdir=workdir)
        try:
            return run_history_bench(
                args.days, args.per_day, args.seed, workdir, short_days=args.short_days
            )
        except ValueError as exc:
            print(f"kefu bench: {exc}", file=sys.stderr)
            return 2

    db_path = resolve_db_path(args.db)
    from kefu.lock import LockTimeout, resolve_timeout, warehouse_lock

    try:
        timeout = resolve_timeout(args.lock_timeout)
    except ValueError as exc:
        print(f"kefu {args.command}: {exc}", file=sys.stderr)
        return 2
    try:
        with warehouse_lock(db_path, f"kefu {args.command}", timeout):
            return _dispatch_writer(args, db_path)
    except LockTimeout as exc:
        print(f"kefu {args.command}: {exc}", file=sys.stderr)
        return 1


def _dispatch_writer(args: argparse.Namespace, db_path: Path) -> int:
    """The commands that write the warehouse, run under its lock."""

    if args.command == "load":
        from kefu.loader import load_landing

        report = load_landing(db_path, resolve_landing_dir(args.landing))
        print(report.summary())
        if report.rejected:
            print(f"kefu load: {report.reason()}", file=sys.stderr)
            return 1
        return 0

    if args.command == "export":
        from kefu.export import ExportError, export_mart

        try:
            count = export_mart(db_path, args.mart, Path(args.out))
        except ExportError as exc:
            print(f"kefu export: {exc}", file=sys.stderr)
            return 1
        print(f"wrote {count} rows of marts.{args.mart} to {args.out}")
        return 0

    if args.command == "build":
        from kefu.build import BuildError, BuildWindow
        from kefu.nightly import build_recorded, pending_runs

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
            print(f"kefu build: {exc}", file=sys.stderr)
            return 1
        print(f"built the models in {db_path}")
        return 0

    if args.command == "check":
        from kefu.checks import run_checks

        report = run_checks(db_path)
        print(report.summary())
        if not report.success:
            print(f"kefu check: {report.reason()}", file=sys.stderr)
            return 1
        return 0

    if args.command == "report":
        return _report(db_path, args.publish, args.out, args.period, args.date, args.shop)

    if args.command == "topic-terms":
        from kefu.topic_terms import format_terms, frequent_terms, other_topic_messages

        try:
            texts = other_topic_messages(db_path, args.shop)
        except (FileNotFoundError, duckdb_error()) as exc:
            print(f"kefu topic-terms: {exc}", file=sys.stderr)
            return 1
        print(format_terms(frequent_terms(texts, args.top), len(texts)))
        return 0

    if args.command in ("run-nightly", "demo"):
        from kefu.nightly import run_nightly
        from kefu.publish import resolve_publish_path

        landing = resolve_landing_dir(args.landing)
        if args.command == "demo":
            from kefu.demo_data import generate_landing

            print(generate_landing(landing, messages=args.messages, seed=args.seed))
        as_of = getattr(args, "as_of", None)
        publish_path = resolve_publish_path(db_path, args.publish)
        outcome = run_nightly(db_path, landing, as_of=as_of, publish_path=publish_path)
        print(outcome.summary())
        print(_where_results(db_path, publish_path))
        if not outcome.success:
            print(f"kefu {args.command}: {outcome.reason()}", file=sys.stderr)
            return 1
        if args.command == "demo" or args.report:
            also_month = args.command == "demo"
            return _report(db_path, None, None, "day", None, None, also_month=also_month)
        return 0

    raise AssertionError(f"unhandled command {args.command}")


def _report(
    db_path: Path,
    publish: str | None,
    out: str | None,
    period: str,
    date: dt.date | None,
    shop: str | None,
    also_month: bool = False,
) -> int:
    """`kefu report` (and the report step of demo / run-nightly --report)."""
    from kefu.report import ReportError, report_source, resolve_publish_path, write_reports

    out_dir = Path(out).expanduser().resolve() if out else db_path.parent / "reports"
    try:
        source = report_source(db_path, resolve_publish_path(db_path, publish))
        periods = [period, "month"] if also_month else [period]
        written = [
            w for p in periods for w in write_reports(source, out_dir, p, date=date, shop=shop)
        ]
    except ReportError as exc:
        print(f"kefu report: {exc}", file=sys.stderr)
        return 1
    print(f"reports (from {source}):")
    for w in written:
        print(f"  {w.html}\n  {w.xlsx}")
    return 0


def duckdb_error() -> type[Exception]:
    """DuckDB's error class (a warehouse not built yet lacks the tables read)."""
    import duckdb

    return duckdb.Error


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
        "  BI tools (DBeaver, Metabase, Superset): see README.md, 'Pointing a BI tool at it'"
    )


if __name__ == "__main__":
    sys.exit(main())
