"""The tasks of the nightly upkeep of gold: a backup into the lake, then pruning of the
live partials (DAG ``tripclick_maintenance``).

Both are commands of ``tripclick_spark.ops_cli`` (``commands.backup_gold`` /
``commands.prune_live``): on the local runtime a ``tripclick`` process here, on the aws
runtime ``python -m tripclick_spark.ops_cli`` over SSH on the Spark master, which has the
package, the lake's instance profile and a route to PostgreSQL on 5432.
"""

from __future__ import annotations

from airflow.sdk import get_current_context, task

from tripclick_dags import aws_runner, commands, local_runner
from tripclick_dags.defaults import BATCH_TIMEOUT
from tripclick_dags.settings import SettingError, airflow_lookup, load


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
    _run(commands.backup_gold(whole_setting("backup_keep", 7, 1)))


@task(execution_timeout=BATCH_TIMEOUT)
def prune_live() -> None:
    """Delete the gold.live_* partials the live views can no longer show."""
    _run(commands.prune_live(whole_setting("live_keep_hours", 48, 24)))
