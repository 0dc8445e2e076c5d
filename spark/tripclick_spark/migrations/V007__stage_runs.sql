-- Every run of a stage for a date: when, how long, whether it succeeded, on which host.
-- Written by each job when it ends (tripclick_spark.runner, run-day) for the operations
-- dashboard; best effort: a stage never fails because this row could not be written.
create table gold.stage_runs (
    event_date date             not null,
    stage      text             not null,
    started_at timestamptz      not null,
    seconds    double precision not null check (seconds >= 0),
    succeeded  boolean          not null,
    host       text             not null,
    primary key (event_date, stage, started_at)
);
create index stage_runs_started_at_idx on gold.stage_runs (started_at);
