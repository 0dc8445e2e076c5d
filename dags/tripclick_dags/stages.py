"""The TaskFlow tasks of the stages, shared by the stage DAGs and the daily DAG.

Every task reads its settings when it runs (:func:`settings.load`), builds the stage
command once (:mod:`commands`) and hands it to the runtime the settings name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from airflow.sdk import Param, get_current_context, task

from tripclick_dags import aws_runner, commands, lake, local_runner
from tripclick_dags.defaults import BATCH_TIMEOUT, STREAM_TIMEOUT
from tripclick_dags.plan import DAILY, MODES, DayPlan, make_plan, missed, run_date, run_mode
from tripclick_dags.settings import Settings, load

log = logging.getLogger(__name__)

PARAMS = {
    # The form refuses 20160101 and 2016-W01-5; make_plan checks the value again, since a
    # run triggered through the API may skip the form.
    "date": Param(
        "",
        type="string",
        pattern=r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$",
        description="Day to process (YYYY-MM-DD); empty = the run's logical date in the schedule's zone.",
    ),
    "mode": Param(
        DAILY,
        enum=list(MODES),
        description="daily: the day replayed into its window at its times; backfill: the"
        " date's files sent as they are, no waits (a re-run of a past day).",
    ),
    "time_scale": Param(
        None,
        type=["null", "number"],
        minimum=1,
        description="Compress this run's day this many times (empty = tripclick_time_scale).",
    ),
}


def _run(
    settings: Settings,
    stage: commands.StageCommand,
    *,
    source_index: int | None = None,
    stream_seconds: float | None = None,
) -> None:
    context = get_current_context()
    if settings.runtime == "local":
        local_runner.run(settings, stage)
    elif source_index is not None:
        aws_runner.run_producer(settings, source_index, stage, context)
    else:
        aws_runner.run_spark(settings, stage, context, stream_seconds)


@task
def plan_day() -> dict[str, Any]:
    """Resolve the run's date and when each stage starts (see ``tripclick_dags.plan``)."""
    context = get_current_context()
    params = context["params"]
    settings = load()
    if params.get("time_scale"):
        settings = dataclasses.replace(settings, time_scale=float(params["time_scale"]))
    date = params.get("date") or run_date(
        settings, context.get("logical_date") or context["dag_run"].run_after
    )
    now = dt.datetime.now(dt.UTC)
    mode = run_mode(context["dag_run"].run_type, params.get("mode"))
    plan = make_plan(settings, date, now, mode)
    if context["dag_run"].run_type == "scheduled" and missed(plan, now):
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(
            f"{plan.date}: its stream window ended at {plan.stream_end:%Y-%m-%d %H:%M %Z},"
            " before this scheduled run started; nothing runs. Re-run the date with mode"
            f" backfill (on the fleet: make fleet-day DATE={plan.date} MODE=backfill)"
        )
    log.info(
        "plan for %s (%s, %s, time scale %g): stream %s-%s, bronze %s, gold %s",
        plan.date,
        settings.timezone,
        plan.mode,
        settings.time_scale,
        plan.stream_start.isoformat(),
        plan.stream_end.isoformat(),
        plan.bronze_start.isoformat(),
        plan.gold_start.isoformat(),
    )
    return plan.to_xcom()


@task(execution_timeout=STREAM_TIMEOUT)
def produce(source_index: int, plan: dict[str, Any]) -> None:
    """Replay one web server's share of the day into Kafka during the streaming window."""
    settings = load()
    source = commands.SOURCES[source_index]
    input_dir = settings.input_dir if settings.runtime == "local" else settings.docker_input_dir
    stage = commands.produce(settings, DayPlan.from_xcom(plan), source, input_dir)
    _run(settings, stage, source_index=source_index)


@task(execution_timeout=STREAM_TIMEOUT)
def silver_stream(plan: dict[str, Any]) -> None:
    """Kafka -> silver (and the near-real-time marts) for the length of the window."""
    settings = load()
    day = DayPlan.from_xcom(plan)
    _run(settings, commands.silver_stream(day), stream_seconds=day.stream_seconds)


@task(execution_timeout=BATCH_TIMEOUT)
def bronze(plan: dict[str, Any]) -> None:
    """Kafka -> bronze: every record of the day, replacing the date's partition."""
    settings = load()
    _run(settings, commands.bronze(plan["date"]))


@task(execution_timeout=BATCH_TIMEOUT)
def check_bronze(plan: dict[str, Any]) -> int:
    """Fail when the day's bronze partition holds no file: nothing reached Kafka."""
    settings = load()
    files = lake.data_files(settings, lake.BRONZE, plan["date"])
    where = lake.partition_uri(settings, lake.BRONZE, plan["date"])
    if not files:
        raise RuntimeError(f"bronze partition {where} has no parquet file; check the producers")
    log.info("bronze partition %s: %d parquet files", where, len(files))
    return len(files)


@task(execution_timeout=BATCH_TIMEOUT)
def silver_catch_up(plan: dict[str, Any]) -> None:
    """Bring silver up to date with everything in Kafka before the gold ETL reads it."""
    settings = load()
    _run(settings, commands.silver_catch_up(plan["date"]))


@task(execution_timeout=BATCH_TIMEOUT)
def gold_load(plan: dict[str, Any]) -> None:
    """Silver -> gold marts, then reconciliation: a mismatch fails this task."""
    settings = load()
    _run(settings, commands.gold_load(plan["date"]))


@task(execution_timeout=BATCH_TIMEOUT)
def report(plan: dict[str, Any]) -> dict[str, str]:
    """Log where the day's results are."""
    settings = load()
    where = {
        "bronze": lake.partition_uri(settings, lake.BRONZE, plan["date"]),
        "silver": lake.partition_uri(settings, lake.SILVER, plan["date"]),
        "reconciliation": lake.partition_uri(settings, lake.REPORTS, plan["date"]) + "report.json",
        "gold": "PostgreSQL schema gold: mart_daily_traffic, mart_session_analysis,"
        " mart_clinical_areas, mart_popular_documents (tripclick gold dump --date"
        f" {plan['date']})",
    }
    for layer, uri in where.items():
        log.info("TRIPCLICK RESULT %s %s: %s", plan["date"], layer, uri)
    return where


def wait_until(moment: str):
    """A deferred wait for one of the plan's times: it holds no worker slot meanwhile."""
    from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync

    from tripclick_dags.defaults import WAIT_TIMEOUT

    return DateTimeSensorAsync(
        task_id=f"wait_for_{moment}",
        target_time=f"{{{{ ti.xcom_pull(task_ids='plan_day')['{moment}'] }}}}",
        execution_timeout=WAIT_TIMEOUT,
        timeout=WAIT_TIMEOUT.total_seconds(),
    )
