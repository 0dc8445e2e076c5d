-- The serving layer (ARCHITECTURE, serving layer): one answer per date and daily mart.
--
-- serving.<mart> = gold's rows for the dates published in gold.mart_daily_traffic
-- (source 'batch') UNION ALL the speed layer's figures, summed from the live day partials
-- (V008), for the dates with partials that gold has not published (source 'speed').
-- Each view is one statement, so one snapshot: gold publishes a date in one transaction
-- (tripclick_spark.gold_db.publish), and a reader sees the date either from the speed
-- layer or from gold, never both and never neither.
--
-- as_of: for batch rows the date's publication time (serving.publications), or, for a
-- date published before this migration, its reconciliation's time; for speed rows the
-- newest minute the partials saw of the date.
--
-- Readers get SELECT like on gold (the postgresql role's default privileges on the
-- loader's tables in this schema). Created here only when missing, as gold_stage (V004):
-- on the fleet the role makes the schema, owned by the loader.
do $$
begin
  if not exists (select 1 from pg_namespace where nspname = 'serving') then
    create schema serving;
  end if;
end
$$;

-- When gold published each date; written by serving.record_publication in publish's
-- transaction.
create table serving.publications (
    event_date   date        primary key,
    published_at timestamptz not null
);

create function serving.record_publication(d date) returns void
language sql as $$
    insert into serving.publications (event_date, published_at) values (d, now())
    on conflict (event_date) do update set published_at = excluded.published_at;
$$;

-- ------------------------------------------------------------ speed: every date with partials

-- The dates the speed layer has, and the newest minute it saw of each.
create view serving.speed_dates as
select event_date, date_trunc('minute', max(last_click_ts)) as as_of
from gold.live_session_days
group by event_date;

-- Clicks and sessions are exact (sessions: distinct session ids over all batches), as are
-- distinct documents; the peak hour comes from the session minutes (exact, while the
-- retention keeps them: 48 h).
create view serving.speed_daily_traffic as
with per_date as (
    select event_date, sum(clicks)::bigint as total_events,
           count(distinct session_id)::bigint as unique_sessions
    from gold.live_session_days
    group by event_date
),
documents as (
    select event_date, count(distinct document_id)::bigint as unique_documents
    from gold.live_document_days
    group by event_date
),
hours as (
    select event_date, extract(hour from minute at time zone 'UTC')::smallint as hour,
           sum(clicks) as clicks
    from gold.live_session_minutes
    group by 1, 2
),
peak as (  -- ties go to the earliest hour, as mart_daily_traffic
    select distinct on (event_date) event_date, hour as peak_hour
    from hours
    order by event_date, clicks desc, hour
)
select p.event_date, p.total_events, p.unique_sessions,
       coalesce(d.unique_documents, 0)::bigint as unique_documents, k.peak_hour, s.as_of
from per_date p
join serving.speed_dates s on s.event_date = p.event_date
left join documents d on d.event_date = p.event_date
left join peak k on k.event_date = p.event_date;

-- Exact but for unique_docs: a sum of per-batch distinct counts.
create view serving.speed_session_analysis as
select
    d.session_id,
    d.event_date,
    sum(d.clicks)::bigint                                                  as click_count,
    sum(d.documents)::bigint                                               as unique_docs,
    min(d.first_click_ts)                                                  as first_click_ts,
    max(d.last_click_ts)                                                   as last_click_ts,
    extract(epoch from max(d.last_click_ts) - min(d.first_click_ts))::double precision
                                                                           as session_duration_sec,
    s.as_of
from gold.live_session_days d
join serving.speed_dates s on s.event_date = d.event_date
group by d.session_id, d.event_date, s.as_of;

-- search_count is exact; unique_sessions a sum of per-batch distinct counts.
create view serving.speed_clinical_areas as
select a.event_date, a.clinical_area, sum(a.clicks)::bigint as search_count,
       sum(a.sessions)::bigint as unique_sessions, s.as_of
from gold.live_area_days a
join serving.speed_dates s on s.event_date = a.event_date
group by a.event_date, a.clinical_area, s.as_of;

-- view_count, title and rank are exact; unique_sessions a sum of per-batch distinct counts.
-- The title is the latest click's (the greatest title on a tie), as mart_popular_documents.
create view serving.speed_popular_documents as
select
    d.event_date,
    d.document_id,
    (array_agg(d.title order by d.last_click_ts desc, d.title desc))[1] as title,
    sum(d.clicks)::bigint                                               as view_count,
    sum(d.sessions)::bigint                                             as unique_sessions,
    row_number() over (
        partition by d.event_date order by sum(d.clicks) desc, d.document_id
    )::integer                                                          as rank,
    s.as_of
from gold.live_document_days d
join serving.speed_dates s on s.event_date = d.event_date
group by d.event_date, d.document_id, s.as_of;

-- ------------------------------------------------------------ batch: the published dates

create view serving.batch_dates as
select t.event_date, coalesce(p.published_at, r.checked_at) as as_of
from gold.mart_daily_traffic t
left join serving.publications p on p.event_date = t.event_date
left join gold.reconciliation r on r.event_date = t.event_date;

-- ------------------------------------------------------------ serving: one answer per date

create view serving.daily_traffic as
select g.event_date, g.total_events, g.unique_sessions, g.unique_documents, g.peak_hour,
       'batch'::text as source, b.as_of
from gold.mart_daily_traffic g
join serving.batch_dates b on b.event_date = g.event_date
union all
select s.event_date, s.total_events, s.unique_sessions, s.unique_documents, s.peak_hour,
       'speed'::text, s.as_of
from serving.speed_daily_traffic s
where not exists (select 1 from gold.mart_daily_traffic g where g.event_date = s.event_date);

create view serving.session_analysis as
select g.session_id, g.event_date, g.click_count, g.unique_docs, g.first_click_ts,
       g.last_click_ts, g.session_duration_sec, 'batch'::text as source, b.as_of
from gold.mart_session_analysis g
join serving.batch_dates b on b.event_date = g.event_date
union all
select s.session_id, s.event_date, s.click_count, s.unique_docs, s.first_click_ts,
       s.last_click_ts, s.session_duration_sec, 'speed'::text, s.as_of
from serving.speed_session_analysis s
where not exists (select 1 from gold.mart_daily_traffic g where g.event_date = s.event_date);

create view serving.clinical_areas as
select g.event_date, g.clinical_area, g.search_count, g.unique_sessions,
       'batch'::text as source, b.as_of
from gold.mart_clinical_areas g
join serving.batch_dates b on b.event_date = g.event_date
union all
select s.event_date, s.clinical_area, s.search_count, s.unique_sessions, 'speed'::text, s.as_of
from serving.speed_clinical_areas s
where not exists (select 1 from gold.mart_daily_traffic g where g.event_date = s.event_date);

create view serving.popular_documents as
select g.event_date, g.document_id, g.title, g.view_count, g.unique_sessions, g.rank,
       'batch'::text as source, b.as_of
from gold.mart_popular_documents g
join serving.batch_dates b on b.event_date = g.event_date
union all
select s.event_date, s.document_id, s.title, s.view_count, s.unique_sessions, s.rank,
       'speed'::text, s.as_of
from serving.speed_popular_documents s
where not exists (select 1 from gold.mart_daily_traffic g where g.event_date = s.event_date);
