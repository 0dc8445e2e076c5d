-- The speed layer's accuracy: its figures for a date against gold's, recorded when gold
-- publishes the date.
--
-- serving.record_publication (called by tripclick_spark.gold_db.publish in its transaction,
-- before the date's rows move from gold_stage to gold) compares the speed views (V009) with
-- the staged marts about to be published. A re-publication replaces the date's rows. A
-- date the speed layer never saw (or whose partials are gone) keeps the rows it has.
--
-- Rows: daily_traffic's four figures always (key ''); for the other marts only the keys
-- whose figures differ, or that one side lacks (its value NULL). Why they differ: a
-- distinct count of the speed layer (sessions of a document or an area, documents of a
-- session) is distinct within a micro-batch only, and its sum over batches counts twice
-- what spans two batches (gold.live_*_days, V008).
create table serving.speed_accuracy (
    event_date    date             not null,
    mart          text             not null,
    metric        text             not null,
    -- the mart's key: clinical_area, document_id, session_id; '' for daily_traffic
    key           text             not null,
    speed_value   double precision,
    batch_value   double precision,
    -- speed - batch, a missing side counting 0
    diff          double precision not null,
    -- |diff| / max(|batch|, 1): a share of gold's figure
    relative_diff double precision generated always as
        (abs(diff) / greatest(abs(coalesce(batch_value, 0)), 1)) stored,
    recorded_at   timestamptz      not null,
    primary key (event_date, mart, metric, key)
);

create or replace function serving.record_publication(d date) returns void
language plpgsql as $$
begin
    insert into serving.publications (event_date, published_at) values (d, now())
    on conflict (event_date) do update set published_at = excluded.published_at;
    if not exists (select 1 from serving.speed_dates where event_date = d) then
        return;
    end if;
    delete from serving.speed_accuracy where event_date = d;
    insert into serving.speed_accuracy
        (event_date, mart, metric, key, speed_value, batch_value, diff, recorded_at)
    select d, c.mart, c.metric, c.key, c.speed_value, c.batch_value,
           coalesce(c.speed_value, 0) - coalesce(c.batch_value, 0), now()
    from (
        select 'daily_traffic' as mart, v.metric, '' as key, v.speed_value, v.batch_value
        from (select * from serving.speed_daily_traffic where event_date = d) s
        cross join (select * from gold_stage.mart_daily_traffic where event_date = d) b
        cross join lateral (values
            ('total_events', s.total_events::float8, b.total_events::float8),
            ('unique_sessions', s.unique_sessions::float8, b.unique_sessions::float8),
            ('unique_documents', s.unique_documents::float8, b.unique_documents::float8),
            ('peak_hour', s.peak_hour::float8, b.peak_hour::float8)
        ) v(metric, speed_value, batch_value)
        union all
        select 'clinical_areas', v.metric, coalesce(s.clinical_area, b.clinical_area),
               v.speed_value, v.batch_value
        from (select * from serving.speed_clinical_areas where event_date = d) s
        full join (select * from gold_stage.mart_clinical_areas where event_date = d) b
            on b.clinical_area = s.clinical_area
        cross join lateral (values
            ('search_count', s.search_count::float8, b.search_count::float8),
            ('unique_sessions', s.unique_sessions::float8, b.unique_sessions::float8)
        ) v(metric, speed_value, batch_value)
        where v.speed_value is distinct from v.batch_value
        union all
        select 'popular_documents', v.metric, coalesce(s.document_id, b.document_id)::text,
               v.speed_value, v.batch_value
        from (select * from serving.speed_popular_documents where event_date = d) s
        full join (select * from gold_stage.mart_popular_documents where event_date = d) b
            on b.document_id = s.document_id
        cross join lateral (values
            ('view_count', s.view_count::float8, b.view_count::float8),
            ('unique_sessions', s.unique_sessions::float8, b.unique_sessions::float8),
            ('rank', s.rank::float8, b.rank::float8)
        ) v(metric, speed_value, batch_value)
        where v.speed_value is distinct from v.batch_value
        union all
        select 'session_analysis', v.metric, coalesce(s.session_id, b.session_id),
               v.speed_value, v.batch_value
        from (select * from serving.speed_session_analysis where event_date = d) s
        full join (select * from gold_stage.mart_session_analysis where event_date = d) b
            on b.session_id = s.session_id
        cross join lateral (values
            ('click_count', s.click_count::float8, b.click_count::float8),
            ('unique_docs', s.unique_docs::float8, b.unique_docs::float8),
            ('session_duration_sec', s.session_duration_sec, b.session_duration_sec)
        ) v(metric, speed_value, batch_value)
        where v.speed_value is distinct from v.batch_value
    ) c;
end
$$;

-- Per date, mart and metric: how many keys differ, and the largest relative difference
-- with its key and both values.
create view serving.speed_accuracy_summary as
select distinct on (event_date, mart, metric)
    event_date,
    mart,
    metric,
    count(*) filter (where diff <> 0) over w as keys_differing,
    key                                      as largest_key,
    speed_value,
    batch_value,
    diff,
    relative_diff                            as largest_relative_diff,
    recorded_at
from serving.speed_accuracy
window w as (partition by event_date, mart, metric)
order by event_date, mart, metric, relative_diff desc, abs(diff) desc, key;
