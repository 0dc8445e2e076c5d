"""``tripclick run-day``: one whole day on the local stack without Airflow.

Produce the files (batch mode, one web server per file, all at once), catch silver up and
stage gold while bronze is rewritten alongside, then reconcile and publish gold, all in one
SparkSession and under the date's stage locks; then print a summary table.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick_spark import gold_db, lake, quality, session, stage_lock
from tripclick_spark.jobs import bronze, gold, reconcile, silver

# The stages run-day runs, by the names their locks have (their Job names).
RUN_DAY_STAGES = ("silver", "bronze", "gold", "reconcile")


@dataclass
class Stage:
    name: str
    seconds: float
    records: int | None = None
    note: str = ""


@dataclass
class DayResult:
    event_date: str
    stages: list[Stage] = field(default_factory=list)
    reconciliation: dict[str, Any] = field(default_factory=dict)
    loaded: dict[str, int] = field(default_factory=dict)
    # Wall time of the whole run: less than the stages' sum, since bronze runs alongside.
    seconds: float = 0.0


def day_of(paths: list[Path], explicit: str | None) -> str:
    """The date to process: ``--date``, else the one date in the files' names."""
    if explicit:
        return lake.check_date(explicit)
    from tripclick.producer import date_from_name

    dates = {date_from_name(p) for p in paths}
    if len(dates) != 1 or None in dates:
        names = ", ".join(p.name for p in paths)
        raise UserError(
            f"cannot tell the day from the file names ({names}); give --date YYYY-MM-DD"
        )
    return dates.pop()


def _stage(name: str, fn: Callable[[], Any]) -> tuple[Any, Stage]:
    """Run ``fn``: what it returns, and a stage holding its wall time."""
    started = time.monotonic()
    out = fn()
    return out, Stage(name, round(time.monotonic() - started, 2))


def _timed(result: DayResult, name: str, fn: Callable[[], Any]) -> Any:
    out, stage = _stage(name, fn)
    result.stages.append(stage)
    return out


def _bronze_alongside(spark, settings: Settings, day: str) -> Stage:
    """Bronze in its own job group (a failure elsewhere cancels it) and pool, timed."""
    spark.sparkContext.setJobGroup(_bronze_group(day), f"run-day bronze {day}")
    # Shares the cores fairly with silver's and gold's jobs (session.local_conf).
    spark.sparkContext.setLocalProperty("spark.scheduler.pool", "alongside")
    # Not _timed: the main thread appends to result.stages meanwhile.
    n, stage = _stage("bronze", lambda: bronze.run(spark, settings, day))
    stage.records, stage.note = n, "alongside"
    return stage


def _bronze_group(day: str) -> str:
    return f"run-day-bronze-{day}"


def _produce_file(job: tuple[Path, str, str, Settings]) -> Any:
    from tripclick.producer import produce_files

    path, source, event_date, settings = job
    try:
        return produce_files([path], mode="batch", source=source, day=event_date, settings=settings)
    except UserError:
        raise
    except Exception as err:  # noqa: BLE001 - the pool pickles what a worker raises
        # Some errors (confluent-kafka's KafkaError) do not pickle: the parent would only
        # say so. A UserError carries the message itself.
        raise UserError(f"producing {path} failed: {type(err).__name__}: {err}") from None


def produce(settings: Settings, paths: list[Path], event_date: str) -> tuple[int, int, int]:
    """Send each file as its own web server (``web-0``, ``web-1``, ...); (lines, valid, rejected).

    The web servers send at the same time, as on the fleet: one process per file, as many
    at once as there are cores. A single file is spread over the cores by the producer.
    """
    jobs = [(path, f"web-{i}", event_date, settings) for i, path in enumerate(paths)]
    if len(jobs) == 1:
        summaries = [_produce_file(jobs[0])]
    else:
        pool = multiprocessing.get_context("spawn").Pool(min(len(jobs), os.cpu_count() or 1))
        try:
            summaries = pool.map(_produce_file, jobs, chunksize=1)
        finally:
            # A Ctrl-C reaches the workers too: each flushes what it accepted and returns.
            pool.close()
            pool.join()
    for (path, *_), summary in zip(jobs, summaries, strict=True):
        if not summary.ok:
            raise UserError(f"producing {path} failed: {summary.line()}")
    return (
        sum(s.lines for s in summaries),
        sum(s.valid for s in summaries),
        sum(s.rejected for s in summaries),
    )


def run(
    settings: Settings,
    paths: list[Path],
    event_date: str | None = None,
    *,
    spark=None,
    max_offsets_per_trigger: int | None = None,
    reconcile_failure_raises: bool = True,
    produce_input: bool = True,
) -> DayResult:
    """Run the whole day; raises ReconciliationError (after recording the stages) on a mismatch.

    ``produce_input=False`` skips producing (the day is in Kafka already) and needs ``event_date``.
    """
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.is_file():
            raise UserError(f"input file {p} does not exist; check --input")
    day = day_of(paths, event_date)
    result = DayResult(day)
    started, started_at = time.monotonic(), dt.datetime.now(dt.UTC)
    try:
        # The stages' own locks (runner.Job takes one each): no other run of this date's
        # silver, bronze, gold or reconcile may interleave with this one.
        with stage_lock.held(settings, RUN_DAY_STAGES, day):
            _run_stages(result, settings, paths, spark, max_offsets_per_trigger, produce_input)
    except reconcile.ReconciliationError:
        if reconcile_failure_raises:
            raise
    finally:
        result.seconds = round(time.monotonic() - started, 2)
        _record(settings, result, started_at)
    return result


