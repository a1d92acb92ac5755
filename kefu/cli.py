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
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser(
        "demo", parents=[common], help="write a demo landing zone and run the nightly job on it"
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
        "run-nightly", parents=[common], help="load + build refresh window + checks + publish"
    )
    nightly.add_argument("--landing", help="landing zone (default data/landing)")
    nightly.add_argument("--as-of", type=_date, help="as-of date (default: last day in the data)")

    bench = sub.add_parser(
        "bench", help="measure generate + load + build on N messages against a baseline"
    )
    bench.add_argument("--messages", type=int, default=10_000_000)
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
        from kefu.bench import run_bench

        return run_bench(
            messages=args.messages,
            seed=args.seed,
            workdir=Path(args.workdir) if args.workdir else None,
        )

    db_path = resolve_db_path(args.db)

    if args.command == "load":
        from kefu.loader import load_landing

        report = load_landing(db_path, resolve_landing_dir(args.landing))
        print(report.summary())
        if report.rejected:
            print(f"kefu load: {report.reason()}", file=sys.stderr)
            return 1
        return 0

    if args.command == "build":
        from kefu.build import BuildError, BuildWindow, build

        try:
            build(
                db_path,
                BuildWindow(start=args.start, end=args.end, as_of=args.as_of),
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

        landing = resolve_landing_dir(args.landing)
        if args.command == "demo":
            from kefu.demo_data import generate_landing

            print(generate_landing(landing, messages=args.messages, seed=args.seed))
        as_of = getattr(args, "as_of", None)
        outcome = run_nightly(db_path, landing, as_of=as_of)
        print(outcome.summary())
        print(_where_results(db_path))
        if not outcome.success:
            print(f"kefu {args.command}: {outcome.reason()}", file=sys.stderr)
            return 1
        return 0

    raise AssertionError(f"unhandled command {args.command}")


def duckdb_error() -> type[Exception]:
    """DuckDB's error class (a warehouse not built yet lacks the tables read)."""
    import duckdb

    return duckdb.Error


def _where_results(db_path: Path) -> str:
    """Where the marts are and how to look at them."""
    return (
        f"results: {db_path} (DuckDB), schema marts: agent_daily_kpis, shop_daily_kpis, "
        "agent_weekly_kpis, agent_monthly_kpis, fct_rounds, fct_receptions, fct_order_credits, "
        "platform_service_daily, reception_load_hourly, unpaid_order_followups, "
        "team_daily_kpis, team_weekly_kpis, team_monthly_kpis, shop_weekly_kpis, "
        "shop_monthly_kpis, platform_service_assessed, kpi_target_status, service_alerts, "
        "question_topics_daily\n"
        f"  look: .venv/bin/python -c \"import duckdb; duckdb.connect('{db_path}', "
        "read_only=True).sql('from marts.shop_daily_kpis').show()\"\n"
        "  BI tools (DBeaver, Metabase, Superset): see README.md, 'Pointing a BI tool at it'"
    )


if __name__ == "__main__":
    sys.exit(main())
