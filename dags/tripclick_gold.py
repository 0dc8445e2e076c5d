"""
### TripClick gold ETL and reconciliation

Catches silver up with Kafka, then builds the gold marts in PostgreSQL and the
reconciliation report; a count mismatch fails the run. Triggered by hand to re-run the
stage alone (param `date`); the daily pipeline runs it at 18:00. Settings: `dags/README.md`.
"""

from __future__ import annotations

from airflow.sdk import chain, dag

from tripclick_dags import stages
from tripclick_dags.defaults import DEFAULT_ARGS, TAGS, start_date


@dag(
    dag_id="tripclick_gold",
    schedule=None,
    start_date=start_date(),
    catchup=False,
    default_args=DEFAULT_ARGS,
    params=stages.PARAMS,
    tags=[*TAGS, "stage", "spark", "gold"],
    doc_md=__doc__,
)
def tripclick_gold():
    plan = stages.plan_day()
    chain(stages.silver_catch_up(plan), stages.gold_load(plan), stages.report(plan))


tripclick_gold()
