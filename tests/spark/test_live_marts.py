"""The near-real-time marts: per-batch partials in PostgreSQL, summed by the gold.live_* views.

Expected values are counted in plain Python from the same rows. The tests use dates far in
the future, so their data are the latest the views see, and delete them afterwards.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import threading

import psycopg2
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from tripclick.producer import produce_files
from tripclick_spark import gold_db, kafka_source, live_marts
from tripclick_spark.jobs import silver

pytestmark = pytest.mark.stack

UTC = dt.UTC
DAY = "2099-01-01"
SCHEMA = (
    "event_ts timestamp, click_ts timestamp, session_id string, document_id bigint, "
    "title string, clinical_areas array<string>"
)
VIEWS = (
    "live_traffic_per_minute",
    "live_top_documents_last_hour",
    "live_clinical_area_trend",
    "live_anomalous_sessions",
)
_DATED = ("live_traffic_per_minute", "live_anomalous_sessions")
_ORDER = {
    "live_traffic_per_minute": "event_date, minute",
    "live_top_documents_last_hour": "rank",
    "live_clinical_area_trend": "hour, clinical_area",
    "live_anomalous_sessions": "session_id",
}


def at(h: int, m: int, s: int = 0, day: int = 1) -> dt.datetime:
    return dt.datetime(2099, 1, day, h, m, s, tzinfo=UTC)


# (event_ts, click_ts, session, document, title, areas); click time = event time here.
ROWS = [
    (at(9, 0, 5), "s1", 10, "Aspirin", ["Cardiology", "Oncology"]),
    (at(9, 0, 40), "s1", 11, "Statins", ["Cardiology", "Cardiology"]),
    (at(9, 0, 50), "s2", 10, "Aspirin", []),
    (at(9, 1, 10), "s2", 12, "Zinc", ["Oncology"]),
    (at(9, 30), "s3", 12, "Zinc", ["Oncology"]),
    # more than an hour before the latest minute (9:50): outside the top-documents window
    (at(8, 10), "s4", 13, "Iron", ["Pediatrics"]),
    (at(9, 50, 30), "s3", 10, "Aspirin (2nd ed.)", []),
]


def frame(spark, rows):
    return spark.createDataFrame([(e, e, s, d, t, a) for e, s, d, t, a in rows], SCHEMA)


@pytest.fixture
def gold(stack_services):
    """A connection to the gold DB, with the test dates' live rows deleted before and after."""
    gold_db.migrate(stack_services)
    conn = psycopg2.connect(**stack_services.pg_params)
    conn.autocommit = True

    def clean():
        with conn.cursor() as cur:
            for table in live_marts.PARTIALS:
                cur.execute(f"delete from gold.{table} where event_date >= '2099-01-01'")

    clean()
    yield conn
    clean()
    conn.close()


def views(conn) -> dict[str, list[tuple]]:
    out = {}
    with conn.cursor() as cur:
        cur.execute("set time zone 'UTC'")
        for view in VIEWS:
            # Minutes and sessions of other dates (other tests, a developer's day) stay out.
            where = "where event_date >= '2099-01-01'" if view in _DATED else ""
            cur.execute(f"select * from gold.{view} {where} order by {_ORDER[view]}")
            out[view] = cur.fetchall()
    return out


def minute(ts: dt.datetime) -> dt.datetime:
    return ts.replace(second=0, microsecond=0)


