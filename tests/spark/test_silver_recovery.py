"""The silver query killed with SIGKILL mid-stream resumes from its checkpoint:
no click lost, none doubled, every bad record quarantined once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pipeline_env import env_of

from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import run_day
from tripclick_spark import lake
from tripclick_spark.jobs import silver

pytestmark = [pytest.mark.stack, pytest.mark.slow]

DATE = "2016-04-01"
BATCH = 300


def _silver_cmd() -> list[str]:
    return [
        sys.executable, "-m", "tripclick_devstack.cli", "silver", "--date", DATE,
        "--available-now", "--max-offsets-per-trigger", str(BATCH),
    ]  # fmt: skip


def _committed(checkpoint: Path) -> int:
    commits = checkpoint / "commits"
    return len([p for p in commits.glob("[0-9]*")]) if commits.is_dir() else 0


def test_silver_killed_mid_stream_resumes_exactly(spark, pipeline, tmp_path):
    summary = generate_day(
        DaySpec(
            day=dt.date.fromisoformat(DATE),
            records=1500,
            seed=5,
            duplicate_rate=0.05,
            malformed_rate=0.01,
        ),
        tmp_path / "day",
    )
    run_day.produce(pipeline, summary.files, DATE)
    checkpoint = Path(lake.checkpoint(pipeline, silver.JOB, DATE))
    log = tmp_path / "silver-1.log"

    with open(log, "wb") as out:
        proc = subprocess.Popen(
            _silver_cmd(), env=env_of(pipeline), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 300
            while _committed(checkpoint) < 2 and proc.poll() is None:
                if time.monotonic() > deadline:
                    pytest.fail(f"silver committed no batch in 300 s; see {log}")
                time.sleep(0.2)
            assert proc.poll() is None, f"silver ended before it could be killed; see {log}"
            # The whole process group: the Python driver and its JVM.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    batches = -(-summary.lines // BATCH)
    done_before = _committed(checkpoint)
    assert done_before < batches, "the kill came after the last batch"

    again = subprocess.run(
        _silver_cmd(), env=env_of(pipeline), capture_output=True, text=True, timeout=600
    )
    assert again.returncode == 0, again.stdout + again.stderr

    clicks = silver.read_silver(spark, pipeline, DATE)
    assert clicks.count() == summary.valid
    assert clicks.select("dedup_key").distinct().count() == summary.valid
    bad = silver.read_quarantine(spark, pipeline, DATE)
    assert bad.count() == summary.malformed
    assert bad.select("kafka_partition", "kafka_offset").distinct().count() == summary.malformed
