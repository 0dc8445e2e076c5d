"""The Airflow path of a backfill: Airflow 3's ``backfill create`` of the daily DAG.

The range is checked before Airflow sees it; Airflow itself lists the runs it would create
(``--dry-run``: creating them needs a scheduler to run them, which the fleet has); and the
run type Airflow gives a backfill's runs is the one the DAG plans in backfill mode.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from airflow_run import REPO, run_airflow

from tripclick_dags.plan import BACKFILL, BACKFILL_RUN_TYPE, DAILY, run_mode

pytestmark = pytest.mark.stack


def _module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tripclick_devstack.airflow_backfill", *args],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip


def test_a_backfill_run_plans_in_backfill_mode_whatever_the_form_says():
    assert run_mode(BACKFILL_RUN_TYPE, DAILY) == BACKFILL
    assert run_mode("manual", BACKFILL) == BACKFILL
    assert run_mode("scheduled", DAILY) == DAILY
    assert run_mode("manual", None) == DAILY


def test_airflow_names_a_backfill_run_as_the_dag_expects(airflow_bin):
    done = subprocess.run(
        [str(airflow_bin / "python"), "-c",
         "from airflow.utils.types import DagRunType; print(DagRunType.BACKFILL_JOB.value)"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == BACKFILL_RUN_TYPE


@pytest.mark.parametrize(
    ("first", "last", "says"),
    [
        ("2016-03-05", "2016-03-01", "is before --from"),
        ("2016-03-01", "2999-01-01", "is in the future"),
        ("2016-01-01", "2016-12-31", "more than TRIPCLICK_BACKFILL_MAX_DAYS=31"),
        ("2016-03-01", "yesterday", "is not a date"),
    ],
)
def test_a_bad_range_is_refused_in_one_line(first, last, says):
    done = _module(first, last)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], done.stderr


def test_airflow_lists_one_run_per_date_oldest_first(airflow_env, airflow_bin):
    airflow = str(airflow_bin / "airflow")
    done = run_airflow(airflow_env, [airflow, "dags", "reserialize"], 300)
    assert done.returncode == 0, done.stderr[-3000:]
    args = _module("2016-03-01", "2016-03-03", "--dry-run")
    assert args.returncode == 0, args.stderr
    argv = args.stdout.split()
    assert argv[:4] == ["backfill", "create", "--dag-id", "tripclick_daily_pipeline"]
    assert "--max-active-runs" in argv and argv[argv.index("--max-active-runs") + 1] == "1"

    done = run_airflow(airflow_env, [airflow, *argv], 300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    # Each date's run is due at its 15:00 in Seoul (06:00 UTC); the last date is included.
    dates = re.findall(r"\|\s*(\d{4}-\d{2}-\d{2}) 06:00:00\+00:00\s*\|", done.stdout)
    assert dates == ["2016-03-01", "2016-03-02", "2016-03-03"], done.stdout[-3000:]
