"""The original project's near-real-time mart names (migration V011), over the live partials.

The partials are the real ones (``live_marts.partials`` in Spark), loaded in a transaction
that is rolled back at the end: other sessions never see the test's rows, and its dates
lie after every other test's, so the views look back from its own latest minute.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg2
import pytest

from tripclick_spark import gold_db, live_marts

pytestmark = pytest.mark.stack

UTC = dt.UTC
SCHEMA = (
    "event_ts timestamp, click_ts timestamp, session_id string, document_id bigint, "
    "title string, clinical_areas array<string>"
)


def at(day: int, h: int, m: int, s: int = 0) -> dt.datetime:
    return dt.datetime(2100, 1, day, h, m, s, tzinfo=UTC)


# (event_ts, session, document, areas); click time = event time, title = f"D{document}".
PREVIOUS_DAY = [
    (at(9, 10, 0), "p1", 7, ["Cardiology"]),
    (at(9, 10, 5), "p1", 7, ["Cardiology"]),
    (at(9, 10, 9), "p2", 8, ["Cardiology", "Pediatrics"]),
    (at(9, 12, 59), "p2", 8, ["Cardiology"]),  # hour 12:00: the previous 24 h's last hour
    (at(9, 13, 0), "p3", 9, ["Cardiology"]),  # hour 13:00: the last 24 h's first hour
]
TODAY = [
    (at(10, 11, 0), "s4", 4, []),  # more than an hour before the latest minute
    (at(10, 12, 0, 1), "s1", 1, ["Cardiology"]),
    (at(10, 12, 0, 2), "s1", 2, ["Cardiology"]),
    (at(10, 12, 0, 3), "s2", 1, ["Oncology"]),
    # s5: 22 clicks in one minute on 22 documents (WARNING); s6: 55 on one (CRITICAL)
    *[(at(10, 12, 10, 2 * i), "s5", 100 + i, []) for i in range(22)],
    *[(at(10, 12, 20, i), "s6", 1, []) for i in range(55)],
    (at(10, 12, 30), "s3", 3, ["Oncology"]),  # the latest minute
]


@pytest.fixture
def cur(spark, stack_services):
    """A cursor whose transaction holds both days' partials; rolled back afterwards."""
    gold_db.migrate(stack_services)
    conn = psycopg2.connect(**stack_services.pg_params)
    try:
        with conn.cursor() as cur:
            for day, rows in (("2100-01-09", PREVIOUS_DAY), ("2100-01-10", TODAY)):
                clicks = spark.createDataFrame(
                    [(e, e, s, d, f"D{d}", a) for e, s, d, a in rows], SCHEMA
                )
                for table, frame in live_marts.partials(clicks, day, 0).items():
                    data = gold_db.arrow_csv(frame.toArrow())
                    gold_db.copy_csv(cur, table, live_marts.PARTIALS[table], data)
            cur.execute("set local time zone 'UTC'")
            yield cur
    finally:
        conn.rollback()
        conn.close()


def test_traffic_minute(cur):
    cur.execute("select * from gold.mart_realtime_traffic_minute order by event_minute")
    assert cur.fetchall() == [
        # the last 24 hours of data: after 2100-01-09 12:30
        (at(9, 12, 59), 1, 1, 1),
        (at(9, 13, 0), 1, 1, 1),
        (at(10, 11, 0), 1, 1, 1),
        (at(10, 12, 0), 3, 2, 2),
        (at(10, 12, 10), 22, 1, 22),
        (at(10, 12, 20), 55, 1, 1),
        (at(10, 12, 30), 1, 1, 1),
    ]


def test_top_docs_1h(cur):
    cur.execute("select * from gold.mart_realtime_top_docs_1h order by rank")
    rows = cur.fetchall()
    latest = at(10, 12, 30)
    # 25 documents in the hour (11:31-12:30; document 4 at 11:00 is out); 20 are shown.
    assert len(rows) == 20
    assert rows[:3] == [
        (latest, 1, 1, "D1", 57, 3),  # s1 and s2 at 12:00, s6 at 12:20
        (latest, 2, 2, "D2", 1, 1),
        (latest, 3, 3, "D3", 1, 1),
    ]
    assert rows[3:] == [(latest, 4 + i, 100 + i, f"D{100 + i}", 1, 1) for i in range(17)]


def test_clinical_trend_24h(cur):
    cur.execute("select * from gold.mart_realtime_clinical_trend_24h order by clinical_area")
    latest = at(10, 12, 30)
    assert cur.fetchall() == [
        # last 24 h: s1's two clicks and p3's; the 24 h before: p1's two and p2's two
        (latest, "Cardiology", 3, 2, Decimal("-25.00")),
        (latest, "Oncology", 2, 2, None),  # nothing the previous day
        # Pediatrics was clicked the previous day only: not in the last 24 hours
    ]


def test_anomaly_sessions(cur):
    cur.execute("select * from gold.mart_realtime_anomaly_sessions order by session_id")
    assert cur.fetchall() == [
        (at(10, 12, 10), "s5", at(10, 12, 10), at(10, 12, 11), 22, "WARNING"),
        (at(10, 12, 20), "s6", at(10, 12, 20), at(10, 12, 21), 55, "CRITICAL"),
    ]
