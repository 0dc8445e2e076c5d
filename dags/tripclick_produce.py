"""
### TripClick producers

Web servers 0 and 1 replay their share of the day (`<day>_part-000.jsonl`,
`<day>_part-001.jsonl`) into Kafka topic `tripclick_raw_logs` during the streaming
window. Triggered by hand to re-run the stage alone (param `date`); the daily pipeline
runs the same tasks at 15:00. Settings: `dags/README.md`.
"""

from __future__ import annotations

from airflow.sdk import dag

from tripclick_dags import stages
from tripclick_dags.defaults import DEFAULT_ARGS, TAGS, start_date


@dag(
    dag_id="tripclick_produce",
    schedule=None,
    start_date=start_date(),
    catchup=False,
    default_args=DEFAULT_ARGS,
    params=stages.PARAMS,
    tags=[*TAGS, "stage", "producers"],
    doc_md=__doc__,
)
def tripclick_produce():
    plan = stages.plan_day()
    stages.produce.override(task_id="produce_web_0")(0, plan)
    stages.produce.override(task_id="produce_web_1")(1, plan)


tripclick_produce()
