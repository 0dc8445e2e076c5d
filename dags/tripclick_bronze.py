"""
### TripClick bronze batch

Spark batch from Kafka (the day's earliest to latest offsets) into the bronze layer,
replacing the date's partition, then a check that the partition is not empty.
Triggered by hand to re-run the stage alone (param `date`); the daily pipeline runs it
at 17:00. Settings: `dags/README.md`.
"""

from __future__ import annotations

from airflow.sdk import chain, dag

from tripclick_dags import stages
from tripclick_dags.defaults import DEFAULT_ARGS, TAGS, start_date


@dag(
    dag_id="tripclick_bronze",
    schedule=None,
    start_date=start_date(),
    catchup=False,
    default_args=DEFAULT_ARGS,
    params=stages.PARAMS,
    tags=[*TAGS, "stage", "spark", "bronze"],
    doc_md=__doc__,
)
def tripclick_bronze():
    plan = stages.plan_day()
    chain(stages.bronze(plan), stages.check_bronze(plan))


tripclick_bronze()
