"""Gold: silver → the four daily marts in PostgreSQL: staged, reconciled, checked, published.

The marts are computed by the pure transforms of :mod:`tripclick_spark.marts`,
brought to the driver as Arrow and COPYed into ``gold_stage`` in one transaction that
first deletes the date's staged rows; the clicks' field profile the quality checks read is
staged with them. The reconciliation checks the staged totals, then the data-quality gates
(:mod:`tripclick_spark.quality`) check the staged day; only when both pass is it published
into ``gold`` in one transaction (ARCHITECTURE 4), so a failed day never replaces the
published one. The schema comes from the migrations.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick_spark import figures, gold_db, marts, quality, runner
from tripclick_spark.jobs import reconcile, silver

SILVER_INPUT = ("event_date", "event_ts", "session_id", "document_id", "title", "clinical_areas")


def transform(clicks: DataFrame) -> dict[str, DataFrame]:
    """The four marts of the clicks, in the tables' column order."""
    clicks = clicks.select(*SILVER_INPUT)
    return {name: build(clicks).select(*gold_db.MARTS[name]) for name, build in marts.MARTS.items()}


def staged_tables(clicks: DataFrame, event_date: str) -> dict[str, DataFrame]:
    """What a load stages: the four marts and the clicks' field profile."""
    return {**transform(clicks), "field_profile": quality.profile(clicks, event_date)}


def stage(settings: Settings, event_date: str, frames: dict[str, DataFrame]) -> dict[str, int]:
    gold_db.migrate(settings)
    return gold_db.stage_date(settings, event_date, {n: f.toArrow() for n, f in frames.items()})


def reconcile_and_publish(
    spark: SparkSession, settings: Settings, event_date: str
) -> dict[str, Any]:
    """Reconcile the staged day, pass its quality gates, then publish it.

    A mismatch or an error-severity check raises and publishes nothing; warnings are
    stored with the results and publication goes on. Returns the reconciliation report
    with the quality report under ``quality``.
    """
    report = reconcile.run(spark, settings, event_date, staged=True)
    report["quality"] = check_and_publish(spark, settings, event_date)
    return report


def check_and_publish(spark: SparkSession, settings: Settings, event_date: str) -> dict[str, Any]:
    """Run the staged day's quality gates, then publish it; an error raises first."""
    checked = quality.gate(spark, settings, event_date).as_dict()
    gold_db.publish(settings, event_date)
    figures.published(settings)
    return checked


def run(
    spark: SparkSession, settings: Settings, event_date: str, *, check: bool = True
) -> dict[str, Any]:
    """Stage the date's marts, reconcile, check, publish; return the rows per table and the report.

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
        loaded = stage(settings, event_date, staged_tables(clicks, event_date))
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
        checks = result["reconciliation"]["quality"]["checks"]
        warned = quality.warned(result["reconciliation"]["quality"])
        print(
            f"gold {args.date}: reconciliation passed, {len(checks)} quality checks passed"
            + (f" ({len(warned)} warnings: {', '.join(warned)})" if warned else "")
            + ", published"
        )
    else:
        print(f"gold {args.date}: staged in {gold_db.STAGE_SCHEMA}, not published")


COMMAND = runner.Job(
    "gold",
    "silver -> the four marts of a date in PostgreSQL: staged, reconciled, checked, published",
    _execute,
    _arguments,
)


def main(argv: list[str] | None = None) -> int:
    return runner.main(COMMAND, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
