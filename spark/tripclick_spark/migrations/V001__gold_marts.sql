-- The four daily marts of ARCHITECTURE 3.5 and the reconciliation report of 3.6.
-- Column names are the original project's so its dashboards still read them.
-- Every date's rows are replaced in one transaction by `tripclick gold load`.

create table gold.mart_daily_traffic (
    event_date       date     primary key,
    total_events     bigint   not null check (total_events >= 0),
    unique_sessions  bigint   not null check (unique_sessions >= 0),
    unique_documents bigint   not null check (unique_documents >= 0),
    -- hour (UTC) with the most clicks; ties go to the earliest hour
    peak_hour        smallint not null check (peak_hour between 0 and 23)
);

create table gold.mart_session_analysis (
    session_id           text             not null,
    event_date           date             not null,
    click_count          bigint           not null check (click_count > 0),
    unique_docs          bigint           not null check (unique_docs > 0),
    first_click_ts       timestamptz      not null,
    last_click_ts        timestamptz      not null,
    session_duration_sec double precision not null check (session_duration_sec >= 0),
    primary key (session_id, event_date)
);
-- Loads delete by date and dashboards filter by date.
create index mart_session_analysis_event_date_idx
    on gold.mart_session_analysis (event_date);

create table gold.mart_clinical_areas (
    event_date      date   not null,
    clinical_area   text   not null,
    search_count    bigint not null check (search_count > 0),
    unique_sessions bigint not null check (unique_sessions > 0),
    primary key (event_date, clinical_area)
);

create table gold.mart_popular_documents (
    event_date      date   not null,
    document_id     bigint not null,
    title           text   not null,
    view_count      bigint not null check (view_count > 0),
    unique_sessions bigint not null check (unique_sessions > 0),
    -- 1 = most clicked; ties broken by document_id
    rank            integer not null check (rank > 0),
    primary key (event_date, document_id)
);
-- "Top N documents of a day" reads by rank.
create index mart_popular_documents_event_date_rank_idx
    on gold.mart_popular_documents (event_date, rank);

-- One row per date: the counts of each layer and whether the invariants held.
create table gold.reconciliation (
    event_date           date        primary key,
    kafka_records        bigint      not null,
    bronze_records       bigint      not null,
    bronze_distinct      bigint      not null,
    silver_records       bigint      not null,
    quarantine_records   bigint      not null,
    quarantine_distinct  bigint      not null,
    gold_total_events    bigint,
    passed               boolean     not null,
    mismatches           text[]      not null default '{}',
    checked_at           timestamptz not null default now()
);
