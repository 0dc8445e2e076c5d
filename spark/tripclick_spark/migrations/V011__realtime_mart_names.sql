-- The original project's near-real-time mart names, as views over the live partials, so its
-- dashboards and queries read unchanged (the mapping: docs/architecture.md §3.8).
--
-- Distinct sessions of a document minute or an area hour, and distinct documents of a
-- minute, are counted within a micro-batch (the new columns and gold.live_minutes, written by
-- tripclick_spark.live_marts); the views sum them, so a session counted in two minutes,
-- hours or batches counts more than once: an upper bound, exact when each key's clicks fall
-- into one minute (hour) of one batch. Rows written before this migration have no count
-- (NULL) and add nothing.

alter table gold.live_document_minutes add column sessions integer check (sessions > 0);
alter table gold.live_area_hours add column sessions integer check (sessions > 0);

-- Per batch and event minute: clicks and distinct documents (within the batch).
create table gold.live_minutes (
    event_date date        not null,
    batch_id   bigint      not null check (batch_id >= 0),
    minute     timestamptz not null,
    clicks     integer     not null check (clicks > 0),
    documents  integer     not null check (documents > 0)
);
create unique index live_minutes_grain_key on gold.live_minutes (event_date, batch_id, minute);
create index live_minutes_minute_idx on gold.live_minutes (minute);

-- Clicks, sessions (exact: session ids) and documents per minute, last 24 hours of data.
create view gold.mart_realtime_traffic_minute as
with docs as (
    select m.minute, sum(m.documents)::bigint as unique_docs
    from gold.live_minutes m
    join gold.live_latest_minute l on m.minute > l.minute - interval '24 hours'
    group by m.minute
)
select t.minute as event_minute, t.clicks as total_clicks, t.sessions as unique_sessions,
       coalesce(d.unique_docs, 0)::bigint as unique_docs
from (
    select minute, sum(clicks)::bigint as clicks, sum(sessions)::bigint as sessions
    from gold.live_traffic_per_minute
    group by minute
) t
left join docs d on d.minute = t.minute;

-- The 20 most clicked documents of the last hour (the 60 minutes ending with the latest).
create view gold.mart_realtime_top_docs_1h as
select
    t.window_end as snapshot_ts,
    t.rank::integer as rank,
    t.document_id,
    t.title,
    t.clicks as click_count,
    coalesce(s.sessions, 0)::bigint as unique_sessions
from gold.live_top_documents_last_hour t
left join (
    select d.document_id, sum(d.sessions) as sessions
    from gold.live_document_minutes d
    join gold.live_latest_minute l
      on d.minute between l.minute - interval '59 minutes' and l.minute
    group by d.document_id
) s on s.document_id = t.document_id
where t.rank <= 20;

-- Clicks and sessions per clinical area over the last 24 hours of data (the latest minute's
-- hour and the 23 before it) against the 24 hours before those: trend_pct =
-- 100 * (last - previous) / previous, NULL where the area has no click the previous day.
create view gold.mart_realtime_clinical_trend_24h as
with latest as (
    select minute, date_trunc('hour', minute) as hour from gold.live_latest_minute
),
per_area as (
    select
        a.clinical_area,
        sum(a.clicks) filter (where a.hour > l.hour - interval '24 hours')      as clicks,
        sum(a.sessions) filter (where a.hour > l.hour - interval '24 hours')    as sessions,
        sum(a.clicks) filter (where a.hour <= l.hour - interval '24 hours')     as previous
    from gold.live_area_hours a
    join latest l on a.hour > l.hour - interval '48 hours' and a.hour <= l.hour
    group by a.clinical_area
)
select
    l.minute                              as snapshot_ts,
    p.clinical_area,
    p.clicks::bigint                      as click_count,
    coalesce(p.sessions, 0)::bigint       as unique_sessions,
    round(100.0 * (p.clicks - p.previous) / p.previous, 2) as trend_pct
from per_area p
cross join latest l
where p.clicks is not null;

-- gold.live_anomalous_sessions (more than 20 clicks in a minute of original click time) with
-- the original columns: the window is the session's busiest click minute; CRITICAL above
-- 50 clicks in it, WARNING otherwise.
create view gold.mart_realtime_anomaly_sessions as
select
    last_seen                                            as detected_ts,
    session_id,
    peak_click_minute                                    as window_start,
    peak_click_minute + interval '1 minute'              as window_end,
    peak_clicks_per_minute                               as click_count,
    case when peak_clicks_per_minute > 50 then 'CRITICAL' else 'WARNING' end as severity
from gold.live_anomalous_sessions;
