"""The serving layer: one answer per date, from the speed layer until gold publishes it.

The real sample day is replayed onto a date of its own through Kafka and silver's stream
(several micro-batches, so the live partials hold what spans batches), then gold stages it.
Before publication ``serving`` must give the speed figures the partials hold; publication
switches every view to gold's rows at one commit, which readers in a loop must never see
half done; the switch records the speed layer's difference from gold.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import secrets
import threading
import time
from typing import ClassVar

import psycopg2
import pytest

from tripclick.producer import produce_files
from tripclick_spark import gold_db, live_marts
from tripclick_spark.jobs import gold, silver

pytestmark = [pytest.mark.stack, pytest.mark.slow]

# A date of 2014 no other test or developer's day uses, earlier than theirs: the live views,
# which look back from the latest minute seen, are not moved by it. Drawn per run, so two
# runs at once on the shared database do not write each other's partials and marts.
DAY = (dt.date(2014, 1, 1) + dt.timedelta(days=secrets.randbelow(365))).isoformat()
SAMPLE_CLICKS = 562
# The serving views and their gold marts, with each mart's key (rows are compared in it).
VIEWS = {
    "daily_traffic": ("mart_daily_traffic", "event_date"),
    "clinical_areas": ("mart_clinical_areas", "clinical_area"),
    "popular_documents": ("mart_popular_documents", "document_id"),
    "session_analysis": ("mart_session_analysis", "session_id"),
}
# Publish/unpublish cycles while the readers loop, and the observations each reader must
# make (a reader that observed little proves nothing).
SWITCHES = 6
MIN_OBSERVATIONS = 60


def _clean(settings) -> None:
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        for table in gold_db.PUBLISHED:
            cur.execute(f"delete from gold.{table} where event_date = %s", (DAY,))
            cur.execute(f"delete from gold_stage.{table} where event_date = %s", (DAY,))
        for table in live_marts.PARTIALS:
            cur.execute(f"delete from gold.{table} where event_date = %s", (DAY,))
        for table in ("publications", "speed_accuracy"):
            cur.execute(f"delete from serving.{table} where event_date = %s", (DAY,))


def _rows(cur, view: str, schema: str = "serving") -> list[dict]:
    """The date's rows of ``schema.view`` as dicts, in the mart's key order."""
    key = VIEWS[view][1]
    table = view if schema == "serving" else VIEWS[view][0]
    cur.execute(f"select * from {schema}.{table} where event_date = %s order by {key}", (DAY,))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _snapshot(settings) -> dict[str, list[dict]]:
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("set time zone 'UTC'")
        return {view: _rows(cur, view) for view in VIEWS}


def _from_partials(settings) -> dict[str, list[dict]]:
    """The four marts of DAY summed in Python from the live partials (the speed figures)."""
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select session_id, clicks, documents, first_click_ts, last_click_ts"
            " from gold.live_session_days where event_date = %s",
            (DAY,),
        )
        session_rows = cur.fetchall()
        cur.execute(
            "select document_id, title, last_click_ts, clicks, sessions"
            " from gold.live_document_days where event_date = %s",
            (DAY,),
        )
        document_rows = cur.fetchall()
        cur.execute(
            "select clinical_area, clicks, sessions from gold.live_area_days where event_date = %s",
            (DAY,),
        )
        area_rows = cur.fetchall()
        cur.execute(
            "select extract(hour from minute at time zone 'UTC')::int, clicks, minute"
            " from gold.live_session_minutes where event_date = %s",
            (DAY,),
        )
        minute_rows = cur.fetchall()
    day = dt.date.fromisoformat(DAY)

    sessions: dict[str, list] = {}
    for sid, clicks, docs, first, last in session_rows:
        s = sessions.setdefault(sid, [0, 0, first, last])
        s[0] += clicks
        s[1] += docs
        s[2], s[3] = min(s[2], first), max(s[3], last)
    per_hour = collections.Counter()
    for hour, clicks, _ in minute_rows:
        per_hour[hour] += clicks
    peak = min(per_hour, key=lambda h: (-per_hour[h], h))
    docs: dict[int, list] = {}
    for did, title, last, clicks, nsess in document_rows:
        d = docs.setdefault(did, [(last, title), 0, 0])
        d[0] = max(d[0], (last, title))
        d[1] += clicks
        d[2] += nsess
    areas: dict[str, list] = collections.defaultdict(lambda: [0, 0])
    for area, clicks, nsess in area_rows:
        areas[area][0] += clicks
        areas[area][1] += nsess
    ranked = sorted(docs, key=lambda did: (-docs[did][1], did))
    rank = {did: i for i, did in enumerate(ranked, start=1)}
    return {
        "daily_traffic": [
            {
                "event_date": day,
                "total_events": sum(s[0] for s in sessions.values()),
                "unique_sessions": len(sessions),
                "unique_documents": len(docs),
                "peak_hour": peak,
            }
        ],
        "clinical_areas": [
            {"event_date": day, "clinical_area": a, "search_count": c, "unique_sessions": n}
            for a, (c, n) in sorted(areas.items())
        ],
        "popular_documents": [
            {
                "event_date": day,
                "document_id": did,
                "title": docs[did][0][1],
                "view_count": docs[did][1],
                "unique_sessions": docs[did][2],
                "rank": rank[did],
            }
            for did in sorted(docs)
        ],
        "session_analysis": [
            {
                "session_id": sid,
                "event_date": day,
                "click_count": c,
                "unique_docs": n,
                "first_click_ts": first,
                "last_click_ts": last,
                "session_duration_sec": (last - first).total_seconds(),
            }
            for sid, (c, n, first, last) in sorted(sessions.items())
        ],
    }


def _bare(rows: list[dict]) -> list[dict]:
    """Rows without the serving columns."""
    return [{k: v for k, v in r.items() if k not in ("source", "as_of")} for r in rows]


@pytest.fixture(scope="module")
def day(spark, pipeline, sample_files):
    """DAY streamed (live partials), then staged in gold_stage: not published yet."""
    _clean(pipeline)
    sent = produce_files(
        sample_files, mode="realtime", day=DAY, speed=43200, compress=False, settings=pipeline
    )
    assert sent.ok, sent.line()
    run = silver.run(spark, pipeline, DAY, available_now=True, max_offsets_per_trigger=100)
    assert run.batches > 2, "the test wants several micro-batches"
    staged = gold.run(spark, pipeline, DAY, check=False)["loaded"]
    with gold_db.connect(pipeline) as conn, conn.cursor() as cur:
        cur.execute("set time zone 'UTC'")
        cur.execute(
            "select max(minute) from gold.live_session_minutes where event_date = %s", (DAY,)
        )
        newest_minute = cur.fetchone()[0]
        staged_gold = {view: _rows(cur, view, "gold_stage") for view in VIEWS}
    yield {
        "batches": run.batches,
        "staged": staged,
        "staged_gold": staged_gold,
        "before": _snapshot(pipeline),
        "partials": _from_partials(pipeline),
        "newest_minute": newest_minute,
    }
    _clean(pipeline)


def _unpublish(settings) -> None:
    """Move the date back from gold to gold_stage in one transaction (the test's way of
    switching again; nothing in the platform unpublishes)."""
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        for table, columns in gold_db.PUBLISHED.items():
            cols = ", ".join(columns)
            cur.execute(
                f"insert into gold_stage.{table} ({cols}) select {cols} from gold.{table}"
                " where event_date = %s",
                (DAY,),
            )
            cur.execute(f"delete from gold.{table} where event_date = %s", (DAY,))


class Reader(threading.Thread):
    """Reads the date from one serving view in a loop; records (source, rows, clicks)."""

    SQL: ClassVar[dict[str, str]] = {
        "daily_traffic": "select source, count(*), sum(total_events)"
        " from serving.daily_traffic where event_date = %s group by source",
        "popular_documents": "select source, count(*), sum(view_count)"
        " from serving.popular_documents where event_date = %s group by source",
    }

    def __init__(self, settings, view: str, limit: int = 50_000) -> None:
        super().__init__(daemon=True)
        self.settings, self.view, self.limit = settings, view, limit
        self.observations: list[tuple] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            conn = psycopg2.connect(**self.settings.pg_params)
            conn.autocommit = True  # each query its own statement and snapshot, as a dashboard's
            with conn, conn.cursor() as cur:
                while not self.stop.is_set() and len(self.observations) < self.limit:
                    cur.execute(self.SQL[self.view], (DAY,))
                    self.observations.append(tuple(sorted(cur.fetchall())))
            conn.close()
        except BaseException as err:  # noqa: BLE001 - reported by the test
            self.error = err

    def wait_for(self, count: int) -> None:
        for _ in range(100_000):
            if len(self.observations) >= count or not self.is_alive():
                return
            self.stop.wait(0.01)


@pytest.fixture(scope="module")
def switched(day, pipeline):
    """Publish DAY SWITCHES times (unpublishing it between) while two readers loop."""
    readers = [Reader(pipeline, "daily_traffic"), Reader(pipeline, "popular_documents")]
    for r in readers:
        r.start()
    for r in readers:
        r.wait_for(10)
    published = []
    for n in range(SWITCHES):
        if n:
            _unpublish(pipeline)
        published.append(gold_db.publish(pipeline, DAY))
        for r in readers:  # each side of every switch is read
            r.wait_for(len(r.observations) + 5)
    for r in readers:
        r.wait_for(MIN_OBSERVATIONS)
        r.stop.set()
        r.join(timeout=60)
    with gold_db.connect(pipeline) as conn, conn.cursor() as cur:
        cur.execute("set time zone 'UTC'")
        gold_rows = {view: _rows(cur, view, "gold") for view in VIEWS}
        cur.execute("select published_at from serving.publications where event_date = %s", (DAY,))
        published_at = cur.fetchone()[0]
        cur.execute(
            "select mart, metric, key, speed_value, batch_value, diff, relative_diff"
            " from serving.speed_accuracy where event_date = %s order by 1, 2, 3",
            (DAY,),
        )
        accuracy = cur.fetchall()
        cur.execute(
            "select mart, metric, keys_differing, largest_key, speed_value, batch_value,"
            " largest_relative_diff from serving.speed_accuracy_summary where event_date = %s"
            " order by largest_relative_diff desc, mart, metric",
            (DAY,),
        )
        summary = cur.fetchall()
    return {
        "readers": readers,
        "published": published,
        "after": _snapshot(pipeline),
        "gold": gold_rows,
        "published_at": published_at,
        "accuracy": accuracy,
        "summary": summary,
    }


# ---------------------------------------------------------------- before publication


def test_before_publication_serving_gives_the_speed_figures(day):
    before = day["before"]
    for view, rows in before.items():
        assert rows, f"serving.{view} has no row of {DAY}"
        assert {r["source"] for r in rows} == {"speed"}, view
        assert {r["as_of"] for r in rows} == {day["newest_minute"]}, view
        assert _bare(rows) == day["partials"][view], view
    # Clicks and sessions are exact: the speed total is the batch total.
    (traffic,) = before["daily_traffic"]
    (staged,) = day["staged_gold"]["daily_traffic"]
    assert traffic["total_events"] == staged["total_events"] == SAMPLE_CLICKS
    assert traffic["unique_sessions"] == staged["unique_sessions"]
    assert traffic["unique_documents"] == staged["unique_documents"]
    assert sum(r["view_count"] for r in before["popular_documents"]) == SAMPLE_CLICKS
    assert sum(r["click_count"] for r in before["session_analysis"]) == SAMPLE_CLICKS


# ---------------------------------------------------------------- the switch


def test_readers_never_see_the_date_twice_or_missing(day, switched):
    speed_docs = len(day["before"]["popular_documents"])
    assert len(switched["published"]) == SWITCHES
    for reader in switched["readers"]:
        assert reader.error is None, reader.error
        seen = reader.observations
        assert len(seen) >= MIN_OBSERVATIONS, (reader.view, len(seen))
        # One source at a time, every click counted once, never an empty answer.
        for obs in seen:
            assert len(obs) == 1, (reader.view, obs)
            source, rows, clicks = obs[0]
            assert source in ("speed", "batch")
            assert clicks == SAMPLE_CLICKS, (reader.view, obs)
            assert rows == (1 if reader.view == "daily_traffic" else speed_docs), obs
        sources = [obs[0][0] for obs in seen]
        assert {"speed", "batch"} <= set(sources), (reader.view, collections.Counter(sources))
        print(json.dumps({reader.view: dict(collections.Counter(sources))}))


# ---------------------------------------------------------------- after publication


def test_after_publication_serving_is_gold_row_for_row(switched):
    for view, rows in switched["after"].items():
        assert {r["source"] for r in rows} == {"batch"}, view
        assert {r["as_of"] for r in rows} == {switched["published_at"]}, view
        assert _bare(rows) == switched["gold"][view], view
        assert len(rows) > 0


def test_publication_records_the_speed_layers_difference_from_gold(day, switched):
    before = {v: {r[VIEWS[v][1]]: r for r in rows} for v, rows in day["before"].items()}
    gold_rows = {v: {r[VIEWS[v][1]]: r for r in rows} for v, rows in switched["gold"].items()}
    metrics = {
        "clinical_areas": ("search_count", "unique_sessions"),
        "popular_documents": ("view_count", "unique_sessions", "rank"),
        "session_analysis": ("click_count", "unique_docs", "session_duration_sec"),
    }
    # Expected: the traffic figures always, the other marts' keys where speed and gold differ.
    expected = []
    (t_speed,), (t_gold,) = before["daily_traffic"].values(), gold_rows["daily_traffic"].values()
    for m in ("peak_hour", "total_events", "unique_documents", "unique_sessions"):
        expected.append(("daily_traffic", m, "", t_speed[m], t_gold[m], t_speed[m] - t_gold[m]))
    for view, names in metrics.items():
        for key in before[view].keys() | gold_rows[view].keys():
            s, g = before[view].get(key, {}), gold_rows[view].get(key, {})
            for m in names:
                if s.get(m) != g.get(m):
                    diff = (s.get(m) or 0) - (g.get(m) or 0)
                    expected.append((view, m, str(key), s.get(m), g.get(m), diff))
    actual = [row[:6] for row in switched["accuracy"]]
    assert sorted(actual) == sorted(expected)
    # Re-published SWITCHES times, recorded once.
    assert len({row[:3] for row in actual}) == len(actual)
    traffic = {row[1]: row[5] for row in actual if row[0] == "daily_traffic"}
    assert traffic["total_events"] == traffic["unique_sessions"] == 0

    summary = switched["summary"]
    assert summary, "the summary has a row per mart and metric recorded"
    top = summary[0]
    assert top[6] == max(row[6] for row in switched["accuracy"])
    print(
        json.dumps(
            {
                "batches": day["batches"],
                "accuracy_rows": len(actual),
                "largest": {
                    "mart": top[0],
                    "metric": top[1],
                    "key": top[3],
                    "speed": top[4],
                    "batch": top[5],
                    "relative": round(top[6], 4),
                },
                "largest_absolute": max(actual, key=lambda r: (abs(r[5]), r[:3])),
                "summary": [[*r[:3], round(r[6], 4)] for r in summary],
            },
            default=str,
        )
    )


def _analyze_counts(settings, tables: list[str]) -> dict[str, int]:
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select schemaname || '.' || relname, analyze_count from pg_stat_user_tables"
            " where schemaname || '.' || relname = any(%s)",
            (tables,),
        )
        return dict(cur.fetchall())


def test_publication_analyzes_the_tables_its_comparison_reads(day, switched, pipeline):
    """A date written in one go is missing from the statistics until autovacuum comes; the
    comparison of a 1M-click day, planned as a few rows, then ran into the statement timeout.
    """
    tables = [f"gold.{t}" for t in gold_db.SPEED_SOURCES]
    tables += [f"gold_stage.{t}" for t in gold_db.PUBLISHED]
    before = _analyze_counts(pipeline, tables)
    assert sorted(before) == sorted(tables)
    _unpublish(pipeline)
    gold_db.publish(pipeline, DAY)
    # A backend reports its statistics when it goes idle, within about a second.
    for _ in range(100):
        after = _analyze_counts(pipeline, tables)
        if all(after[t] > before[t] for t in tables):
            break
        time.sleep(0.1)
    assert {t for t in tables if after[t] <= before[t]} == set()


def test_the_tables_publication_analyzes_are_those_the_speed_views_read(pipeline):
    """SPEED_SOURCES restates what the speed views (V009) read: the catalog must agree."""
    with gold_db.connect(pipeline) as conn, conn.cursor() as cur:
        cur.execute(
            "with recursive used(schema, name) as ("
            "  select table_schema, table_name from information_schema.view_table_usage"
            "  where view_schema = 'serving' and view_name like 'speed%%'"
            "  union"
            "  select u.table_schema, u.table_name from information_schema.view_table_usage u"
            "  join used on u.view_schema = used.schema and u.view_name = used.name"
            ") select distinct name from used where schema = 'gold'"
            " and name not in (select table_name from information_schema.views"
            "                  where table_schema = 'gold')"
        )
        read = {name for (name,) in cur.fetchall()}
    assert read == set(gold_db.SPEED_SOURCES)
