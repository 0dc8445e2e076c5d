"""The Airflow path of a backfill: ``airflow backfill create`` for the daily DAG, range checked.

``tripclick backfill`` runs a range on the local stack without Airflow. Where a scheduler
runs the DAGs (the fleet's Airflow host), the same range goes through Airflow 3's own
backfill of ``tripclick_daily_pipeline`` instead: one run per date, oldest first, one at a
time (a date's volume gate reads the days before it). Its runs have the run type
``backfill``, so the DAG plans them in backfill mode whatever the form says: no 15:00-18:00
waits, the dates' files sent as they are (``tripclick_dags.plan.run_mode``).

The range is refused here, in one line, for the reasons ``tripclick backfill`` refuses it
(backwards, in the future in the schedule's zone, longer than
``TRIPCLICK_BACKFILL_MAX_DAYS``) before Airflow creates anything. Airflow's own rule for
dates that already have a run makes it resumable: a date whose run succeeded is skipped,
a failed one runs again, and ``--force`` re-runs them all.

    python -m tripclick_devstack.airflow_backfill 2016-01-04 2016-01-10 [--force] [--dry-run]

prints the ``airflow`` arguments, shell-quoted, for ``make airflow-backfill`` to run.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from tripclick import config
from tripclick.errors import UserError
from tripclick_devstack import backfill

DAG_ID = "tripclick_daily_pipeline"


def airflow_args(
    settings: config.Settings, first: str, last: str, *, force: bool = False, dry_run: bool = False
) -> list[str]:
    """``airflow`` arguments that backfill ``first..last``; a bad range raises UserError."""
    dates = backfill.plan(settings, first, last)
    args = [
        "backfill",
        "create",
        "--dag-id",
        DAG_ID,
        # Airflow reads both bounds in its default zone (the schedule's) and includes a
        # logical date equal to --to-date: the day's 15:00 run needs the day's end.
        "--from-date",
        dates[0],
        "--to-date",
        f"{dates[-1]}T23:59:59",
        "--max-active-runs",
        "1",
        "--reprocess-behavior",
        "completed" if force else "failed",
    ]
    return [*args, "--dry-run"] if dry_run else args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="airflow_backfill", description=__doc__.split("\n")[0])
    parser.add_argument("first", metavar="FROM")
    parser.add_argument("last", metavar="TO")
    parser.add_argument("--force", action="store_true", help="re-run dates whose run succeeded")
    parser.add_argument("--dry-run", action="store_true", help="list the runs, create none")
    args = parser.parse_args(argv)
    try:
        out = airflow_args(
            config.load(), args.first, args.last, force=args.force, dry_run=args.dry_run
        )
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(shlex.join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
