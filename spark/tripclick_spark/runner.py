"""What every job's ``main`` shares: argument parsing, the session and error handling."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from tripclick import config
from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick_spark import lake, session


def date_arg(value: str) -> str:
    """argparse type of ``--date``: ``YYYY-MM-DD``."""
    try:
        return lake.check_date(value)
    except UserError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use YYYY-MM-DD") from None


def date_parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--date", required=True, type=date_arg, help="YYYY-MM-DD (UTC)")
    return parser


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of seconds")
    return seconds


def silver_arguments(parser: argparse.ArgumentParser) -> None:
    """The silver job's options, for ``tripclick silver`` and for spark-submit alike."""
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--duration-seconds", type=_positive_seconds, metavar="N", help="run N s, then stop"
    )
    mode.add_argument("--available-now", action="store_true", help="catch up, then stop")
    parser.add_argument("--trigger-seconds", type=int, default=10, help="micro-batch interval")
    parser.add_argument(
        "--max-offsets-per-trigger", type=int, metavar="N", help="cap on records per batch"
    )
    parser.add_argument(
        "--reset", action="store_true", help="drop the date's checkpoint and output first"
    )


def spark_session(settings: Settings, app_name: str):
    """The job's SparkSession, with Python's warnings kept out of the job's output."""
    spark = session.build(settings, app_name)
    spark.sparkContext.setLogLevel("WARN")
    return spark


def run_main(name: str, body: Callable[[], int | None]) -> int:
    """Run a job body; a UserError becomes one line on stderr and exit code 2."""
    try:
        return int(body() or 0)
    except UserError as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2


def settings() -> Settings:
    return config.load()