def expected_views(rows, event_date: str = DAY, threshold: int = 20) -> dict:
    """The four views computed in Python from (event_ts, click_ts, session, doc, title, areas)."""
    latest = max(minute(r[0]) for r in rows)
    day = dt.date.fromisoformat(event_date)
    traffic = collections.defaultdict(lambda: [0, set()])
    for e, _c, s, *_ in rows:
        traffic[minute(e)][0] += 1
        traffic[minute(e)][1].add(s)

    start = latest - dt.timedelta(minutes=59)
    docs = collections.Counter(d for e, _c, _s, d, *_ in rows if start <= minute(e) <= latest)
    titles = {}
    for _e, _c, _s, d, t, _a in sorted(rows, key=lambda r: (r[0], r[4])):
        titles[d] = t  # the latest click's title
    ranked = sorted(docs.items(), key=lambda kv: (-kv[1], kv[0]))

    hour = latest.replace(minute=0)
    areas = collections.Counter(
        (minute(e).replace(minute=0), a)
        for e, _c, _s, _d, _t, al in rows
        for a in set(al)
        if hour - dt.timedelta(hours=23) <= minute(e).replace(minute=0) <= hour
    )

    per_click_minute = collections.Counter((s, minute(c)) for _e, c, s, *_ in rows)
    bots = sorted({s for (s, _), n in per_click_minute.items() if n > threshold})
    return {
        "live_traffic_per_minute": [(day, m, n, len(ss)) for m, (n, ss) in sorted(traffic.items())],
        "live_top_documents_last_hour": [
            (d, titles[d], n, i, start, latest) for i, (d, n) in enumerate(ranked, start=1)
        ],
        "live_clinical_area_trend": sorted((h, a, n) for (h, a), n in areas.items()),
        "live_anomalous_sessions": bots,
    }


def comparable(actual: dict) -> dict:
    """The views as :func:`expected_views` spells them (anomalous sessions: ids only)."""
    out = dict(actual)
    out["live_anomalous_sessions"] = [r[0] for r in actual["live_anomalous_sessions"]]
    return out


def with_click_ts(rows):
    return [(e, e, s, d, t, a) for e, s, d, t, a in rows]


# ---------------------------------------------------------------- transforms (no DB)


def test_session_minutes_keep_event_and_click_minute_apart(spark):
    compressed = spark.createDataFrame(
        [
            (at(6, 0, 1), at(0, 0, 10), "s1", 1, "A", []),
            (at(6, 0, 2), at(0, 0, 50), "s1", 2, "B", []),
            (at(6, 0, 4), at(0, 1, 30), "s1", 1, "A", []),
            (at(6, 1, 0), at(0, 25, 0), "s2", 1, "A", []),
        ],
        SCHEMA,
    )
    actual = live_marts.session_minutes(compressed).orderBy("session_id", "click_minute")
    expected = spark.createDataFrame(
        [
            ("s1", at(6, 0), at(0, 0), 2),
            ("s1", at(6, 0), at(0, 1), 1),
            ("s2", at(6, 1), at(0, 25), 1),
        ],
        "session_id string, minute timestamp, click_minute timestamp, clicks int",
    )
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_document_minutes_and_area_hours(spark):
    clicks = frame(spark, ROWS)
    docs = live_marts.document_minutes(clicks).where("minute = '2099-01-01 09:00:00'")
    expected_docs = spark.createDataFrame(
        [(10, at(9, 0), "Aspirin", 2, 2), (11, at(9, 0), "Statins", 1, 1)],
        "document_id bigint, minute timestamp, title string, clicks int, sessions int",
    )
    assert_df_equality(docs, expected_docs, ignore_nullable=True, ignore_row_order=True)

    areas = live_marts.area_hours(clicks)
    # A click tagged twice with Cardiology counts once; untagged clicks are absent.
    expected_areas = spark.createDataFrame(
        [
            ("Cardiology", at(9, 0), 2, 1),
            ("Oncology", at(9, 0), 3, 3),
            ("Pediatrics", at(8, 0), 1, 1),
        ],
        "clinical_area string, hour timestamp, clicks int, sessions int",
    )
    assert_df_equality(areas, expected_areas, ignore_nullable=True, ignore_row_order=True)

    per_minute = live_marts.minutes(clicks).where("minute = '2099-01-01 09:00:00'")
    # 9:00 holds three clicks on documents 10, 11 and 10.
    expected_minutes = spark.createDataFrame(
        [(at(9, 0), 3, 2)], "minute timestamp, clicks int, documents int"
    )
    assert_df_equality(per_minute, expected_minutes, ignore_nullable=True)


