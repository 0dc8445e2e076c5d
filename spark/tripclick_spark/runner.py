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
