"""The daily DAG end to end: ``airflow dags test tripclick_daily_pipeline`` on the local stack.

The day is compressed (time scale 120: producers and the silver stream for 30 s,
bronze 60 s and gold 90 s after the run starts); the deferred sensors really wait.
The sample day (2016-01-01) is replayed onto DATE, which no other test uses, so the
gold marts and the reconciliation checked here are this run's.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from airflow_run import REPO, run_airflow

pytestmark = [pytest.mark.stack, pytest.mark.slow]

DATE = "2016-02-29"
SAMPLE_DAY = "2016-01-01"
SAMPLE_RECORDS = 562  # 374 + 188 lines, all valid, no repeated click


@pytest.mark.timeout(2400)
def test_daily_pipeline_fills_gold_and_reconciles(
    stack_services, sample_files, airflow_env, airflow_bin
):
    settings = stack_services
    env = {
        **airflow_env,
        "TRIPCLICK_TIME_SCALE": "120",
        "TRIPCLICK_INPUT_DIR": str(sample_files[0].parent),
        "TRIPCLICK_SOURCE_DATE": SAMPLE_DAY,
        "TRIPCLICK_RUNTIME": "local",
    }
    done = run_airflow(
        env, [str(airflow_bin / "airflow"), "dags", "test", "tripclick_daily_pipeline", DATE], 2200
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]

    # Every stage ran, in order, with the compressed plan; the waits were deferred.
    assert f"plan for {DATE} (Asia/Seoul, daily, time scale 120)" in out
    started = [m.group(1) for m in re.finditer(r"running: \S+/tripclick (\w+(?: load)?)", out)]
    # The stream stage's three tasks in any order (they run side by side under a scheduler).
    assert sorted(started[:3]) == ["produce", "produce", "silver"]
    assert started[3:] == ["bronze", "silver", "gold load"]
    for sensor in ("wait_for_bronze_start", "wait_for_gold_start"):
        assert re.search(rf"Pausing task as DEFERRED.*task_id={sensor}", out), sensor
    assert f"gold {DATE}: reconciliation passed" in out
    assert f"TRIPCLICK RESULT {DATE} gold" in out

    # The gold marts of the day, read back from PostgreSQL.
    dump = subprocess.run(
        [str(REPO / ".venv" / "bin" / "tripclick"), "gold", "dump", "--date", DATE],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    marts = json.loads(dump.stdout)
    (traffic,) = marts["mart_daily_traffic"]
    assert traffic["total_events"] == SAMPLE_RECORDS
    assert traffic["peak_hour"] == 6  # the 15:00-16:00 Seoul window is 06:00-07:00 UTC
    assert sum(s["click_count"] for s in marts["mart_session_analysis"]) == SAMPLE_RECORDS
    assert len(marts["mart_session_analysis"]) == traffic["unique_sessions"]
    assert marts["mart_clinical_areas"] and marts["mart_popular_documents"]
    assert marts["mart_popular_documents"][0]["rank"] == 1

    from tripclick_spark import gold_db

    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select passed, bronze_distinct, silver_records, quarantine_distinct, gold_total_events"
            " from gold.reconciliation where event_date = %s",
            (DATE,),
        )
        passed, bronze_distinct, silver, quarantined, gold_total = cur.fetchone()
    assert passed is True
    assert bronze_distinct == silver + quarantined == SAMPLE_RECORDS
    assert gold_total == silver
