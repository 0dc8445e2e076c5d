"""Near-real-time marts fed by the silver stream, one micro-batch at a time (ARCHITECTURE 3.5).

Each micro-batch's valid, deduplicated clicks are aggregated in Spark into small partial
tables keyed by ``(event_date, batch_id, ...)``. The views of migration ``V002__live_marts``
sum the minute and hour partials for Superset: traffic per minute, top documents of the last
hour, clinical-area trend over 24 h and anomalous sessions. Document minutes are kept
for the batch's last hour only (:func:`last_hour`): no view reads older ones. Migration
``V011`` gives them the original project's mart names (``gold.mart_realtime_*``). The day
partials (per session, document and clinical area; migration ``V008``) are what the
serving layer's speed figures for a date not yet in gold are summed from (``V009``):
exact for clicks, first/last clicks and titles; a distinct count (sessions of a document
or an area, documents of a session) is distinct within a batch only, so its sum over
batches over-counts what spans batches, which ``serving.speed_accuracy`` measures.

Replay-safe: a batch re-run after a crash deletes its own ``(event_date, batch_id)`` rows
and inserts the new ones in one transaction, one writer of a date at a time; a unique
index on each table's grain (migration ``V005``) refuses a doubled row. Batch 0 clears the whole date first: a query
only runs batch 0 when it starts the date from scratch (``silver --reset`` or a lost
checkpoint), and the batch ids of the earlier run would otherwise be counted again.

Best effort (:class:`Feed`): the lake is the record and these marts only a view of it, so a
batch whose marts cannot reach the gold database is marked pending next to silver's
checkpoint and the stream goes on. Each later batch, and the next run of the date, first
replays the pending batches in batch order from their silver output: once PostgreSQL is
back the marts hold what they would have held had it never gone.
"""

from __future__ import annotations

import io
import re

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from tripclick.config import Settings
from tripclick_spark import gold_db, lake, stage_lock

# The partial tables in load order, with their columns (the table's order).
PARTIALS: dict[str, tuple[str, ...]] = {
    "live_session_minutes": (
        "event_date",
        "batch_id",
        "session_id",
        "minute",
        "click_minute",
        "clicks",
    ),
    "live_document_minutes": (
        "event_date",
        "batch_id",
        "document_id",
        "minute",
        "title",
        "clicks",
        "sessions",
    ),
    "live_area_hours": ("event_date", "batch_id", "clinical_area", "hour", "clicks", "sessions"),
    # Per event minute: clicks and distinct documents (V011, mart_realtime_traffic_minute).
    "live_minutes": ("event_date", "batch_id", "minute", "clicks", "documents"),
    # The day-level partials the serving layer's speed figures are summed from (V008).
    "live_session_days": (
        "event_date",
        "batch_id",
        "session_id",
        "clicks",
        "documents",
        "first_click_ts",
        "last_click_ts",
    ),
    "live_document_days": (
        "event_date",
        "batch_id",
        "document_id",
        "title",
        "last_click_ts",
        "clicks",
        "sessions",
    ),
    "live_area_days": ("event_date", "batch_id", "clinical_area", "clicks", "sessions"),
}

# Per database this process migrated (once, not on every batch): each table's grain, the
# columns of its unique index after (event_date, batch_id), which are the batch's own. A
# batch's rows go to COPY in this order, so the index fills page by page instead of taking
# each row on a different page (the database's C.UTF-8 collation orders text as Arrow's
# sort does).
_grains: dict[str, dict[str, list[str]]] = {}
_BATCH = ("event_date", "batch_id")


# ---------------------------------------------------------------- pure transforms


def session_minutes(clicks: DataFrame) -> DataFrame:
    """Clicks per session, event minute and original click minute."""
    return clicks.groupBy(
        "session_id",
        F.date_trunc("minute", "event_ts").alias("minute"),
        # A valid click always has its click time; event time stands in, defensively.
        F.date_trunc("minute", F.coalesce("click_ts", "event_ts")).alias("click_minute"),
    ).agg(F.count(F.lit(1)).cast("int").alias("clicks"))


def document_minutes(clicks: DataFrame) -> DataFrame:
    """Clicks and distinct sessions per document and event minute, with the latest click's title."""
    return clicks.groupBy("document_id", F.date_trunc("minute", "event_ts").alias("minute")).agg(
        # The table's title is not null; a document without one shows an empty title.
        F.coalesce(F.max_by("title", F.struct("event_ts", "title")), F.lit("")).alias("title"),
        F.count(F.lit(1)).cast("int").alias("clicks"),
        F.countDistinct("session_id").cast("int").alias("sessions"),
    )


