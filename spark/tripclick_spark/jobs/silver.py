"""Silver: Structured Streaming Kafka → validated, deduplicated clicks (ARCHITECTURE 3.4).

Per date: the records of ``--date`` are validated with the producers' event model; valid
clicks are deduplicated on ``dedup_key`` (``dropDuplicatesWithinWatermark``, state in
the checkpoint) and written under ``silver/``, failures go to ``quarantine/`` with their
reason. Each micro-batch is written to its own ``batch_id=N`` directory with overwrite,
so a batch re-run after a crash replaces its own output instead of adding to it, and
batch 0 clears the date first. A date with output but no checkpoint is refused unless
``--reset`` (it would start over at batch 0 and double).

Two ways to run: bounded by a duration (the 15:00-16:00 window) or catch-up
(``availableNow``: everything in the topic now, then stop). A second run resumes from
the checkpoint; ``--reset`` starts the date over. SIGTERM (or SIGINT) ends a window early,
after the running micro-batch, and the run exits 143 (130): what was committed stands and
the rest waits in Kafka for the date's next run.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick.stop_flag import StopFlag
from tripclick_spark import figures, kafka_source, lake, live_marts, records, runner

JOB = "silver"
# Every click of a date lies within 24 h of every other, so no click of the date is ever
# "late"; state holds one day of keys and is dropped with the date's checkpoint.
DEFAULT_WATERMARK = "24 hours"


@dataclass(frozen=True)
class SilverRun:
    event_date: str
    batches: int
    silver_rows: int
    quarantined_rows: int
    # Batches whose live marts PostgreSQL missed; the next run of the date stores them.
    live_pending: tuple[int, ...] = ()
    # The signal that ended the window early (SIGTERM, SIGINT), if one did.
    stopped_by: str | None = None


# ---------------------------------------------------------------- pure transforms


def validated(kafka_records: DataFrame, event_date: str) -> DataFrame:
    """The date's records, validated (see :func:`records.parse`)."""
    of_day = records.of_date(kafka_records, event_date, checked=True).select(
        records.JVM,
        "value",
        "topic",
        "partition",
        "offset",
        "timestamp",
        "record_date",
        records.header("source").alias("source_header"),
    )
    return records.parse(of_day, event_date)


def deduplicated(parsed: DataFrame, watermark: str = DEFAULT_WATERMARK) -> DataFrame:
    """Drop repeated valid clicks (same ``dedup_key``); keep every invalid record.

    An invalid record is identified by its Kafka position, so all of them reach quarantine.
    Columns no sink reads are dropped here, before the shuffle and the batch's cache.
    """
    event_ts = F.timestamp_millis("event_ms")
    keyed = (
        parsed.withColumn("event_ts", event_ts)
        .withColumn("wm_ts", F.coalesce(event_ts, F.to_timestamp("record_date")))
        .withColumn(
            "dedup_id",
            F.when(F.col("ok"), F.col("record_key")).otherwise(
                F.concat_ws("-", F.lit("bad"), "partition", "offset")
            ),
        )
        .drop("event_ms", "record_date")
    )
    if not parsed.isStreaming:  # a batch (tests, backfills) has no watermark to keep
        return keyed.dropDuplicates(["dedup_id"])
    return keyed.withWatermark("wm_ts", watermark).dropDuplicatesWithinWatermark(["dedup_id"])


