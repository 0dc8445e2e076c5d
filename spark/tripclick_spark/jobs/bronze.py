"""Bronze: batch Kafka → every record of the date, duplicates and bad records included.

Reads the topic from its earliest to its latest offsets, keeps the records of ``--date``
(the value's ``event_date``, else the ``event_date`` header) and replaces that date's
partition, so a re-run never appends a second copy. ``record_key`` (the ``dedup_key``
of a valid record, ``raw-<xxhash64>`` of an invalid one) feeds the reconciliation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tripclick.config import Settings
from tripclick_spark import kafka_source, lake, records, runner

BRONZE_COLUMNS = (
    "key",
    "value",
    "topic",
    "partition",
    "offset",
    "kafka_timestamp",
    "kafka_timestamp_type",
    "headers",
    "source",
    "record_key",
    "reject_reason",
    "ingested_at",
)


def transform(kafka_records: DataFrame, event_date: str, ingested_at: dt.datetime) -> DataFrame:
    """The date's Kafka records in bronze's columns (``event_date`` is the directory)."""
    of_day = records.of_date(kafka_records, event_date)
    keyed = records.with_record_key(
        of_day.select(
            F.col("key").cast("string").alias("key"),
            "value",
            "topic",
            "partition",
            "offset",
            F.col("timestamp").alias("kafka_timestamp"),
            F.col("timestampType").alias("kafka_timestamp_type"),
            "headers",
        ),
        event_date,
    )
    # An invalid record's source is a header; a valid one's is in its value, read by the
    # validation. The JSON path only runs for a record with neither (coalesce stops early).
    source = F.coalesce(
        records.header("source"),
        "value_source",
        F.get_json_object(F.col("value").cast("string"), "$.source"),
    )
    return keyed.withColumns({"source": source, "ingested_at": F.lit(ingested_at)}).select(
        *BRONZE_COLUMNS
    )


def load(frame: DataFrame, settings: Settings, event_date: str) -> None:
    """Replace the date's partition (an empty day still leaves an empty partition)."""
    frame.write.mode("overwrite").parquet(lake.partition(settings, lake.BRONZE, event_date))


def read(spark: SparkSession, settings: Settings, event_date: str) -> DataFrame | None:
    path = lake.partition(settings, lake.BRONZE, event_date)
    if not lake.exists(spark, path):
        return None
    return spark.read.parquet(path)


def run(spark: SparkSession, settings: Settings, event_date: str) -> int:
    """Rewrite the date's bronze partition; return its record count."""
    ingested_at = dt.datetime.now(dt.UTC)
    load(
        transform(kafka_source.batch(spark, settings), event_date, ingested_at),
        settings,
        event_date,
    )
    return read(spark, settings, event_date).count()


def _execute(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> None:
    count = run(spark, settings, args.date)
    where = lake.partition(settings, lake.BRONZE, args.date)
    print(f"bronze {args.date}: {count} records -> {where}")


COMMAND = runner.Job(
    "bronze", "Spark batch: Kafka -> bronze, every record of a date (replaces it)", _execute
)


def main(argv: list[str] | None = None) -> int:
    return runner.main(COMMAND, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
