"""The stage commands, written once for both runtimes.

``local`` runs ``tripclick <command> <args>`` as a process; ``aws`` runs the producer
image with the same ``produce`` arguments and ``spark-submit`` of
``spark/tripclick_spark/jobs/<job>.py`` with the same arguments on the Spark master.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tripclick_dags.plan import DayPlan
from tripclick_dags.settings import Settings

SOURCES = ("web-0", "web-1")


@dataclass(frozen=True)
class StageCommand:
    command: tuple[str, ...]  # the `tripclick` sub-command, e.g. ("gold", "load")
    args: tuple[str, ...]
    job: str | None = None  # the Spark job file (without .py) on the aws runtime

    @property
    def argv(self) -> list[str]:
        return [*self.command, *self.args]

    @property
    def job_args(self) -> list[str]:
        """Arguments of the Spark job script ``jobs/<job>.py`` (its flags only)."""
        return list(self.args)


def input_file(input_dir: str, source_date: str, source: str) -> str:
    """web-0 replays ``<day>_part-000.jsonl``, web-1 ``<day>_part-001.jsonl``."""
    part = SOURCES.index(source)
    return f"{input_dir.rstrip('/')}/{source_date}_part-{part:03d}.jsonl"


def produce(settings: Settings, plan: DayPlan, source: str, input_dir: str) -> StageCommand:
    """Replay one web server's log onto the run's date.

    The clicks always land in the configured window (15:00-16:00 by default), so the
    data of a compressed test day is the data of a real one; only the pacing is faster.
    A backfill sends the date's own file as it is (batch mode, the original click times),
    so its gold is comparable with any other run of the same files.
    """
    if plan.backfill:
        args = ["--mode", "batch", "--input", input_file(input_dir, plan.date, source)]
        args += ["--source", source, "--date", plan.date, "--no-progress"]
        return StageCommand(("produce",), tuple(args))
    source_date = settings.source_date or plan.date
    speed = settings.producer_speed or f"{plan.speed:g}"
    args = [
        "--mode",
        "realtime",
        "--input",
        input_file(input_dir, source_date, source),
        "--source",
        source,
        "--date",
        plan.date,
        "--window-start",
        settings.stream_start,
        "--window-minutes",
        str(settings.stream_minutes),
        "--speed",
        speed,
        "--no-progress",
    ]
    return StageCommand(("produce",), tuple(args))


def silver_stream(plan: DayPlan) -> StageCommand:
    """The bounded Kafka -> silver stream that lasts the window (a backfill has none: what
    Kafka holds when it starts, the catch-up takes the rest)."""
    if plan.backfill:
        return silver_catch_up(plan.date)
    seconds = str(max(1, math.ceil(plan.stream_seconds)))
    return StageCommand(("silver",), ("--date", plan.date, "--duration-seconds", seconds), "silver")


def silver_catch_up(date: str) -> StageCommand:
    """Process whatever the stream has not (a late click, a stream that was restarted)."""
    return StageCommand(("silver",), ("--date", date, "--available-now"), "silver")


def bronze(date: str) -> StageCommand:
    return StageCommand(("bronze",), ("--date", date), "bronze")


def gold_load(date: str) -> StageCommand:
    """Marts and the reconciliation report; exits non-zero when the counts disagree."""
    return StageCommand(("gold", "load"), ("--date", date), "gold")


# The nightly upkeep (DAG tripclick_maintenance): tripclick_spark.ops_cli, no Spark.
OPS_MODULE = "tripclick_spark.ops_cli"


def backup_gold(keep: int) -> StageCommand:
    """pg_dump of gold into <lake>/backups/gold/, keeping the newest ``keep``."""
    return StageCommand(("backup", "create"), ("--keep", str(keep)))


def prune_live(keep_hours: int) -> StageCommand:
    """Delete the gold.live_* partials older than ``keep_hours`` before the latest minute."""
    return StageCommand(("prune-live",), ("--keep-hours", str(keep_hours)))
