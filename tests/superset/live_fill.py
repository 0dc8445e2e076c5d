"""Fill the live marts of a date from a lake's silver, as the silver stream does.

Run as a script (its own Spark driver): ``python live_fill.py YYYY-MM-DD`` with the
lake in ``TRIPCLICK_LAKE_ROOT``. Each ``batch_id=N`` of silver goes through
``live_marts.write_batch`` as batch N; then a crawler-like session (25 clicks in one
minute) is written on its own date after all other data, so every live chart has rows.
"""

from __future__ import annotations

import sys

from pyspark.sql import functions as F

from tripclick import config
from tripclick_spark import live_marts, session
from tripclick_spark.jobs import silver

CRAWLER = "superset-test-crawler"
CRAWLER_DATE = "2099-12-31"


def main(event_date: str) -> int:
    settings = config.load()
    spark = session.build(
        settings, "superset-live-fill", master="local[1]", **{"spark.sql.shuffle.partitions": "2"}
    )
    try:
        clicks = silver.read_silver(spark, settings, event_date)
        if clicks is None:
            print(f"no silver for {event_date} under {settings.lake_root}", file=sys.stderr)
            return 1
        batch_ids = sorted(r[0] for r in clicks.select("batch_id").distinct().collect())
        for batch_id in batch_ids:
            batch = clicks.where(F.col("batch_id") == batch_id)
            live_marts.write_batch(batch, settings, event_date, batch_id)
        # The crawler comes last of all data (the live views look back from the latest
        # minute), whatever other dates the gold DB holds.
        tagged = clicks.where(F.size("clinical_areas") > 0).orderBy("dedup_key").limit(1)
        start = F.unix_seconds(F.to_timestamp(F.lit(f"{CRAWLER_DATE} 23:59:00")))
        ts = F.timestamp_seconds(start + F.col("id") * 2)
        crawler = tagged.crossJoin(spark.range(25)).select(
            ts.alias("event_ts"),
            ts.alias("click_ts"),
            F.lit(CRAWLER).alias("session_id"),
            "document_id",
            "title",
            "clinical_areas",
        )
        live_marts.write_batch(crawler, settings, CRAWLER_DATE, 0)
        print(f"live marts of {event_date}: {len(batch_ids)} silver batches and a crawler")
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