def silver_rows(clicks: DataFrame) -> DataFrame:
    """The valid clicks in silver's columns (``event_date`` is the partition directory)."""
    return clicks.where(F.col("ok")).select(
        "event_ts",
        "session_id",
        "document_id",
        "url",
        "title",
        "doi",
        "clinical_areas",
        "keywords",
        "documents",
        "date_created",
        F.timestamp_millis("click_ms").alias("click_ts"),
        F.col("record_key").alias("dedup_key"),
        "source",
        F.col("produced_at").cast("timestamp").alias("produced_at"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
    )


def quarantine_rows(clicks: DataFrame) -> DataFrame:
    """The invalid records with their reason and the raw value."""
    return clicks.where(~F.col("ok")).select(
        "record_key",
        "reason",
        "detail",
        "value",
        F.col("source_header").alias("source"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
    )


# ---------------------------------------------------------------- load


class _BatchWriter:
    """foreachBatch sink: a batch's output replaces ``.../batch_id=N`` (idempotent)."""

    def __init__(self, feed: live_marts.Feed, settings: Settings, event_date: str) -> None:
        self.feed, self.settings, self.event_date = feed, settings, event_date
        self.silver = lake.partition(settings, lake.SILVER, event_date)
        self.quarantine = lake.partition(settings, lake.QUARANTINE, event_date)
        self.batches = 0
        self.silver_rows = 0
        self.quarantined_rows = 0

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        spark = batch.sparkSession
        if batch_id == 0:
            # Batch 0 only runs when the checkpoint starts the date over: nothing an earlier
            # query wrote for the date may stay next to it (silver would double).
            lake.delete(spark, self.silver)
            lake.delete(spark, self.quarantine)
        batch = batch.persist()
        try:
            counts = {r["ok"]: r["count"] for r in batch.groupBy("ok").count().collect()}
            for ok, path, rows in (
                (True, self.silver, silver_rows),
                (False, self.quarantine, quarantine_rows),
            ):
                target = f"{path}/batch_id={batch_id}"
                if counts.get(ok, 0):
                    rows(batch).write.mode("overwrite").parquet(target)
                else:
                    lake.delete(spark, target)
            # Every batch, even an empty one: a replayed batch replaces what it stored before.
            # Best effort: the lake stages never wait for the gold database.
            self.feed.write(silver_rows(batch), batch_id)
            self.batches += 1
            self.silver_rows += counts.get(True, 0)
            self.quarantined_rows += counts.get(False, 0)
        finally:
            batch.unpersist()


def read_silver(spark: SparkSession, settings: Settings, event_date: str) -> DataFrame | None:
    """The date's silver clicks with ``event_date``, or None when silver has none."""
    return _read_partition(spark, settings, lake.SILVER, event_date)


def read_quarantine(spark: SparkSession, settings: Settings, event_date: str) -> DataFrame | None:
    return _read_partition(spark, settings, lake.QUARANTINE, event_date)


def _read_partition(spark, settings, layer, event_date):
    path = lake.partition(settings, layer, event_date)
    if not lake.exists(spark, path):
        return None
    df = spark.read.option("basePath", lake.table(settings, layer)).parquet(path)
    if "event_date" not in df.columns:  # an empty date directory
        return None
    return df


def reset(spark: SparkSession, settings: Settings, event_date: str) -> None:
    """Forget the date: its checkpoint, silver and quarantine output."""
    lake.delete(spark, lake.checkpoint(settings, JOB, event_date))
    lake.delete(spark, lake.partition(settings, lake.SILVER, event_date))
    lake.delete(spark, lake.partition(settings, lake.QUARANTINE, event_date))


def refuse_to_start_over(spark: SparkSession, settings: Settings, event_date: str) -> None:
    """Refuse a query that would start the date at batch 0 while the date has output.

    Without its checkpoint a query starts at batch 0 from Kafka's earliest offsets. The
    date's silver then depends on what Kafka still holds, so replacing it is the
    operator's decision (``--reset``), never a side effect of a lost checkpoint.
    """
    checkpoint = lake.checkpoint(settings, JOB, event_date)
    if lake.has_entries(spark, f"{checkpoint}/offsets"):
        return
    found = [
        path
        for path in (
            lake.partition(settings, lake.SILVER, event_date),
            lake.partition(settings, lake.QUARANTINE, event_date),
        )
        if lake.has_entries(spark, path)
    ]
    if found:
        raise UserError(
            f"silver for {event_date} has output ({', '.join(found)}) but no checkpoint at "
            f"{checkpoint}: starting over would double it; run again with --reset to replace "
            f"the date from Kafka (which must still hold all of {event_date})"
        )


def state_store(settings: Settings) -> str:
    """The state store of the dedup state.

    RocksDB keeps a day of keys off the JVM heap, so a big day needs no big driver. Its
    checkpoint uploads whole files, which moto's S3 server rejects (HTTP 100), so a lake on
    that stand-in (locally, or on the simulated fleet, whose jobs are pointed at it by
    AWS_ENDPOINT_URL_S3) keeps the state in the default store instead.
    """
    state = "org.apache.spark.sql.execution.streaming.state"
    stand_in = settings.runtime == "local" or bool(os.environ.get("AWS_ENDPOINT_URL_S3"))
    if settings.lake_is_s3 and stand_in:
        return f"{state}.HDFSBackedStateStoreProvider"
    return f"{state}.RocksDBStateStoreProvider"


def run(
    spark: SparkSession,
    settings: Settings,
    event_date: str,
    *,
    duration_seconds: float | None = None,
    available_now: bool = False,
    trigger_seconds: int = 10,
    max_offsets_per_trigger: int | None = None,
    watermark: str = DEFAULT_WATERMARK,
    fresh: bool = False,
) -> SilverRun:
    """Run the streaming query for the date until caught up or for the duration."""
    if available_now == (duration_seconds is not None):
        raise UserError("give exactly one of --duration-seconds N or --available-now")
    if fresh:
        reset(spark, settings, event_date)
    else:
        refuse_to_start_over(spark, settings, event_date)
    spark.conf.set("spark.sql.streaming.stateStore.providerClass", state_store(settings))
    # Counting the store's rows costs a RocksDB read per write; the count is only a metric.
    spark.conf.set("spark.sql.streaming.stateStore.rocksdb.trackTotalNumberOfRows", "false")
    # A batch without data would only evict state; within one date nothing expires.
    spark.conf.set("spark.sql.streaming.noDataMicroBatches.enabled", "false")
    feed = live_feed(spark, settings, event_date)
    feed.try_catch_up()  # what an earlier run of the date left pending
    stream = kafka_source.stream(spark, settings, max_offsets_per_trigger)
    clicks = deduplicated(validated(stream, event_date), watermark)
    writer = _BatchWriter(feed, settings, event_date)
    ds = (
        clicks.writeStream.queryName(f"silver_{event_date.replace('-', '_')}")
        .foreachBatch(writer)
        .option("checkpointLocation", lake.checkpoint(settings, JOB, event_date))
    )
    listener = figures.offsets_listener(settings, settings.topic) if settings.pushgateway else None
    stopped_by = None
    if listener is not None:
        spark.streams.addListener(listener)
    try:
        if available_now:
            query = ds.trigger(availableNow=True).start()
            query.awaitTermination()
        else:
            query = ds.trigger(processingTime=f"{trigger_seconds} seconds").start()
            with StopFlag() as stop:
                _await_window(query, duration_seconds, stop.event)
                _stop_between_batches(query)
            stopped_by = stop.signal_name
    finally:
        if listener is not None:
            listener.wait_terminated()
            spark.streams.removeListener(listener)
    if query.exception() is not None:
        raise UserError(f"the silver query for {event_date} failed: {query.exception()}")
    pending = tuple(feed.try_catch_up())
    return SilverRun(
        event_date, writer.batches, writer.silver_rows, writer.quarantined_rows, pending, stopped_by
    )


def live_feed(spark: SparkSession, settings: Settings, event_date: str) -> live_marts.Feed:
    """The date's live marts, with their pending batches next to silver's checkpoint."""
    pending = f"{lake.checkpoint(settings, JOB, event_date)}/live_pending"
    return live_marts.Feed(
        spark, settings, event_date, pending, lake.partition(settings, lake.SILVER, event_date)
    )


def _await_window(query, seconds: float, stop: threading.Event) -> None:
    """Wait out the window, or until the query ends or a signal asks for a stop."""
    deadline = time.monotonic() + seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0 or query.awaitTermination(min(left, 1.0)):
            return


def _stop_between_batches(query, patience_seconds: float = 120) -> None:
    """Stop after the running micro-batch, so the window's last batch is complete."""
    deadline = time.monotonic() + patience_seconds
    while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
        time.sleep(0.5)
    query.stop()


def _positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{value!r} is not a positive number of seconds")
    return seconds


def _arguments(parser: argparse.ArgumentParser) -> None:
    """Silver's options besides ``--date``: how long it runs and from where."""
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


def _execute(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> int:
    result = run(
        spark,
        settings,
        args.date,
        duration_seconds=args.duration_seconds,
        available_now=args.available_now,
        trigger_seconds=args.trigger_seconds,
        max_offsets_per_trigger=args.max_offsets_per_trigger,
        fresh=args.reset,
    )
    print(
        f"silver {result.event_date}: {result.batches} batches, "
        f"{result.silver_rows} clicks, {result.quarantined_rows} quarantined"
    )
    if result.live_pending:
        print(
            f"silver {result.event_date}: the live marts of batches {list(result.live_pending)}"
            " are pending (the gold database was unreachable); the next silver run of the date"
            " stores them"
        )
    if result.stopped_by:
        # What was committed stands; the rest waits in Kafka for the date's next run.
        print(f"silver {result.event_date}: stopped by {result.stopped_by} before its window ended")
        return 143 if result.stopped_by == "SIGTERM" else 130
    return 0


COMMAND = runner.Job(
    JOB,
    "Spark streaming: Kafka -> silver (validated, deduplicated) and quarantine for a date",
    _execute,
    _arguments,
)


def main(argv: list[str] | None = None) -> int:
    return runner.main(COMMAND, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
