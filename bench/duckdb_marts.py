"""The four marts of the data contract (docs/architecture.md), computed by DuckDB straight
from a day's raw JSON lines: an implementation independent of the Spark jobs, which the
pipeline benchmark holds the local gold to, and the fleet's day test the fleet's gold, row
for row.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import duckdb

from tripclick_spark import gold_db

# The marts in DuckDB SQL, from the raw JSON lines: valid clicks, deduplicated on
# SessionId|DocumentId|DateCreated (the dedup key's fields), times in UTC.
DUCKDB_CLICKS = """
create or replace temp table clicks as
with raw as (
    select * from read_json(
        $files, format = 'newline_delimited', ignore_errors = true,
        columns = {DateCreated: 'VARCHAR', SessionId: 'VARCHAR', DocumentId: 'VARCHAR',
                   Title: 'VARCHAR', ClinicalAreas: 'VARCHAR'})
), typed as (
    select SessionId as session_id,
           try_cast(DocumentId as bigint) as document_id,
           try_cast(regexp_extract(DateCreated, '^/Date\\((\\d+)\\)/$', 1) as bigint) as ms,
           Title as title, ClinicalAreas as areas
    from raw
    where SessionId is not null and SessionId <> ''
)
select distinct on (session_id, document_id, ms)
       session_id, document_id, title, areas,
       make_timestamp(ms * 1000) as event_ts,
       cast(make_timestamp(ms * 1000) as date) as event_date
from typed
where document_id is not null and ms is not null and title is not null and areas is not null
"""
DUCKDB_MARTS = {
    "mart_daily_traffic": """
        with h as (select event_date, hour(event_ts) as hr, count(*) as n from clicks group by all),
        peak as (select event_date, arg_min(hr, (-n, hr)) as peak_hour from h group by all)
        select c.event_date, count(*) as total_events, count(distinct session_id),
               count(distinct document_id), any_value(p.peak_hour)
        from clicks c join peak p using (event_date) group by c.event_date""",
    "mart_session_analysis": """
        select session_id, event_date, count(*), count(distinct document_id),
               min(event_ts), max(event_ts),
               (epoch_us(max(event_ts)) - epoch_us(min(event_ts))) / 1e6
        from clicks group by session_id, event_date""",
    "mart_clinical_areas": """
        with tagged as (
            select distinct event_date, session_id, document_id, event_ts, trim(a) as area
            from clicks, unnest(string_split(areas, ',')) as t(a) where trim(a) <> '')
        select event_date, area, count(*), count(distinct session_id)
        from tagged group by all""",
    "mart_popular_documents": """
        with d as (
            select event_date, document_id, arg_max(title, (event_ts, title)) as title,
                   count(*) as views, count(distinct session_id) as sessions
            from clicks group by all)
        select event_date, document_id, title, views, sessions,
               row_number() over (partition by event_date order by views desc, document_id)
        from d""",
}


def duckdb_marts(files: list[Path], threads: int = 2) -> tuple[float, dict[str, list[tuple]]]:
    started = time.monotonic()
    con = duckdb.connect()
    con.execute(f"set threads = {threads}")
    con.execute("set timezone = 'UTC'")
    con.execute(DUCKDB_CLICKS, {"files": [str(f) for f in files]})
    out = {name: con.execute(sql).fetchall() for name, sql in DUCKDB_MARTS.items()}
    return round(time.monotonic() - started, 2), out


def as_dump(marts: dict[str, list[tuple]]) -> dict[str, list[dict[str, Any]]]:
    """The marts as ``tripclick gold dump`` prints them: rows named by the gold columns, times
    as UTC ISO strings, dates as ISO dates (the rows in no particular order)."""

    def jsonable(value: Any) -> Any:
        if isinstance(value, dt.datetime):  # DuckDB's timestamps are UTC without a zone
            return value.replace(tzinfo=dt.UTC).isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return value

    return {
        name: [
            {c: jsonable(v) for c, v in zip(gold_db.MARTS[name], row, strict=True)} for row in rows
        ]
        for name, rows in marts.items()
    }
