"""Bronze: batch Kafka → every record of the date, duplicates and bad records included.

Reads the topic from its earliest to its latest offsets, keeps the records of ``--date``
(the value's ``event_date``, else the ``event_date`` header), writes them to a staging
folder and then replaces that date's partition, so a re-run never appends a second copy
and never leaves half a date. A run that finds fewer of the date's records than the
archive holds (Kafka's retention has removed some) refuses to replace it. ``record_key`` (the ``dedup_key``
of a valid record, ``raw-<xxhash64>`` of an invalid one) feeds the reconciliation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tripclick.config import Settings
from tripclick.errors import UserError
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
    of_day = records.of_date(kafka_records, event_date, checked=True)
    keyed = records.with_record_key(
        of_day.select(
            records.JVM,
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


def staging(settings: Settings, event_date: str) -> str:
    """Where a run writes the date before it replaces the archive (``_`` hides it from readers)."""
    return f"{lake.table(settings, lake.BRONZE)}/_staging/event_date={event_date}"


def read(spark: SparkSession, settings: Settings, event_date: str) -> DataFrame | None:
    path = lake.partition(settings, lake.BRONZE, event_date)
    if not lake.exists(spark, path):
        return None
    return spark.read.parquet(path)


def _first_offsets(frame: DataFrame) -> dict[int, int]:
    rows = frame.groupBy("partition").agg(F.min("offset").alias("first")).collect()
    return {int(r["partition"]): int(r["first"]) for r in rows}


def refuse_to_shrink(archived: DataFrame, staged: DataFrame, event_date: str) -> None:
    """Refuse a run that read fewer of the date's records than the archive holds.

    The topic only grows: a run that finds fewer records of the date than the last one
    stored met Kafka's retention (or a topic made anew), and the archive is then the only
    copy of what is gone. Nothing replaces it; the line says what Kafka lost.
    """
    kept, found = archived.count(), staged.count()
    if found >= kept:
        return
    before, now = _first_offsets(archived), _first_offsets(staged)
    moved = {p: (o, now.get(p)) for p, o in sorted(before.items()) if now.get(p) != o}
    detail = ", ".join(
        f"partition {p} from offset {o} now {'empty' if n is None else f'from {n}'}"
        for p, (o, n) in moved.items()
    )
    raise UserError(
        f"bronze for {event_date} holds {kept} records but Kafka now holds {found} of the date"
        f" ({detail or 'fewer records'}): its retention has removed the rest, so the archive"
        " is kept as it is. Bronze is the only copy of that day now; nothing needs re-running"
    )


def run(spark: SparkSession, settings: Settings, event_date: str) -> int:
    """Replace the date's bronze partition through a staging folder; return its record count.

    The archive changes only once the run has written the whole date and found at least
    as many records as it holds: a failure mid-job leaves the staging folder, never a
    partial archive.
    """
    ingested_at = dt.datetime.now(dt.UTC)
    staged_path = staging(settings, event_date)
    frame = transform(kafka_source.batch(spark, settings), event_date, ingested_at)
    frame.write.mode("overwrite").parquet(staged_path)
    staged = spark.read.parquet(staged_path)
    archived = read(spark, settings, event_date)
    try:
        if archived is not None:
            refuse_to_shrink(archived, staged, event_date)
    except UserError:
        lake.delete(spark, staged_path)
        raise
    lake.replace(spark, staged_path, lake.partition(settings, lake.BRONZE, event_date))
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