# ---------------------------------------------------------------- batches into the views


def test_one_batch_gives_the_views(spark, gold, stack_services):
    live_marts.write_batch(frame(spark, ROWS), stack_services, DAY, 1)
    actual = views(gold)
    assert comparable(actual) == expected_views(with_click_ts(ROWS))
    # Spelled out once, to read: the 9:00 minute has 3 clicks by 2 sessions; Iron (13) is
    # out of the last hour; Aspirin (10) leads with 3 clicks, under its latest title.
    assert actual["live_traffic_per_minute"][1][1:] == (at(9, 0), 3, 2)
    top = actual["live_top_documents_last_hour"]
    assert [r[:4] for r in top] == [
        (10, "Aspirin (2nd ed.)", 3, 1),
        (12, "Zinc", 2, 2),
        (11, "Statins", 1, 3),
    ]
    assert top[0][4:] == (at(8, 51), at(9, 50))
    # Only the last hour's document minutes are stored: Iron's 8:10 could never be shown.
    with gold.cursor() as cur:
        cur.execute(
            "select min(minute), count(*) from gold.live_document_minutes where event_date = %s",
            (DAY,),
        )
        assert cur.fetchone() == (at(9, 0), 5)


def test_replaying_a_batch_changes_nothing(spark, gold, stack_services):
    clicks = frame(spark, ROWS)
    live_marts.write_batch(clicks, stack_services, DAY, 3)
    first = views(gold)
    live_marts.write_batch(clicks, stack_services, DAY, 3)  # the batch re-run after a crash
    assert views(gold) == first
    with gold.cursor() as cur:
        cur.execute(
            "select sum(clicks) from gold.live_session_minutes where event_date = %s", (DAY,)
        )
        assert cur.fetchone()[0] == len(ROWS)


def test_two_batches_sum_like_one(spark, gold, stack_services):
    # The split puts s1's and s2's 9:00 clicks into both batches: sessions stay distinct.
    first, second = ROWS[::2], ROWS[1::2]
    live_marts.write_batch(frame(spark, first), stack_services, DAY, 1)
    live_marts.write_batch(frame(spark, second), stack_services, DAY, 2)
    actual = views(gold)
    assert comparable(actual) == expected_views(with_click_ts(ROWS))
    assert actual["live_traffic_per_minute"][1][1:] == (at(9, 0), 3, 2)


def expected_day_partials(batches: dict[int, list]) -> dict[str, list[tuple]]:
    """The day partials counted in Python from {batch_id: rows of ROWS' shape}."""
    out: dict[str, list[tuple]] = {"sessions": [], "documents": [], "areas": []}
    for batch_id, rows in sorted(batches.items()):
        by_session, by_doc, by_area = (collections.defaultdict(list) for _ in range(3))
        for row in rows:
            e, s, d, _t, areas = row
            by_session[s].append(row)
            by_doc[d].append(row)
            for a in set(areas):
                by_area[a].append(row)
        for s, rs in sorted(by_session.items()):
            ts = [r[0] for r in rs]
            out["sessions"].append(
                (batch_id, s, len(rs), len({r[2] for r in rs}), min(ts), max(ts))
            )
        for d, rs in sorted(by_doc.items()):
            e, _s, _d, title, _a = max(rs, key=lambda r: (r[0], r[3]))
            out["documents"].append((batch_id, d, title, e, len(rs), len({r[1] for r in rs})))
        for a, rs in sorted(by_area.items()):
            out["areas"].append((batch_id, a, len(rs), len({r[1] for r in rs})))
    return out


