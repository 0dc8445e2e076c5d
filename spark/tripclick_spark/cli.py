"""The ``tripclick`` commands of the Spark jobs: silver, bronze, gold, reconcile, quality.

Each job is put on the CLI from its own :class:`~tripclick_spark.runner.Job`, the same
declaration spark-submit runs, so both front doors parse and print alike. Spark's JVM
starts only when a command runs.
"""

from __future__ import annotations

import argparse

from tripclick import config
from tripclick_spark import gold_db, runner
from tripclick_spark.jobs import bronze, gold, quality, reconcile, silver


def register(sub: argparse._SubParsersAction) -> None:
    runner.add_command(sub, silver.COMMAND)
    runner.add_command(sub, bronze.COMMAND)

    g = sub.add_parser("gold", help="gold marts in PostgreSQL: load, migrate, dump")
    gsub = g.add_subparsers(dest="gold_command", metavar="ACTION", required=True)
    runner.add_command(gsub, gold.COMMAND, name="load")
    p = gsub.add_parser("migrate", help="apply the gold schema's pending migrations")
    p.set_defaults(func=_gold_migrate)
    p = gsub.add_parser("dump", help="print a date's four marts as one JSON object")
    p.add_argument("--date", required=True, type=runner.date_arg, metavar="YYYY-MM-DD")
    p.set_defaults(func=_gold_dump)

    runner.add_command(sub, reconcile.COMMAND)
    runner.add_command(sub, quality.COMMAND)


def _gold_migrate(args: argparse.Namespace) -> int:
    applied = gold_db.migrate(config.load())
    print("applied: " + ", ".join(applied) if applied else "gold schema is up to date")
    return 0


def _gold_dump(args: argparse.Namespace) -> int:
    print(gold_db.dumps(gold_db.dump(config.load(), args.date)))
    return 0
