"""Gold: silver → the four daily marts in PostgreSQL, then the reconciliation.

The marts are computed by the pure transforms of :mod:`tripclick_spark.marts`,
brought to the driver as Arrow and COPYed into ``gold`` in one transaction that first
deletes the date's rows. The schema comes from the versioned migrations, applied first.
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


def load(settings: Settings, event_date: str, frames: dict[str, DataFrame]) -> dict[str, int]:
    gold_db.migrate(settings)
    return gold_db.replace_date(settings, event_date, {n: f.toArrow() for n, f in frames.items()})


def run(
    spark: SparkSession, settings: Settings, event_date: str, *, check: bool = True
) -> dict[str, Any]:
    """Load the date's marts, then reconcile; return the rows per mart and the report."""
    clicks = silver.read_silver(spark, settings, event_date)
    if clicks is None:
        raise UserError(
            f"no silver data for {event_date}; run `tripclick silver --date {event_date} "
            "--available-now` first"
        )
    clicks = clicks.persist()
    try:
        loaded = load(settings, event_date, transform(clicks))
    finally:
        clicks.unpersist()
    result: dict[str, Any] = {"loaded": loaded}
    if check:
        result["reconciliation"] = reconcile.run(spark, settings, event_date)
    return result


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-reconcile", action="store_true", help="load the marts without the reconciliation"
    )


def _execute(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> None:
    result = run(spark, settings, args.date, check=not args.no_reconcile)
    for name, n in result["loaded"].items():
        print(f"gold {args.date}: {name:<24} {n} rows")
    if "reconciliation" in result:
        print(f"gold {args.date}: reconciliation passed")


COMMAND = runner.Job(
    "gold", "silver -> the four marts of a date in PostgreSQL, then reconcile", _execute, _arguments
)


def main(argv: list[str] | None = None) -> int:
    return runner.main(COMMAND, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
