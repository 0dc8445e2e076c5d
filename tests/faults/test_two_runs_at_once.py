"""Two runs of one stage and date at once: the second waits for the first, or, once its wait
is over, refuses in one line naming the holder (a real second process through the CLI). Either way the date holds exactly one run's
output: silver and the live marts count each distinct click once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import run_day
from tripclick_spark import gold_db, stage_lock
from tripclick_spark.jobs import silver

pytestmark = [pytest.mark.stack, pytest.mark.slow]

DATE = "2099-06-01"


def _env(settings, wait_seconds: int) -> dict[str, str]:
    return {
        **os.environ,
        "TRIPCLICK_TOPIC": settings.topic,
        "TRIPCLICK_LAKE_ROOT": settings.lake_root,
        "TRIPCLICK_STAGE_LOCK_WAIT_SECONDS": str(wait_seconds),
    }


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tripclick_devstack.cli", *args]


def _live_clicks(settings) -> int:
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select coalesce(sum(clicks), 0) from gold.live_session_minutes where event_date = %s",
            (DATE,),
        )
        return int(cur.fetchone()[0])


def test_a_second_run_waits_then_finds_the_date_done(spark, pipeline, tmp_path):
    day = generate_day(
        DaySpec(
            dt.date.fromisoformat(DATE), 400, seed=23, duplicate_rate=0.05, malformed_rate=0.02
        ),
        tmp_path / "day",
    )
    run_day.produce(pipeline, day.files, DATE)
    order: list[str] = []
    waiting = threading.Event()

    def second_run() -> silver.SilverRun:
        # Its own open lock file, as another process would have: a flock is per open file.
        with stage_lock.held(pipeline, "silver", DATE, wait_seconds=300, on_wait=waiting.set):
            order.append("second")
            return silver.run(spark, pipeline, DATE, available_now=True)

    with ThreadPoolExecutor(1) as pool:
        with stage_lock.held(pipeline, "silver", DATE):
            second = pool.submit(second_run)
            assert waiting.wait(60), "the second run never asked for the lock"
            assert not second.done()
            first = silver.run(spark, pipeline, DATE, available_now=True)
            order.append("first")
        again = second.result(timeout=300)
    assert order == ["first", "second"]
    assert (first.silver_rows, first.quarantined_rows) == (day.valid, day.malformed)
    # The second run resumed from the first one's checkpoint: nothing was left to do.
    assert (again.silver_rows, again.quarantined_rows) == (0, 0)
    assert silver.read_silver(spark, pipeline, DATE).count() == day.valid
    assert silver.read_quarantine(spark, pipeline, DATE).count() == day.malformed
    assert _live_clicks(pipeline) == day.valid


def test_a_second_run_past_its_wait_refuses_naming_the_holder(pipeline):
    with stage_lock.held(pipeline, ["gold", "silver"], DATE):
        started = time.monotonic()
        done = subprocess.run(
            _cli("gold", "load", "--date", DATE),
            env=_env(pipeline, 1), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        waited = time.monotonic() - started
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(
        f"tripclick gold: error: gold for {DATE} is already running: "
        f"tripclick gold+silver {DATE} pid {os.getpid()}@"
    ), lines[0]
    assert "waited 1 s" in lines[0]
    assert waited < 30  # refused before any Spark started
