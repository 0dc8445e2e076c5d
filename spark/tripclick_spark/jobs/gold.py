"""Gold: silver → the four daily marts in PostgreSQL: staged, reconciled, then published.

The marts are computed by the pure transforms of :mod:`tripclick_spark.marts`,
brought to the driver as Arrow and COPYed into ``gold_stage`` in one transaction that
first deletes the date's staged rows. The reconciliation checks the staged totals; only
when it passes are they published into ``gold`` in one transaction (ARCHITECTURE 4), so a
failed day never replaces the published one. The schema comes from the migrations.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick_spark import gold_db, marts, runner
from tripclick_spark.jobs import reconcile, silver

SILVER_INPUT = ("event_date", "event_ts", "session_id", "document_id", "title", "clinical_areas")


def transform(clicks: DataFrame) -> dict[str, DataFrame]:
    """The four marts of the clicks, in the tables' column order."""
    clicks = clicks.select(*SILVER_INPUT)
    return {name: build(clicks).select(*gold_db.MARTS[name]) for name, build in marts.MARTS.items()}


def stage(settings: Settings, event_date: str, frames: dict[str, DataFrame]) -> dict[str, int]:
    gold_db.migrate(settings)
    return gold_db.stage_date(settings, event_date, {n: f.toArrow() for n, f in frames.items()})


def reconcile_and_publish(
    spark: SparkSession, settings: Settings, event_date: str
) -> dict[str, Any]:
    """Reconcile the staged day, then publish it; a mismatch raises and publishes nothing."""
    report = reconcile.run(spark, settings, event_date, staged=True)
    gold_db.publish(settings, event_date)
    return report


def run(
    spark: SparkSession, settings: Settings, event_date: str, *, check: bool = True
) -> dict[str, Any]:
    """Stage the date's marts, reconcile, publish; return the rows per mart and the report.

    ``check=False`` only stages (``run-day`` reconciles once bronze is written, then
    publishes with :func:`reconcile_and_publish`).
    """
    clicks = silver.read_silver(spark, settings, event_date)
    if clicks is None:
        raise UserError(
            f"no silver data for {event_date}; run `tripclick silver --date {event_date} "
            "--available-now` first"
        )
    clicks = clicks.persist()
    try:
        loaded = stage(settings, event_date, transform(clicks))
    finally:
        clicks.unpersist()
    result: dict[str, Any] = {"loaded": loaded}
    if check:
        result["reconciliation"] = reconcile_and_publish(spark, settings, event_date)
    return result


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-reconcile",
        action="store_true",
        help="stage the marts in gold_stage only: no reconciliation, nothing published",
    )


def _execute(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> None:
    result = run(spark, settings, args.date, check=not args.no_reconcile)
    for name, n in result["loaded"].items():
        print(f"gold {args.date}: {name:<24} {n} rows")
    if "reconciliation" in result:
        print(f"gold {args.date}: reconciliation passed, published")
    else:
        print(f"gold {args.date}: staged in {gold_db.STAGE_SCHEMA}, not published")


COMMAND = runner.Job(
    "gold",
    "silver -> the four marts of a date in PostgreSQL: staged, reconciled, then published",
    _execute,
    _arguments,
)


def main(argv: list[str] | None = None) -> int:
    return runner.main(COMMAND, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
