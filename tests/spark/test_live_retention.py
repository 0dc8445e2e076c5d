"""Pruning of gold.live_* past the live views' window (tripclick prune-live).

The partials are written inside one transaction that is rolled back at the end, so the
shared gold database keeps what other tests loaded.
"""

from __future__ import annotations

import subprocess

import pytest

from tripclick_spark import gold_db, live_retention

pytestmark = pytest.mark.stack

LATEST = "2099-01-03 12:00:00+00"


def _insert(cur) -> None:
    for table in (*live_retention.TABLES, *live_retention.DAY_TABLES):
        cur.execute(f"delete from gold.{table}")  # only this transaction's view of it
    session_minutes = [
        ("2099-01-03", "s-latest", LATEST),
        ("2099-01-01", "s-kept", "2099-01-01 12:00:00+00"),  # exactly 48 h before: kept
        ("2099-01-01", "s-old", "2099-01-01 11:59:00+00"),
    ]
    for day, session, minute in session_minutes:
        cur.execute(
            "insert into gold.live_session_minutes values (%s, 0, %s, %s, %s, 1)",
            (day, session, minute, minute),
        )
    for doc, minute in ((1, "2099-01-02 00:00:00+00"), (2, "2099-01-01 11:00:00+00")):
        cur.execute(
            "insert into gold.live_document_minutes values (%s, 0, %s, %s, 't', 1)",
            (minute[:10], doc, minute),
        )
    for area, hour in (("kept", "2099-01-01 12:00:00+00"), ("old", "2099-01-01 11:00:00+00")):
        cur.execute(
            "insert into gold.live_area_hours values (%s, 0, %s, %s, 1)", (hour[:10], area, hour)
        )


def test_prune_deletes_only_rows_past_the_window(stack_services) -> None:
    gold_db.migrate(stack_services)
    with gold_db.connect(stack_services) as conn:
        try:
            with conn.cursor() as cur:
                _insert(cur)
                cur.execute("select count(*) from gold.live_traffic_per_minute")
                in_view = cur.fetchone()[0]
                deleted = live_retention.prune_rows(cur, 48)
                assert deleted == {
                    "live_session_minutes": 1,
                    "live_document_minutes": 1,
                    "live_area_hours": 1,
                    "live_minutes": 0,
                    "live_session_days": 0,
                    "live_document_days": 0,
                    "live_area_days": 0,
                }
                cur.execute("select session_id from gold.live_session_minutes order by 1")
                assert [r[0] for r in cur.fetchall()] == ["s-kept", "s-latest"]
                cur.execute("select clinical_area from gold.live_area_hours")
                assert [r[0] for r in cur.fetchall()] == ["kept"]
                # What the views show (the last 24 h) is untouched.
                cur.execute("select count(*) from gold.live_traffic_per_minute")
                assert cur.fetchone()[0] == in_view == 1
                assert live_retention.prune_rows(cur, 48) == dict.fromkeys(
                    [*live_retention.TABLES, *live_retention.DAY_TABLES], 0
                )
        finally:
            conn.rollback()


def test_day_partials_go_once_published_and_past_the_window(stack_services) -> None:
    gold_db.migrate(stack_services)
    with gold_db.connect(stack_services) as conn:
        try:
            with conn.cursor() as cur:
                _insert(cur)  # the latest minute: 2099-01-03 12:00; 48 h before: 2099-01-01 12:00
                days = {
                    "2098-12-30": False,  # past the window, not published: serving still reads it
                    "2098-12-31": True,  # past the window and published: goes
                    "2099-01-01": True,  # published, but its day ends inside the window
                }
                for day, published in days.items():
                    cur.execute(
                        "insert into gold.live_session_days values (%s, 0, 's', 1, 1, %s, %s)",
                        (day, f"{day} 10:00+00", f"{day} 10:00+00"),
                    )
                    cur.execute(
                        "insert into gold.live_document_days values (%s, 0, 1, 't', %s, 1, 1)",
                        (day, f"{day} 10:00+00"),
                    )
                    cur.execute("insert into gold.live_area_days values (%s, 0, 'a', 1, 1)", (day,))
                    if published:
                        cur.execute(
                            "insert into gold.mart_daily_traffic values (%s, 1, 1, 1, 10)", (day,)
                        )
                deleted = live_retention.prune_rows(cur, 48)
                assert {t: deleted[t] for t in live_retention.DAY_TABLES} == dict.fromkeys(
                    live_retention.DAY_TABLES, 1
                )
                for table in live_retention.DAY_TABLES:
                    cur.execute(f"select event_date::text from gold.{table} order by 1")
                    assert [r[0] for r in cur.fetchall()] == ["2098-12-30", "2099-01-01"]
        finally:
            conn.rollback()


def test_a_window_shorter_than_the_views_is_refused_in_one_line() -> None:
    run = subprocess.run(
        [".venv/bin/tripclick", "prune-live", "--keep-hours", "12"],
        capture_output=True,
        text=True,
        cwd=gold_db.__file__.rsplit("/spark/", 1)[0],
    )
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "tripclick prune-live: error: --keep-hours 12 is shorter than the live views' 24 h"
        " window; keep at least 24"
    ]
