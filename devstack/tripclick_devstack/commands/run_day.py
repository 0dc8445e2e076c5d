"""``tripclick run-day``: one whole day on the local stack, without Airflow."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tripclick import config
from tripclick.errors import UserError
from tripclick_devstack import run_day
from tripclick_spark import runner


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run-day",
        help="one day end to end on the local stack: produce, silver, bronze, gold, reconcile",
    )
    p.add_argument("--input", type=Path, nargs="+", required=True, metavar="PATH")
    p.add_argument(
        "--date",
        type=runner.date_arg,
        metavar="YYYY-MM-DD",
        help="the day to process (default: the date in the file names)",
    )
    p.add_argument("--json", action="store_true", help="also print the result as JSON")
    p.set_defaults(func=_run_day)


def _run_day(args: argparse.Namespace) -> int:
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
