"""Put the serving layer's two sources around the sample day, for the overview dashboard.

Run as a script (its own Spark driver): ``python serving_fill.py SAMPLE PUBLISHED SPEED``
with the lake in ``TRIPCLICK_LAKE_ROOT``, once gold has published the sample date
(``run-day``). The sample day's silver, moved to each of the two dates, goes through
``live_marts.write_batch`` batch by batch, as the silver stream writes it:

- PUBLISHED then gets gold's marts of the sample day, moved to it, staged and published
  by ``gold_db.publish``: its publication records the speed layer's accuracy, and serving
  answers it from gold (source ``batch``);
- SPEED stays unpublished: serving answers it from the live partials (source ``speed``),
  as it answers today before 18:00.

The gold database is shared, so the fixture picks the two days after the newest date gold
has published (:func:`next_dates`): the overview's window ends on that date. Importable for
:func:`clean`, which the fixture runs before and after.
"""

from __future__ import annotations

import datetime as dt
import sys


def next_dates(settings, sample_date: str) -> tuple[str, str]:
    """The two days after the newest date gold has published (the sample's at least)."""
    from tripclick_spark import gold_db

    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("select max(event_date) from gold.mart_daily_traffic")
        (newest,) = cur.fetchone()
    newest = max(newest or dt.date.min, dt.date.fromisoformat(sample_date))
    return str(newest + dt.timedelta(days=1)), str(newest + dt.timedelta(days=2))


def clean(settings, published_date: str, speed_date: str) -> None:
    """Every row the fill writes: gold's and gold_stage's rows of the published date, its
    publication and accuracy, and the live partials of both dates."""
    from tripclick_spark import gold_db, live_marts

    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        for table in gold_db.PUBLISHED:
            for schema in (gold_db.SCHEMA, gold_db.STAGE_SCHEMA):
                cur.execute(
                    f"delete from {schema}.{table} where event_date = %s", (published_date,)
                )
        for table in ("publications", "speed_accuracy"):
            cur.execute(f"delete from serving.{table} where event_date = %s", (published_date,))
        for table in live_marts.PARTIALS:
            cur.execute(
                f"delete from {gold_db.SCHEMA}.{table} where event_date in (%s, %s)",
                (published_date, speed_date),
            )


def _stage_moved_gold(settings, sample_date: str, event_date: str) -> None:
    """gold_stage gets gold's published marts of ``sample_date`` as marts of ``event_date``
    (session timestamps moved with the date), as ``tripclick gold load`` would stage them."""
    from tripclick_spark import gold_db

    days = (dt.date.fromisoformat(event_date) - dt.date.fromisoformat(sample_date)).days
    moved = {"event_date": "%(date)s::date", "first_click_ts": "first_click_ts + %(shift)s",
             "last_click_ts": "last_click_ts + %(shift)s"}  # fmt: skip
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        for table, columns in gold_db.MARTS.items():
            cols = ", ".join(columns)
            values = ", ".join(moved.get(c, c) for c in columns)
            cur.execute(
                f"insert into {gold_db.STAGE_SCHEMA}.{table} ({cols}) select {values} "
                f"from {gold_db.SCHEMA}.{table} where event_date = %(sample)s",
                {"date": event_date, "shift": dt.timedelta(days=days), "sample": sample_date},
            )


def main(sample_date: str, published_date: str, speed_date: str) -> int:
    from pyspark.sql import functions as F
    from pyspark.sql.types import TimestampType

    from tripclick import config
    from tripclick_spark import gold_db, live_marts, session
    from tripclick_spark.jobs import silver

    settings = config.load()
    spark = session.build(
        settings, "superset-serving-fill", master="local[1]",
        **{"spark.sql.shuffle.partitions": "2"},
    )  # fmt: skip
    try:
        clicks = silver.read_silver(spark, settings, sample_date)
        if clicks is None:
            print(f"no silver for {sample_date} under {settings.lake_root}", file=sys.stderr)
            return 1
        batch_ids = sorted(r[0] for r in clicks.select("batch_id").distinct().collect())
        timestamps = [f.name for f in clicks.schema.fields if isinstance(f.dataType, TimestampType)]
        for event_date in (published_date, speed_date):
            days = (dt.date.fromisoformat(event_date) - dt.date.fromisoformat(sample_date)).days
            moved = clicks.withColumns(
                {c: F.col(c) + F.expr(f"make_interval(0, 0, 0, {days})") for c in timestamps}
            )
            # Numbered from 0: batch 0 clears whatever an earlier run left of the date.
            for number, batch_id in enumerate(batch_ids):
                batch = moved.where(F.col("batch_id") == batch_id)
                live_marts.write_batch(batch, settings, event_date, number)
        _stage_moved_gold(settings, sample_date, published_date)
        gold_db.publish(settings, published_date)
        print(
            f"serving: {published_date} published over {len(batch_ids)} speed batches, "
            f"{speed_date} from the speed layer only"
        )
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