def _record(settings: Settings, result: DayResult, started_at: dt.datetime) -> None:
    """Each stage's time in ``gold.stage_runs`` (the operations dashboard), at the run's start."""
    runs = [
        (s.name, s.seconds, not s.note.endswith("FAILED"))
        for s in result.stages
        if s.name in ("produce", *RUN_DAY_STAGES)
    ]
    if runs:
        gold_db.record_stage_runs(settings, result.event_date, started_at, runs)


def _run_stages(result, settings, paths, spark, max_offsets_per_trigger, produce_input) -> None:
    day = result.event_date

    if produce_input:
        lines, valid, rejected = _timed(result, "produce", lambda: produce(settings, paths, day))
        result.stages[-1].records = lines
        result.stages[-1].note = f"{valid} valid, {rejected} rejected lines"

    if spark is None:
        spark = _timed(result, "spark start", lambda: session.build(settings, f"run-day-{day}"))
        spark.sparkContext.setLogLevel("WARN")

    # Bronze only needs Kafka, so it runs alongside silver and gold: their driver-side
    # work (the live marts' and the marts' COPY into PostgreSQL) leaves the executors idle,
    # and bronze's tasks fill that time.
    with ThreadPoolExecutor(1, thread_name_prefix="run-day-bronze") as alongside:
        bronze_stage = alongside.submit(_bronze_alongside, spark, settings, day)
        try:
            s = _timed(
                result,
                "silver",
                lambda: silver.run(
                    spark,
                    settings,
                    day,
                    available_now=True,
                    max_offsets_per_trigger=max_offsets_per_trigger,
                ),
            )
            result.stages[-1].records = s.silver_rows
            result.stages[-1].note = f"{s.quarantined_rows} quarantined, {s.batches} batches"

            loaded = _timed(result, "gold", lambda: gold.run(spark, settings, day, check=False))
            result.loaded = loaded["loaded"]
            result.stages[-1].records = result.loaded["mart_daily_traffic"]
            result.stages[-1].note = ", ".join(f"{k} {v}" for k, v in result.loaded.items())

            waited = time.monotonic()
            stage = bronze_stage.result()
        except BaseException:
            spark.sparkContext.cancelJobGroup(_bronze_group(day))
            raise
        stage.note += f" (then waited {time.monotonic() - waited:.1f} s)"
        result.stages.insert(len(result.stages) - 1, stage)  # silver, bronze, gold

    started = time.monotonic()
    try:
        # Gold is staged so far: it is published only if the reconciliation and the
        # data-quality gates pass.
        result.reconciliation = gold.reconcile_and_publish(spark, settings, day)
    except (reconcile.ReconciliationError, quality.QualityGateFailed) as err:
        result.stages.append(
            Stage("reconcile", round(time.monotonic() - started, 2), note="FAILED")
        )
        result.reconciliation = {"passed": False, "error": str(err)}
        raise
    warnings = quality.warned(result.reconciliation["quality"])
    note = "passed, quality gates passed" + (
        f" (warnings: {', '.join(warnings)})" if warnings else ""
    )
    result.stages.append(Stage("reconcile", round(time.monotonic() - started, 2), note=note))


def reconciliation_line(rec: dict[str, Any]) -> str:
    """The reconciliation report's counts on one line, and whether they hold."""
    counts = (
        "kafka_records",
        "bronze_records",
        "bronze_distinct",
        "silver_records",
        "quarantine_distinct",
        "gold_total_events",
    )
    return (
        "reconciliation: "
        + ", ".join(f"{k} {rec[k]:,}" for k in counts if k in rec)
        + (" -> passed" if rec.get("passed") else " -> FAILED")
    )


def summary_table(result: DayResult, settings: Settings) -> str:
    """The run as a plain-text table, with where to look at the results."""
    rows = [f"{'stage':<12} {'seconds':>8} {'records':>10}  notes"]
    for s in result.stages:
        records = "" if s.records is None else f"{s.records:,}"
        rows.append(f"{s.name:<12} {s.seconds:>8.1f} {records:>10}  {s.note}")
    rows.append(f"{'total':<12} {result.seconds:>8.1f}")
    rec = result.reconciliation
    if "kafka_records" in rec:
        rows.append("")
        rows.append(reconciliation_line(rec))
    d = result.event_date
    rows += [
        "",
        f"lake         {settings.lake_root}",
        f"  silver     {lake.partition(settings, lake.SILVER, d)}",
        f"  bronze     {lake.partition(settings, lake.BRONZE, d)}",
        f"  quarantine {lake.partition(settings, lake.QUARANTINE, d)}",
        f"  report     {lake.report(settings, d)}",
        f"  quality    {lake.quality_report(settings, d)}",
        f"gold db      postgresql://{settings.pg_user}@{settings.pg_host}:{settings.pg_port}/"
        f"{settings.pg_database} (schema gold)",
        f"marts        tripclick gold dump --date {d}",
        f"checks       tripclick quality --date {d}",
    ]
    return "\n".join(rows)