def day_partials(conn) -> dict[str, list[tuple]]:
    queries = {
        "sessions": "select batch_id, session_id, clicks, documents, first_click_ts,"
        " last_click_ts from gold.live_session_days where event_date = %s"
        " order by batch_id, session_id",
        "documents": "select batch_id, document_id, title, last_click_ts, clicks, sessions"
        " from gold.live_document_days where event_date = %s order by batch_id, document_id",
        "areas": "select batch_id, clinical_area, clicks, sessions from gold.live_area_days"
        " where event_date = %s order by batch_id, clinical_area",
    }
    out = {}
    with conn.cursor() as cur:
        for name, sql in queries.items():
            cur.execute(sql, (DAY,))
            out[name] = cur.fetchall()
    return out


def test_day_partials_hold_each_batch_of_the_whole_day(spark, gold, stack_services):
    batches = {1: ROWS[::2], 2: ROWS[1::2]}
    for batch_id, rows in batches.items():
        live_marts.write_batch(frame(spark, rows), stack_services, DAY, batch_id)
    actual = day_partials(gold)
    assert actual == expected_day_partials(batches)
    # Spelled out once: Iron's 8:10 click is kept (the day, not the last hour), Aspirin (10)
    # has the title of its latest click, and s3's two documents are in one batch.
    assert (2, 13, "Iron", at(8, 10), 1, 1) in actual["documents"]
    assert (1, 10, "Aspirin (2nd ed.)", at(9, 50, 30), 3, 3) in actual["documents"]
    assert (1, "s3", 2, 2, at(9, 30), at(9, 50, 30)) in actual["sessions"]
    # Replayed, a batch replaces its day rows too.
    live_marts.write_batch(frame(spark, ROWS[1::2]), stack_services, DAY, 2)
    assert day_partials(gold) == actual


def test_batch_zero_starts_the_date_over(spark, gold, stack_services):
    live_marts.write_batch(frame(spark, ROWS[:3]), stack_services, DAY, 1)
    live_marts.write_batch(frame(spark, ROWS[3:]), stack_services, DAY, 2)
    # silver --reset: the new query's batch 0 holds the whole date again.
    live_marts.write_batch(frame(spark, ROWS), stack_services, DAY, 0)
    assert comparable(views(gold)) == expected_views(with_click_ts(ROWS))
    # An empty replay of batch 0 leaves the date empty.
    live_marts.write_batch(frame(spark, []), stack_services, DAY, 0)
    assert views(gold)["live_traffic_per_minute"] == []


def test_anomalous_sessions_flag_the_bot_not_the_people(spark, gold, stack_services):
    bot = [(at(11, 5, 2 * i), at(11, 5, 2 * i), "bot", 100 + i, "Page", []) for i in range(25)]
    person = [(at(11, 5, 8 * i), at(11, 5, 8 * i), "person", 200 + i, "P", []) for i in range(6)]
    # A replayed session: 25 clicks, 1 per original minute, squeezed 24x into ~1 event minute.
    replayed = [(at(11, 5, 2 * i), at(2, i, 30), "replayed", 300 + i, "R", []) for i in range(25)]
    rows = bot + person + replayed
    live_marts.write_batch(spark.createDataFrame(rows, SCHEMA), stack_services, DAY, 1)
    actual = views(gold)
    assert comparable(actual)["live_anomalous_sessions"] == ["bot"]
    assert comparable(actual) == expected_views(rows)
    (row,) = actual["live_anomalous_sessions"]
    assert row == ("bot", dt.date(2099, 1, 1), 25, at(11, 5), 1, 25, at(11, 5))
    # The same minute of event time holds 56 clicks of 3 sessions.
    assert actual["live_traffic_per_minute"] == [(dt.date(2099, 1, 1), at(11, 5), 56, 3)]


