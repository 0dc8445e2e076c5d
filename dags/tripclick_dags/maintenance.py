"""The tasks of the nightly upkeep (DAG ``tripclick_maintenance``): a backup of gold into
the lake, then pruning of the live partials; and a backup of Airflow's own metadata.

The gold tasks are commands of ``tripclick_spark.ops_cli`` (``commands.backup_gold`` /
``commands.prune_live``): on the local runtime a ``tripclick`` process here, on the aws
runtime ``python -m tripclick_spark.ops_cli`` over SSH on the Spark master, which has the
package, the lake's instance profile and a route to PostgreSQL on 5432.

Airflow's metadata lives on the Airflow host itself (its PostgreSQL over the local socket on
the fleet, SQLite locally), so ``backup_airflow`` runs in the task's own process in both
runtimes (``airflow_backup``).
"""

from __future__ import annotations

import logging

from airflow.sdk import get_current_context, task

from tripclick_dags import airflow_backup, aws_runner, commands, local_runner
from tripclick_dags.backup_names import DEFAULT_KEEP
from tripclick_dags.defaults import BATCH_TIMEOUT
from tripclick_dags.settings import SettingError, airflow_lookup, load

log = logging.getLogger(__name__)


def whole_setting(name: str, default: int, minimum: int) -> int:
    """The setting ``tripclick_<name>`` as a whole number of at least ``minimum``."""
    raw = (airflow_lookup(name) or str(default)).strip()
    if not raw.isdigit() or int(raw) < minimum:
        raise SettingError(f"tripclick_{name}={raw!r} must be a whole number of {minimum} or more")
    return int(raw)


def _run(stage: commands.StageCommand) -> None:
    settings = load()
    if settings.runtime == "local":
        local_runner.run(settings, stage)
    else:
        context = get_current_context()
        aws_runner.ssh_operator(settings, stage, context["ti"].task_id).execute(context)


@task(execution_timeout=BATCH_TIMEOUT)
def backup_gold() -> None:
    """pg_dump of the gold schemas into <lake>/backups/gold/, keeping the newest N."""
    _run(commands.backup_gold(whole_setting("backup_keep", DEFAULT_KEEP, 1)))


@task(execution_timeout=BATCH_TIMEOUT)
def backup_airflow() -> None:
    """Airflow's metadata database into <lake>/backups/airflow/, keeping the newest N."""
    keep = whole_setting("airflow_backup_keep", DEFAULT_KEEP, 1)
    settings = load()
    result = airflow_backup.create(settings, keep, airflow_backup.configured_url(airflow_lookup))
    log.info("backup %s: %d bytes in %.1f s", result.uri, result.size_bytes, result.seconds)
    for name in result.deleted:
        log.info("deleted %s (beyond the newest %d)", name, keep)


@task(execution_timeout=BATCH_TIMEOUT)
def prune_live() -> None:
    """Delete the gold.live_* partials the live views can no longer show."""
    _run(commands.prune_live(whole_setting("live_keep_hours", 48, 24)))
