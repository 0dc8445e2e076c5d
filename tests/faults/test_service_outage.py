"""A service of the stack stopped while silver streams a date, then started again.

- PostgreSQL: the live marts of the batches it missed are marked pending and silver goes on
  (the lake never waits for the gold database); once it is back, the next batch stores
  them, in order. Afterwards silver, quarantine and the live marts hold each distinct
  click exactly once. (Before, the first missed batch failed the query, and the day's
  bronze and gold with it.)
- Kafka: the query waits for the broker and resumes; nothing is lost or doubled.

Silver runs as its own process through the CLI, a few hundred records per micro-batch, so
the outage falls between batches of one run. Once its committed offsets reach the end of the
topic, SIGTERM ends its window early (between batches, exit 143); every wait is bounded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import run_day
from tripclick_devstack.stack.kafka import Kafka
from tripclick_devstack.stack.postgres import Postgres
from tripclick_spark import gold_db, lake, live_marts
from tripclick_spark.jobs import silver

pytestmark = [pytest.mark.stack, pytest.mark.slow, pytest.mark.timeout(900)]

CLICKS = 1500
PER_BATCH = 150  # ten batches or so, two seconds apart
# The query's window: the whole date, outage included, fits well inside; once it is caught
# up the run is ended by SIGTERM, so the window is only the bound.
RUN_SECONDS = 400


# A window of a few hundred records per micro-batch, so an outage falls between batches.
WINDOW = ["--duration-seconds", str(RUN_SECONDS), "--trigger-seconds", "2",
          "--max-offsets-per-trigger", str(PER_BATCH)]  # fmt: skip


def _silver_command(date: str, mode: list[str] = WINDOW) -> list[str]:
    return [sys.executable, "-m", "tripclick_devstack.cli", "silver", "--date", date, *mode]


def _env(settings) -> dict[str, str]:
    return {
        **os.environ,
        "TRIPCLICK_TOPIC": settings.topic,
        "TRIPCLICK_LAKE_ROOT": settings.lake_root,
    }


def _committed(settings, date: str) -> int:
    """Micro-batches the query has committed (its checkpoint's ``commits`` entries)."""
    commits = Path(lake.checkpoint(settings, silver.JOB, date)) / "commits"
    return sum(1 for p in commits.glob("[0-9]*")) if commits.is_dir() else 0


def _end_offsets(settings) -> dict[str, int]:
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": "probe"})
    try:
        partitions = consumer.list_topics(settings.topic, timeout=10).topics[settings.topic]
        return {
            str(p): consumer.get_watermark_offsets(TopicPartition(settings.topic, p), timeout=10)[1]
            for p in partitions.partitions
        }
    finally:
        consumer.close()


def _caught_up(settings, date: str, end: dict[str, int]) -> bool:
    """The query's last committed batch read every partition to ``end``."""
    root = Path(lake.checkpoint(settings, silver.JOB, date))
    done = [int(p.name) for p in (root / "commits").glob("[0-9]*")]
    if not done:
        return False
    # offsets/N: a version line, the batch's metadata, then each source's offsets.
    offsets = json.loads((root / "offsets" / str(max(done))).read_text().splitlines()[-1])
    return offsets.get(settings.topic) == end


def _wait_for(condition, seconds: float, what: str, proc, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, f"silver ended early ({what}); see {log}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {what} in {seconds:g} s; see {log}"
        time.sleep(0.2)


def _live_clicks(settings, date: str) -> int:
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select coalesce(sum(clicks), 0) from gold.live_session_minutes where event_date = %s",
            (date,),
        )
        return int(cur.fetchone()[0])


def _day(tmp_path: Path, date: str, seed: int):
    spec = DaySpec(dt.date.fromisoformat(date), CLICKS, seed=seed, duplicate_rate=0.05,
                   malformed_rate=0.02)  # fmt: skip
    return generate_day(spec, tmp_path / "day")


def _stream_through(settings, date: str, service, tmp_path: Path, outage_batches: int) -> str:
    """Run silver, stop ``service`` after its first batch, start it again once ``outage_batches``
    more were committed (or, for a service silver cannot go on without, after a fixed
    pause), end its window by SIGTERM once it has read the whole topic; silver's output."""
    log = tmp_path / "silver.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            _silver_command(date), env=_env(settings), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            _wait_for(lambda: _committed(settings, date) >= 1, 300, "first batch", proc, log)
            service.stop()
            try:
                if outage_batches:
                    before = _committed(settings, date)
                    _wait_for(
                        lambda: _committed(settings, date) >= before + outage_batches,
                        120, "batch during the outage", proc, log,
                    )  # fmt: skip
                else:
                    time.sleep(15)
                    assert proc.poll() is None, f"silver ended in the outage; see {log}"
            finally:
                service.ensure_started()
            end = _end_offsets(settings)
            _wait_for(lambda: _caught_up(settings, date, end), RUN_SECONDS, "catch-up", proc, log)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = log.read_text()
    assert proc.returncode == 143, output
    assert f"silver {date}: stopped by SIGTERM before its window ended" in output, output
    return output


def test_postgresql_stopped_mid_stream_leaves_the_lake_whole_and_the_live_marts_caught_up(
    spark, pipeline, tmp_path
):
    date = "2099-07-01"
    day = _day(tmp_path, date, seed=71)
    run_day.produce(pipeline, day.files, date)

    output = _stream_through(pipeline, date, Postgres(pipeline), tmp_path, outage_batches=2)

    assert f"live marts for {date} batch" in output and "pending" in output, output
    assert silver.read_silver(spark, pipeline, date).count() == day.valid
    assert silver.read_quarantine(spark, pipeline, date).count() == day.malformed
    assert _live_clicks(pipeline, date) == day.valid
    assert silver.live_feed(spark, pipeline, date).pending_batches() == []


def test_kafka_stopped_mid_stream_loses_and_doubles_nothing(spark, pipeline, tmp_path):
    date = "2099-07-02"
    day = _day(tmp_path, date, seed=72)
    run_day.produce(pipeline, day.files, date)

    _stream_through(pipeline, date, Kafka(pipeline), tmp_path, outage_batches=0)

    clicks = silver.read_silver(spark, pipeline, date)
    assert clicks.count() == day.valid
    assert clicks.select("dedup_key").distinct().count() == day.valid
    assert silver.read_quarantine(spark, pipeline, date).count() == day.malformed
    assert _live_clicks(pipeline, date) == day.valid


def test_postgresql_down_before_silver_starts_stops_nothing(spark, pipeline, tmp_path):
    """The stage lock is the host's and the live marts wait: silver runs the whole date with
    the gold database down, and its next run stores the marts once it is back."""
    date = "2099-07-03"
    # The stack's database outlives a session's topic and lake: start the date's marts empty.
    with gold_db.connect(pipeline) as conn, conn, conn.cursor() as cur:
        for table in live_marts.PARTIALS:
            cur.execute(f"delete from gold.{table} where event_date = %s", (date,))
    day = _day(tmp_path, date, seed=73)
    run_day.produce(pipeline, day.files, date)
    catch_up = _silver_command(date, ["--available-now"])
    postgres = Postgres(pipeline)
    postgres.stop()
    try:
        first = subprocess.run(
            catch_up, env=_env(pipeline), capture_output=True, text=True, timeout=600
        )
    finally:
        postgres.ensure_started()
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "are pending (the gold database was unreachable)" in first.stdout, first.stdout
    assert silver.read_silver(spark, pipeline, date).count() == day.valid
    assert _live_clicks(pipeline, date) == 0

    again = subprocess.run(
        catch_up, env=_env(pipeline), capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert _live_clicks(pipeline, date) == day.valid
    assert silver.live_feed(spark, pipeline, date).pending_batches() == []
