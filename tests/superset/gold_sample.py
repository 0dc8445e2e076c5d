"""Gold marts for the Superset tests, computed from the sample day with plain SQL.

Used while the Spark gold job cannot fill them: the test loads the sample's clicks
into a temporary table and derives each mart in SQL, following the data contract
(ARCHITECTURE §3.5). Dates and hours are UTC.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# The marts' columns (ARCHITECTURE §3.5), used when no migration created the tables.
DDL = """
CREATE SCHEMA IF NOT EXISTS gold;
CREATE TABLE IF NOT EXISTS gold.mart_daily_traffic (
    event_date date PRIMARY KEY, total_events bigint, unique_sessions bigint,
    unique_documents bigint, peak_hour integer);
CREATE TABLE IF NOT EXISTS gold.mart_session_analysis (
    session_id text, event_date date, click_count bigint, unique_docs bigint,
    first_click_ts timestamp, last_click_ts timestamp, session_duration_sec double precision,
    PRIMARY KEY (session_id, event_date));
CREATE TABLE IF NOT EXISTS gold.mart_clinical_areas (
    event_date date, clinical_area text, search_count bigint, unique_sessions bigint,
    PRIMARY KEY (event_date, clinical_area));
CREATE TABLE IF NOT EXISTS gold.mart_popular_documents (
    event_date date, document_id bigint, title text, view_count bigint,
    unique_sessions bigint, rank integer, PRIMARY KEY (event_date, document_id));
"""

FILL = """
DELETE FROM gold.mart_daily_traffic WHERE event_date IN (SELECT DISTINCT event_date FROM clicks);
INSERT INTO gold.mart_daily_traffic
SELECT c.event_date, count(*), count(DISTINCT session_id), count(DISTINCT document_id),
       (SELECT extract(hour FROM h.event_ts)::int FROM clicks h WHERE h.event_date = c.event_date
        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)
FROM clicks c GROUP BY c.event_date;

DELETE FROM gold.mart_session_analysis WHERE event_date IN (SELECT DISTINCT event_date FROM clicks);
INSERT INTO gold.mart_session_analysis
SELECT session_id, event_date, count(*), count(DISTINCT document_id),
       min(event_ts), max(event_ts),
       extract(epoch FROM max(event_ts) - min(event_ts))
FROM clicks GROUP BY session_id, event_date;

DELETE FROM gold.mart_clinical_areas WHERE event_date IN (SELECT DISTINCT event_date FROM clicks);
INSERT INTO gold.mart_clinical_areas
SELECT event_date, area, count(*), count(DISTINCT session_id)
FROM clicks, unnest(string_to_array(clinical_areas, ',')) AS area
WHERE btrim(area) <> '' GROUP BY event_date, area;

DELETE FROM gold.mart_popular_documents
WHERE event_date IN (SELECT DISTINCT event_date FROM clicks);
INSERT INTO gold.mart_popular_documents
SELECT event_date, document_id, title, views, sessions,
       row_number() OVER (PARTITION BY event_date ORDER BY views DESC, document_id)
FROM (SELECT event_date, document_id, max(title) AS title, count(*) AS views,
             count(DISTINCT session_id) AS sessions
      FROM clicks GROUP BY event_date, document_id) d;
"""

_DATE = re.compile(r"/Date\((-?\d+)\)/")


def _clicks(files: list[Path]) -> list[tuple]:
    """(session, document, title, areas, click time in ms) of each distinct click."""
    seen: dict[tuple, tuple] = {}
    for path in files:
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            ms = int(_DATE.fullmatch(rec["DateCreated"]).group(1))
            key = (rec["SessionId"], int(rec["DocumentId"]), ms)
            seen.setdefault(key, (*key[:2], rec.get("Title") or "", rec["ClinicalAreas"], ms))
    return list(seen.values())


def fill(conn, files: list[Path], create_tables: bool) -> None:
    """Replace the sample day's rows of the four marts (create them first if asked)."""
    with conn.cursor() as cur:
        if create_tables:
            cur.execute(DDL)
        cur.execute(
            "CREATE TEMP TABLE raw_clicks (session_id text, document_id bigint, title text, "
            "clinical_areas text, ms bigint) ON COMMIT DROP"
        )
        cur.executemany("INSERT INTO raw_clicks VALUES (%s, %s, %s, %s, %s)", _clicks(files))
        cur.execute(
            "CREATE TEMP TABLE clicks ON COMMIT DROP AS SELECT session_id, document_id, title, "
            "clinical_areas, to_timestamp(ms / 1000.0) AT TIME ZONE 'UTC' AS event_ts, "
            "(to_timestamp(ms / 1000.0) AT TIME ZONE 'UTC')::date AS event_date FROM raw_clicks"
        )
        cur.execute(FILL)
    conn.commit()
