"""
### TripClick daily pipeline

Runs one day of the platform in order, in the schedule's time zone
(`TRIPCLICK_TIMEZONE`, default Asia/Seoul):

| when (default) | tasks |
|---|---|
| 15:00 | `produce_web_0`, `produce_web_1` replay the day into Kafka; `silver_stream` streams Kafka -> silver until 16:00 |
| 17:00 | `bronze` (Kafka -> bronze), `check_bronze` |
| 18:00 | `silver_catch_up`, `gold_load` (marts + reconciliation; a mismatch fails the run), `report` |

The run is due when the stream starts (15:00, `TRIPCLICK_STREAM_START` where the DAG is
parsed) and `plan_day` computes the day's times from the settings (`tripclick_stream_start`,
`..._bronze_start`, `..._gold_start`, `..._stream_minutes`, `..._time_scale`); the
`wait_for_*` sensors are deferred until then, so waiting holds no worker slot. A run
triggered with `{"mode": "backfill"}` sends the date's files as they are and skips the
waits; `{"time_scale": 120}` compresses one run's day. Each stage also has a DAG of its own (`tripclick_produce`, `tripclick_silver`,
`tripclick_bronze`, `tripclick_gold`) to re-run it alone. Settings: `dags/README.md`.
"""

from __future__ import annotations

from airflow.sdk import CronTriggerTimetable, chain, dag

from tripclick_dags import stages
from tripclick_dags.defaults import DEFAULT_ARGS, TAGS, start_date
from tripclick_dags.settings import daily_cron, schedule_timezone


@dag(
    dag_id="tripclick_daily_pipeline",
    schedule=CronTriggerTimetable(daily_cron(), timezone=schedule_timezone()),
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    params=stages.PARAMS,
    tags=[*TAGS, "daily"],
    doc_md=__doc__,
)
def tripclick_daily_pipeline():
    plan = stages.plan_day()
    stream = [
        stages.produce.override(task_id="produce_web_0")(0, plan),
        stages.produce.override(task_id="produce_web_1")(1, plan),
        stages.silver_stream(plan),
    ]
    chain(
        plan,
        stages.wait_until("stream_start"),
        stream,
        stages.wait_until("bronze_start"),
        stages.bronze(plan),
        stages.check_bronze(plan),
        stages.wait_until("gold_start"),
        stages.silver_catch_up(plan),
        stages.gold_load(plan),
        stages.report(plan),
    )


tripclick_daily_pipeline()
