"""
### TripClick silver stream

Spark Structured Streaming from Kafka into the silver layer (typed, validated,
deduplicated clicks; rejects to quarantine) and the near-real-time marts, for the
length of the streaming window. Triggered by hand to re-run the stage alone (param
`date`); the daily pipeline runs it at 15:00. Settings: `dags/README.md`.
"""

from __future__ import annotations

from airflow.sdk import dag

from tripclick_dags import stages
from tripclick_dags.defaults import DEFAULT_ARGS, TAGS, start_date


@dag(
    dag_id="tripclick_silver",
    schedule=None,
    start_date=start_date(),
    catchup=False,
    default_args=DEFAULT_ARGS,
    params=stages.PARAMS,
    tags=[*TAGS, "stage", "spark", "silver"],
    doc_md=__doc__,
)
def tripclick_silver():
    stages.silver_stream(stages.plan_day())


tripclick_silver()
