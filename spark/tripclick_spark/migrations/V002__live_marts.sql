-- The near-real-time marts of ARCHITECTURE 3.5, fed by the silver streaming job.
--
-- Each micro-batch stores its partial aggregates under (event_date, batch_id); a batch
-- re-run after a crash replaces its own rows (tripclick_spark.live_marts.write_batch), so
-- nothing is counted twice. The views sum the partials; Superset reads the views.
--
-- Times are UTC. `minute` / `hour` are the event time (event_ts, what the stream sees,
-- time-compressed on a replay); `click_minute` is the original click time (click_ts),
-- which is what a person's pace is measured in.

-- One row per batch, session, event minute and original click minute. Storing sessions
-- (not a per-batch distinct count) keeps "sessions per minute" exact: a session's clicks
-- of one minute can fall into two batches, and distinct counts do not add up.
create table gold.live_session_minutes (
    event_date   date        not null,
    batch_id     bigint      not null check (batch_id >= 0),
    session_id   text        not null,
    minute       timestamptz not null,
    click_minute timestamptz not null,
    clicks       integer     not null check (clicks > 0),
    primary key (event_date, batch_id, session_id, minute, click_minute)
);
-- The views look back from the latest minute (max(minute)) and filter on minute.
create index live_session_minutes_minute_idx on gold.live_session_minutes (minute);

create table gold.live_document_minutes (
    event_date  date        not null,
    batch_id    bigint      not null check (batch_id >= 0),
    document_id bigint      not null,
    minute      timestamptz not null,
    -- the title on the document's latest click of the batch and minute
    title       text        not null,
    clicks      integer     not null check (clicks > 0),
    primary key (event_date, batch_id, document_id, minute)
);
create index live_document_minutes_minute_idx on gold.live_document_minutes (minute);

-- A click with several areas counts once in each; clicks without an area are not here.
create table gold.live_area_hours (
    event_date    date        not null,
    batch_id      bigint      not null check (batch_id >= 0),
    clinical_area text        not null,
    hour          timestamptz not null,
    clicks        integer     not null check (clicks > 0),
    primary key (event_date, batch_id, clinical_area, hour)
);
create index live_area_hours_hour_idx on gold.live_area_hours (hour);

-- "Now" for the live views: the latest minute any click was seen. Replayed days lie in
-- the past, so the wall clock would show nothing; the data's own clock always works.
create view gold.live_latest_minute as
select max(minute) as minute from gold.live_session_minutes;

-- Clicks and distinct sessions per minute over the last 24 hours of data (the latest
-- minute and the 1439 before it: a whole day when the latest day is replayed).
create view gold.live_traffic_per_minute as
select
    s.event_date,
    s.minute,
    sum(s.clicks)::bigint        as clicks,
    count(distinct s.session_id) as sessions
from gold.live_session_minutes s
join gold.live_latest_minute l on s.minute > l.minute - interval '24 hours'
group by s.event_date, s.minute;

-- The documents clicked in the last hour: the 60 minutes ending with the latest minute.
-- rank 1 = most clicked; ties broken by document_id (as mart_popular_documents).
create view gold.live_top_documents_last_hour as
with window_ as (
    select minute - interval '59 minutes' as window_start, minute as window_end
    from gold.live_latest_minute
)
select
    d.document_id,
    (array_agg(d.title order by d.minute desc, d.title desc))[1] as title,
    sum(d.clicks)::bigint                                          as clicks,
    row_number() over (order by sum(d.clicks) desc, d.document_id)  as rank,
    w.window_start,
    w.window_end
from gold.live_document_minutes d
join window_ w on d.minute between w.window_start and w.window_end
group by d.document_id, w.window_start, w.window_end;

-- Clicks per clinical area and hour over the last 24 hours of data (the latest
-- minute's hour and the 23 before it).
create view gold.live_clinical_area_trend as
with latest as (
    select date_trunc('hour', minute) as hour from gold.live_latest_minute
)
select a.hour, a.clinical_area, sum(a.clicks)::bigint as clicks
from gold.live_area_hours a
join latest l on a.hour between l.hour - interval '23 hours' and l.hour
group by a.hour, a.clinical_area;

-- Sessions of the last 24 hours of data with a minute of more than 20 clicks.
--
-- The rule: more than 20 clicks by one session within one minute of ORIGINAL click time
-- (click_minute). Each TripClick click opens a search result, so a person reading results
-- clicks a few times a minute at most: the busiest session-minute of the real sample day
-- (2016-01-01) has 6 clicks, nearly all have 1-2. Sustaining one click every 3 seconds
-- for a whole minute is a crawler, a link checker or a stuck client. The original click
-- time is used because a replay squeezes a day into an hour (24x faster): on event time
-- every busy person would look like a bot. To change the rule, replace this view in a
-- new migration.
create view gold.live_anomalous_sessions as
with latest as (
    select minute from gold.live_latest_minute
),
per_click_minute as (
    select s.session_id, s.click_minute, min(s.event_date) as event_date,
           max(s.minute) as last_seen, sum(s.clicks) as clicks
    from gold.live_session_minutes s
    join latest l on s.minute > l.minute - interval '24 hours'
    group by s.session_id, s.click_minute
)
select
    session_id,
    min(event_date)                                                 as event_date,
    max(clicks)::bigint                                             as peak_clicks_per_minute,
    (array_agg(click_minute order by clicks desc, click_minute))[1] as peak_click_minute,
    count(*) filter (where clicks > 20)                             as anomalous_minutes,
    sum(clicks)::bigint                                             as clicks,
    max(last_seen)                                                  as last_seen
from per_click_minute
group by session_id
having max(clicks) > 20;
