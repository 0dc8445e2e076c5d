"""The ``tripclick`` commands of the Spark jobs: silver, bronze, gold, reconcile, run-day.

``register`` only builds argparse parsers; Spark is imported when a command runs, so
``tripclick --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tripclick import config
from tripclick.errors import UserError
from tripclick_spark import runner


def _date(value: str) -> str:
    return runner.date_arg(value)


def _spark(name: str):
    return runner.spark_session(config.load(), name)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("silver", help="Spark streaming: Kafka -> silver and quarantine for a date")
    p.add_argument("--date", required=True, type=_date, metavar="YYYY-MM-DD")
    runner.silver_arguments(p)
    p.set_defaults(func=_silver)

    p = sub.add_parser("bronze", help="Spark batch: Kafka -> bronze for a date (replaces it)")
    p.add_argument("--date", required=True, type=_date, metavar="YYYY-MM-DD")
    p.set_defaults(func=_bronze)

    g = sub.add_parser("gold", help="gold marts in PostgreSQL: load, migrate, dump")
    gsub = g.add_subparsers(dest="gold_command", metavar="ACTION", required=True)
    p = gsub.add_parser("load", help="silver -> the four marts for a date, then reconcile")
    p.add_argument("--date", required=True, type=_date, metavar="YYYY-MM-DD")
    p.set_defaults(func=_gold_load)
    p = gsub.add_parser("migrate", help="apply the gold schema's pending migrations")
    p.set_defaults(func=_gold_migrate)
    p = gsub.add_parser("dump", help="print a date's four marts as one JSON object")
    p.add_argument("--date", required=True, type=_date, metavar="YYYY-MM-DD")
    p.set_defaults(func=_gold_dump)

    p = sub.add_parser("reconcile", help="count a date through every layer; fail on a mismatch")
    p.add_argument("--date", required=True, type=_date, metavar="YYYY-MM-DD")
    p.set_defaults(func=_reconcile)

    p = sub.add_parser(
        "run-day",
        help="one day end to end on the local stack: produce, silver, bronze, gold, reconcile",
    )
    p.add_argument("--input", type=Path, nargs="+", required=True, metavar="PATH")
    p.add_argument(
        "--date",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the day to process (default: the date in the file names)",
    )
    p.add_argument("--json", action="store_true", help="also print the result as JSON")
    p.set_defaults(func=_run_day)


def _silver(args: argparse.Namespace) -> int:
    from tripclick_spark.jobs import silver

    print(silver.run_args(_spark(f"tripclick-silver-{args.date}"), config.load(), args))
    return 0


def _bronze(args: argparse.Namespace) -> int:
    from tripclick_spark import lake
    from tripclick_spark.jobs import bronze

    settings = config.load()
    n = bronze.run(_spark(f"tripclick-bronze-{args.date}"), settings, args.date)
    print(f"bronze {args.date}: {n} records -> {lake.partition(settings, lake.BRONZE, args.date)}")
    return 0


def _gold_load(args: argparse.Namespace) -> int:
    from tripclick_spark.jobs import gold

    result = gold.run(_spark(f"tripclick-gold-{args.date}"), config.load(), args.date)
    for name, n in result["loaded"].items():
        print(f"gold {args.date}: {name:<24} {n} rows")
    print(f"gold {args.date}: reconciliation passed")
    return 0


def _gold_migrate(args: argparse.Namespace) -> int:
    from tripclick_spark import gold_db

    applied = gold_db.migrate(config.load())
    print("applied: " + ", ".join(applied) if applied else "gold schema is up to date")
    return 0


def _gold_dump(args: argparse.Namespace) -> int:
    from tripclick_spark import gold_db

    print(gold_db.dumps(gold_db.dump(config.load(), args.date)))
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    from tripclick_spark.jobs import reconcile

    report = reconcile.run(_spark(f"tripclick-reconcile-{args.date}"), config.load(), args.date)
    print(json.dumps(report, indent=2))
    return 0


def _run_day(args: argparse.Namespace) -> int:
    from tripclick_spark import run_day

    settings = config.load()
    result = run_day.run(settings, args.input, args.date, reconcile_failure_raises=False)
    print(run_day.summary_table(result, settings))
    if args.json:
        print(
            json.dumps(
                {
                    "event_date": result.event_date,
                    "seconds": result.seconds,
                    "stages": [s.__dict__ for s in result.stages],
                    "loaded": result.loaded,
                    "reconciliation": result.reconciliation,
                },
                indent=2,
            )
        )
    if not result.reconciliation.get("passed"):
        raise UserError(result.reconciliation.get("error", "reconciliation failed"))
    return 0