def area_hours(clicks: DataFrame) -> DataFrame:
    """Clicks and distinct sessions per clinical area and event hour; a click counts once in
    each of its areas."""
    tagged = clicks.select(
        "session_id",
        F.explode(F.array_distinct("clinical_areas")).alias("clinical_area"),
        F.date_trunc("hour", "event_ts").alias("hour"),
    ).where(F.col("clinical_area").isNotNull())
    return tagged.groupBy("clinical_area", "hour").agg(
        F.count(F.lit(1)).cast("int").alias("clicks"),
        F.countDistinct("session_id").cast("int").alias("sessions"),
    )


def minutes(clicks: DataFrame) -> DataFrame:
    """Clicks and distinct documents per event minute."""
    return clicks.groupBy(F.date_trunc("minute", "event_ts").alias("minute")).agg(
        F.count(F.lit(1)).cast("int").alias("clicks"),
        F.countDistinct("document_id").cast("int").alias("documents"),
    )


def session_days(clicks: DataFrame) -> DataFrame:
    """Per session: clicks, distinct documents and first/last click (event time) of the batch."""
    return clicks.groupBy("session_id").agg(
        F.count(F.lit(1)).cast("int").alias("clicks"),
        F.countDistinct("document_id").cast("int").alias("documents"),
        F.min("event_ts").alias("first_click_ts"),
        F.max("event_ts").alias("last_click_ts"),
    )


def document_days(clicks: DataFrame) -> DataFrame:
    """Per document: the latest click's title and time, clicks and distinct sessions.

    The latest click's time lets the serving layer pick the day's title across batches
    as ``mart_popular_documents`` does (latest click, greatest title on a tie).
    """
    return clicks.groupBy("document_id").agg(
        F.coalesce(F.max_by("title", F.struct("event_ts", "title")), F.lit("")).alias("title"),
        F.max("event_ts").alias("last_click_ts"),
        F.count(F.lit(1)).cast("int").alias("clicks"),
        F.countDistinct("session_id").cast("int").alias("sessions"),
    )


def area_days(clicks: DataFrame) -> DataFrame:
    """Per clinical area: clicks (once per click and area) and distinct sessions."""
    tagged = clicks.select(
        "session_id", F.explode(F.array_distinct("clinical_areas")).alias("clinical_area")
    ).where(F.col("clinical_area").isNotNull())
    return tagged.groupBy("clinical_area").agg(
        F.count(F.lit(1)).cast("int").alias("clicks"),
        F.countDistinct("session_id").cast("int").alias("sessions"),
    )


_MINUTE_US = 60_000_000


