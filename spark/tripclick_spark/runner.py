"""A job's one entry point, shared by spark-submit (``jobs/<name>.py``) and ``tripclick <name>``.

Each job declares a :class:`Job`: its options and what it does once its SparkSession
exists. :func:`main` is what spark-submit runs; :func:`add_command` puts the same job on
the CLI. Both parse the same arguments and print the same lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from tripclick import config
from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick_spark import figures, gold_db, lake, session, stage_lock


def date_arg(value: str) -> str:
    """argparse type of ``--date``: ``YYYY-MM-DD``."""
    try:
        return lake.check_date(value)
    except UserError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def spark_session(settings: Settings, app_name: str):
    """The job's SparkSession, with Python's warnings kept out of the job's output."""
    spark = session.build(settings, app_name)
    spark.sparkContext.setLogLevel("WARN")
    return spark


def _no_options(parser: argparse.ArgumentParser) -> None:
    """A job that takes only ``--date``."""


@dataclass(frozen=True)
class Job:
    """A Spark job: ``execute(spark, settings, args)`` prints its result and returns its exit
    code (None for 0)."""

    name: str
    description: str
    execute: Callable[..., int | None]
    arguments: Callable[[argparse.ArgumentParser], None] = _no_options

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--date", required=True, type=date_arg, metavar="YYYY-MM-DD", help="the day (UTC)"
        )
        self.arguments(parser)

    def run(self, args: argparse.Namespace) -> int:
        settings = config.load()
        # One run per stage and date: taken before Spark starts, so a busy date fails fast.
        with stage_lock.held(settings, self.name, args.date):
            started_at, started, ok = dt.datetime.now(dt.UTC), time.monotonic(), False
            try:
                spark = spark_session(settings, f"tripclick-{self.name}-{args.date}")
                code = self.execute(spark, settings, args) or 0
                ok = code == 0
            finally:
                seconds = time.monotonic() - started
                figures.stage_time(settings, self.name, args.date, seconds, ok)
                gold_db.record_stage_runs(
                    settings, args.date, started_at, [(self.name, seconds, ok)]
                )
        return code


def add_command(sub: argparse._SubParsersAction, job: Job, name: str | None = None) -> None:
    """``tripclick <name>``: the job on the CLI, whose ``main`` turns errors into one line."""
    parser = sub.add_parser(name or job.name, help=job.description, description=job.description)
    job.add_arguments(parser)
    parser.set_defaults(func=job.run)


def main(job: Job, argv: list[str] | None = None) -> int:
    """spark-submit's entry: parse, run; a UserError becomes one line on stderr and exit 2."""
    parser = argparse.ArgumentParser(prog=job.name, description=job.description)
    job.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return job.run(args)
    except UserError as err:
        print(f"{job.name}: error: {err}", file=sys.stderr)
        return 2
