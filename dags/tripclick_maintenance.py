"""
### TripClick nightly maintenance

Every night at 03:00 in the schedule's time zone, long after the day's gold is published:
`backup_gold` dumps the gold schemas into `<lake>/backups/gold/` and keeps the newest
`tripclick_backup_keep` (7) backups; then `prune_live` deletes the `gold.live_*` partials
older than `tripclick_live_keep_hours` (48) before the latest minute, which no live view
can show any more. The backup runs first, so last night's partials are in it. Restore:
`make restore` (docs/runbook.md "Backups").

Beside them, on the Airflow host, `backup_airflow` copies Airflow's own metadata database
(PostgreSQL on the fleet, SQLite locally) into `<lake>/backups/airflow/` and keeps the newest
`tripclick_airflow_backup_keep` (7). Restore: `make restore-airflow`, with Airflow stopped.
"""

from __future__ import annotations

from airflow.sdk import chain, dag

from tripclick_dags import maintenance
from tripclick_dags.defaults import DEFAULT_ARGS, TAGS, start_date


@dag(
    dag_id="tripclick_maintenance",
    schedule="0 3 * * *",
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "maintenance", "backup", "retention"],
    doc_md=__doc__,
)
def tripclick_maintenance():
    chain(maintenance.backup_gold(), maintenance.prune_live())
    maintenance.backup_airflow()


tripclick_maintenance()
