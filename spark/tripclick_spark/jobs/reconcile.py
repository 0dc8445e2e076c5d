"""Reconciliation (ARCHITECTURE 3.6): count a date through every layer and check the sums.

``bronze distinct = silver + quarantined distinct``, ``silver = gold total_events`` and
``Kafka = bronze`` must hold. The report goes to the lake (JSON) and to
``gold.reconciliation``; a mismatch raises :class:`ReconciliationError` naming the numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick_spark import figures, gold_db, kafka_source, lake, records, runner
from tripclick_spark.jobs import bronze, silver


class ReconciliationError(UserError):
    """The layers disagree; the message names the numbers that differ."""


def mismatches(counts: dict[str, Any]) -> list[str]:
    """The invariants that do not hold, each as a sentence with its numbers (pure)."""
    out = []
    expected = counts["silver_records"] + counts["quarantine_distinct"]
    if counts["bronze_distinct"] != expected:
        out.append(
            f"bronze distinct {counts['bronze_distinct']} != silver {counts['silver_records']}"
            f" + quarantined distinct {counts['quarantine_distinct']} (= {expected})"
        )
    if counts["gold_total_events"] != counts["silver_records"]:
        gold = counts["gold_total_events"]
        out.append(
            f"silver {counts['silver_records']} != gold total_events "
            f"{'(not loaded)' if gold is None else gold}"
        )
    if counts["kafka_records"] != counts["bronze_records"]:
        out.append(f"Kafka {counts['kafka_records']} != bronze {counts['bronze_records']}")
    return out


def count(
    spark: SparkSession, settings: Settings, event_date: str, *, staged: bool = False
) -> dict[str, Any]:
    """The date's numbers in each layer; gold's from the staged marts when ``staged``."""
    kafka = records.of_date(
        kafka_source.batch(spark, settings).select("value", "headers", "timestamp"), event_date
    )
    counts: dict[str, Any] = {"event_date": event_date, "kafka_records": kafka.count()}

    b = bronze.read(spark, settings, event_date)
    row = (
        b.agg(F.count(F.lit(1)).alias("n"), F.countDistinct("record_key").alias("d")).first()
        if b is not None
        else None
    )
    counts["bronze_records"] = row["n"] if row else 0
    counts["bronze_distinct"] = row["d"] if row else 0

    s = silver.read_silver(spark, settings, event_date)
    counts["silver_records"] = s.count() if s is not None else 0

    q = silver.read_quarantine(spark, settings, event_date)
    row = (
        q.agg(F.count(F.lit(1)).alias("n"), F.countDistinct("record_key").alias("d")).first()
        if q is not None
        else None
    )
    counts["quarantine_records"] = row["n"] if row else 0
    counts["quarantine_distinct"] = row["d"] if row else 0

    counts["gold_total_events"] = gold_db.total_events(settings, event_date, staged=staged)
    return counts


def run(
    spark: SparkSession, settings: Settings, event_date: str, *, staged: bool = False
) -> dict[str, Any]:
    """Count, write the report (lake + gold), raise on a mismatch; return the report.

    ``staged`` checks the marts a gold load has staged but not published yet (the load
    publishes them only when this passes); otherwise the published ones.
    """
    report = count(spark, settings, event_date, staged=staged)
    report["mismatches"] = mismatches(report)
    report["passed"] = not report["mismatches"]
    lake.write_text(spark, lake.report(settings, event_date), json.dumps(report, indent=2) + "\n")
    gold_db.migrate(settings)
    gold_db.save_reconciliation(settings, report)
    figures.reconciliation(settings, report)
    if not report["passed"]:
        raise ReconciliationError(
            f"reconciliation of {event_date} failed: " + "; ".join(report["mismatches"])
        )
    return report


def _execute(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> None:
    print(json.dumps(run(spark, settings, args.date), indent=2))


COMMAND = runner.Job("reconcile", "count a date through every layer; fail on a mismatch", _execute)


def main(argv: list[str] | None = None) -> int:
    return runner.main(COMMAND, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