def last_hour(clicks: DataFrame) -> DataFrame:
    """The clicks of the batch's last hour: the only document minutes a view ever reads.

    ``live_top_documents_last_hour`` looks back 59 minutes from the latest minute of all
    the data, which is never earlier than the batch's own latest minute for as long as
    the batch's rows are stored. A whole day caught up in one batch so stores an hour of
    document minutes instead of a day of them.
    """
    latest = clicks.agg(F.max(F.unix_micros("event_ts"))).first()[0]
    if latest is None:
        return clicks
    start = (latest // _MINUTE_US - 59) * _MINUTE_US
    return clicks.where(F.unix_micros("event_ts") >= F.lit(start))


def partials(clicks: DataFrame, event_date: str, batch_id: int) -> dict[str, DataFrame]:
    """The batch's partial aggregates in the tables' column order."""
    builders = {
        "live_session_minutes": session_minutes,
        "live_document_minutes": lambda batch: document_minutes(last_hour(batch)),
        "live_area_hours": area_hours,
        "live_minutes": minutes,
        "live_session_days": session_days,
        "live_document_days": document_days,
        "live_area_days": area_days,
    }
    out = {}
    for table, build in builders.items():
        frame = build(clicks).select(
            F.lit(event_date).cast("date").alias("event_date"),
            F.lit(batch_id).cast("long").alias("batch_id"),
            "*",
        )
        out[table] = frame.select(*PARTIALS[table])
    return out


# ---------------------------------------------------------------- load


def _ensure_schema(settings: Settings) -> dict[str, list[str]]:
    """Migrate the gold database once per process; each table's grain (see ``_grains``)."""
    where = f"{settings.pg_host}:{settings.pg_port}/{settings.pg_database}"
    if where not in _grains:
        gold_db.migrate(settings)
        with gold_db.connect(settings) as conn, conn.cursor() as cur:
            keys = {t: gold_db.unique_key(cur, f"{gold_db.SCHEMA}.{t}") for t in PARTIALS}
        _grains[where] = {t: [c for c in key if c not in _BATCH] for t, key in keys.items()}
    return _grains[where]


def _date_lock(event_date: str) -> tuple[int, int]:
    """The live marts' transaction lock of a date (a key of stage_lock's kind)."""
    return stage_lock.key("live_marts", event_date)


def _replace_batch(
    settings: Settings, event_date: str, batch_id: int, data: dict[str, io.BytesIO]
) -> None:
    schema = gold_db.SCHEMA
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        # One writer of the date at a time, to the commit: a second writer of the same
        # batch then deletes the first one's rows instead of tripping the unique index.
        cur.execute("select pg_advisory_xact_lock(%s, %s)", _date_lock(event_date))
        for table, csv_data in data.items():
            if batch_id == 0:  # the date starts over: forget every earlier run's batches
                cur.execute(f"delete from {schema}.{table} where event_date = %s", (event_date,))
            else:
                cur.execute(
                    f"delete from {schema}.{table} where event_date = %s and batch_id = %s",
                    (event_date, batch_id),
                )
            gold_db.copy_csv(cur, table, PARTIALS[table], csv_data)


def write_batch(clicks: DataFrame, settings: Settings, event_date: str, batch_id: int) -> None:
    """Store one micro-batch's partial aggregates, replacing any earlier run of the batch.

    ``clicks`` are the batch's valid, deduplicated silver rows (``silver_rows``); an empty
    batch still clears what a previous run of the same batch stored.
    """
    grains = _ensure_schema(settings)
    data = {
        table: gold_db.arrow_csv(frame.toArrow().sort_by([(c, "ascending") for c in grains[table]]))
        for table, frame in partials(clicks, event_date, batch_id).items()
    }
    _replace_batch(settings, event_date, batch_id, data)


# ---------------------------------------------------------------- best effort


def _unreachable() -> tuple[type[BaseException], ...]:
    """What a gold database that is down, restarting or unreachable raises."""
    import psycopg2

    return (gold_db.Unreachable, psycopg2.OperationalError, psycopg2.InterfaceError)


_MARKER = re.compile(r"^batch_id=(\d+)$")


class Feed:
    """The live marts of one date, fed batch by batch; a batch PostgreSQL missed waits.

    ``pending`` is a folder next to silver's checkpoint holding one empty marker per batch
    whose marts are not stored; ``silver`` is the date's silver partition, whose
    ``batch_id=N`` folders the replay reads (a batch without valid clicks has none).
    """

    def __init__(
        self, spark: SparkSession, settings: Settings, event_date: str, pending: str, silver: str
    ) -> None:
        self.spark, self.settings, self.event_date = spark, settings, event_date
        self.pending, self.silver = pending, silver
        self._waiting: list[int] | None = None  # read once; this process alone adds to it

    def pending_batches(self) -> list[int]:
        if self._waiting is None:
            found = (_MARKER.match(name) for name in lake.names(self.spark, self.pending))
            self._waiting = sorted(int(m.group(1)) for m in found if m)
        return list(self._waiting)

    def _marker(self, batch_id: int) -> str:
        return f"{self.pending}/batch_id={batch_id}"

    def _stored_clicks(self, batch_id: int) -> DataFrame | None:
        path = f"{self.silver}/batch_id={batch_id}"
        return self.spark.read.parquet(path) if lake.exists(self.spark, path) else None

    def _write(self, clicks: DataFrame | None, batch_id: int) -> None:
        if clicks is None:  # a batch without valid clicks: only clear what it stored
            _ensure_schema(self.settings)
            _replace_batch(
                self.settings, self.event_date, batch_id, {t: io.BytesIO() for t in PARTIALS}
            )
        else:
            write_batch(clicks, self.settings, self.event_date, batch_id)

    def catch_up(self) -> list[int]:
        """Store every pending batch's marts, in batch order; the batch ids still pending.

        Raises what an unreachable database raises; the caller decides what that means.
        """
        for batch_id in self.pending_batches():
            self._write(self._stored_clicks(batch_id), batch_id)
            lake.delete(self.spark, self._marker(batch_id))
            self._waiting.remove(batch_id)
        return self.pending_batches()

    def try_catch_up(self) -> list[int]:
        """:meth:`catch_up`, best effort: the batch ids left pending, with a line if any."""
        try:
            return self.catch_up()
        except _unreachable() as err:
            left = self.pending_batches()
            print(f"live marts for {self.event_date}: batches {left} still pending ({_first(err)})")
            return left

    def write(self, clicks: DataFrame, batch_id: int) -> bool:
        """Store the batch's marts after any pending ones; False when it was left pending.

        Only a miss is marked: a driver that dies inside a batch runs the batch again when it
        restarts (the checkpoint commits a batch after its sink), marts included.
        """
        try:
            self.catch_up()
            write_batch(clicks, self.settings, self.event_date, batch_id)
        except _unreachable() as err:
            lake.write_text(self.spark, self._marker(batch_id), "")
            self._waiting = sorted({*self.pending_batches(), batch_id})
            print(
                f"live marts for {self.event_date} batch {batch_id} pending: {_first(err)};"
                " silver goes on, and a later batch or run stores them"
            )
            return False
        return True


def _first(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