def test_titles_and_areas_reach_the_views_unchanged(spark, gold, stack_services):
    odd = 'Zinc, "oral" \\ 10%\nsecond line — ß'
    rows = [
        (at(9, 0, 1), "s1", 1, odd, ["Area, with comma", 'Area "quoted"']),
        (at(9, 0, 2), "s1", 2, None, []),  # a document without a title
    ]
    live_marts.write_batch(frame(spark, rows), stack_services, DAY, 1)
    actual = views(gold)
    assert [r[:3] for r in actual["live_top_documents_last_hour"]] == [(1, odd, 1), (2, "", 1)]
    assert [r[1:] for r in actual["live_clinical_area_trend"]] == [
        ('Area "quoted"', 1),
        ("Area, with comma", 1),
    ]


# ---------------------------------------------------------------- the streaming path


STREAM_DAY = "2099-01-02"


def test_silver_stream_feeds_the_views(spark, gold, pipeline, sample_files):
    """The sample day replayed onto a day (compressed 24x) through Kafka and silver's stages."""
    # realtime mode moves the clicks onto the day; the speed makes the hour last half a second
    sent = produce_files(
        sample_files, mode="realtime", day=STREAM_DAY, speed=7200, settings=pipeline
    )
    assert sent.ok, sent.line()
    seen: list[tuple] = []
    batches: list[int] = []
    lock = threading.Lock()

    def write(batch, batch_id):
        batch = batch.persist()  # as silver's writer does: one read of the batch
        try:
            rows = silver.silver_rows(batch)
            live_marts.write_batch(rows, pipeline, STREAM_DAY, batch_id)
            collected = rows.select(
                F.unix_micros("event_ts"),
                F.unix_micros("click_ts"),
                "session_id",
                "document_id",
                "title",
                "clinical_areas",
            ).collect()
        finally:
            batch.unpersist()
        with lock:
            seen.extend(tuple(r) for r in collected)
            batches.append(batch_id)

    stream = kafka_source.stream(spark, pipeline, max_offsets_per_trigger=200)
    clicks = silver.deduplicated(silver.validated(stream, STREAM_DAY))
    query = (
        clicks.writeStream.foreachBatch(write)
        .option("checkpointLocation", f"{pipeline.lake_root}/_checkpoints/live_test")
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    assert query.exception() is None
    assert len(seen) == sent.valid == 562
    assert len(batches) > 1, "the test wants several micro-batches"

    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    rows = [
        (epoch + dt.timedelta(microseconds=e), epoch + dt.timedelta(microseconds=c), s, d, t, a)
        for e, c, s, d, t, a in seen
    ]
    actual = comparable(views(gold))
    expected = expected_views(rows, STREAM_DAY)
    assert actual == expected
    assert sum(r[2] for r in actual["live_traffic_per_minute"]) == 562
    assert actual["live_clinical_area_trend"], "the sample has clinical areas"
    print(
        json.dumps({"batches": len(batches), "minutes": len(expected["live_traffic_per_minute"])})
    )


def test_each_partial_goes_to_copy_in_its_unique_index_order(gold, stack_services):
    """write_batch sorts each table by its unique index after (event_date, batch_id), read
    from the catalog; these are the grains the migrations give them (V002, V005, V008)."""
    grains = {
        "live_session_minutes": ["session_id", "minute", "click_minute"],
        "live_document_minutes": ["document_id", "minute"],
        "live_area_hours": ["clinical_area", "hour"],
        "live_minutes": ["minute"],
        "live_session_days": ["session_id"],
        "live_document_days": ["document_id"],
        "live_area_days": ["clinical_area"],
    }
    assert live_marts._ensure_schema(stack_services) == grains
    with gold.cursor() as cur:
        for table, grain in grains.items():
            cur.execute(
                "select array_agg(a.attname order by k.ord) from pg_index i"
                " cross join unnest(i.indkey) with ordinality k(attnum, ord)"
                " join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum"
                " where i.indrelid = %s::regclass and i.indisunique group by i.indexrelid",
                (f"gold.{table}",),
            )
            unique = [tuple(row[0]) for row in cur.fetchall()]
            assert ("event_date", "batch_id", *grain) in unique, (table, unique)
