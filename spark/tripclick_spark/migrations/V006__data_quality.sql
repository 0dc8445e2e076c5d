-- Data-quality gates (tripclick_spark.quality, checks in quality_checks.yml).
--
-- field_profile: per date and field of the day's clicks, how many records, and how many
-- are empty (null, '' or blank, or an array with no item). The gold load computes it from
-- silver with the marts, stages it beside them and publishes it with them, so the checks
-- read a day's field rates in PostgreSQL whether it is staged or published.
create table gold.field_profile (
    event_date date   not null,
    field      text   not null,
    records    bigint not null check (records >= 0),
    empty      bigint not null check (empty between 0 and records),
    primary key (event_date, field)
);
create table gold_stage.field_profile (like gold.field_profile including all);

-- One row per date and check: the last time the date's gates ran. outcome is pass,
-- warning (alerted, publication goes on) or error (publication stopped); a check that
-- could not be evaluated is an error.
create table gold.dq_results (
    event_date  date        not null,
    check_name  text        not null,
    dataset     text        not null,
    outcome     text        not null check (outcome in ('pass', 'warning', 'error')),
    value       double precision,
    thresholds  jsonb       not null default '{}',
    checked     text        not null check (checked in ('staged', 'published')),
    checked_at  timestamptz not null default now(),
    primary key (event_date, check_name)
);
create index dq_results_checked_at_idx on gold.dq_results (checked_at);
