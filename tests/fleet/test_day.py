"""The day on the fleet, driven through Airflow's REST API from this machine (`make fleet-day`).

The sample files the converge delivered to the web hosts run as a backfill of 2016-01-01 (the
files as they are, no waits): gold equal, row for row, to the marts DuckDB computes from the
same files (bench/duckdb_marts.py, an implementation of the contract independent of Spark's),
and the reconciliation passed. Then a stage task stopped from outside (a stream marked
failed) takes its remote driver with it, the schedule as Airflow reports it, and the daily
dashboard in Chromium through the jump host's tunnel to Superset. (The compressed day, with a
broker stopped while it produces, is `make fleet-day` without MODE; it is left out here for
the suite's time.)
"""

from __future__ import annotations

import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

import pytest
import yaml
from dashboard_page import CHARTS, chart_names_and_errors, rendered_dashboard
from duckdb_marts import as_dump, duckdb_marts
from fleet_tools import on

from tripclick_devstack.fleet import day, operate
from tripclick_devstack.fleet.access import Access
from tripclick_devstack.fleet.hcl import REPO

# A test waits for its day on the fleet (about 6 min each).
pytestmark = [pytest.mark.slow, pytest.mark.stack, pytest.mark.timeout(2400)]

SAMPLE_DATE = "2016-01-01"  # the files' own date (tripclick_source_date of the converge)
ORPHAN_DATE = "2016-01-04"  # a stream stopped from outside; it never finishes
SAMPLE_CLICKS = 562
TIME_SCALE = 120
RUN_TIMEOUT = 1500
# The driver's JVM (spark-submit's client mode). "[S]" keeps the pattern from matching the
# command lines of the sudo and shell that run pgrep or pkill with it.
SILVER_DRIVER = r"org\.apache\.spark\.deploy\.[S]parkSubmit .*jobs/silver\.py"
GROUP_VARS = REPO / "ansible" / "group_vars" / "all" / "main.yml"
ARTIFACTS = REPO / "test-artifacts" / "fleet"


def _normalise(dump: dict) -> dict:
    """Round durations (float) so both sides compare exactly, and sort each mart's rows."""
    for rows in dump.values():
        for row in rows:
            if "session_duration_sec" in row:
                row["session_duration_sec"] = round(row["session_duration_sec"], 3)
        rows.sort(key=lambda row: json.dumps(row, sort_keys=True))
    return dump


@pytest.fixture(scope="module")
def access(fleet, converged) -> Access:
    return Access(fleet)


@pytest.fixture(scope="module")
def airflow(access, secrets):
    """Airflow's API through the jump host's tunnel, logged in as the administrator."""
    port = access.fleet.topology.ports["airflow_ui"]
    with access.tunnel(access.address("airflow"), port) as local:
        yield operate.airflow_api(access, secrets, local)


def _gold(access, secrets, date: str) -> dict:
    return json.loads(operate.gold_dump(access, secrets, date))


def _passed(result: dict) -> None:
    assert result["state"] == "success", json.dumps(result["tasks"], indent=1)
    report = result["reconciliation"]
    assert report["passed"] is True, report


@pytest.fixture(scope="module")
def backfill(fleet, airflow):
    # The fleet's own 15:00 run may be going when the suite reaches this (CI at 06:00 UTC).
    result = day.run(
        fleet, airflow, SAMPLE_DATE, "backfill", TIME_SCALE, RUN_TIMEOUT, stop_scheduled=True
    )
    # The day's wall time, each task's state, tries and seconds, and the reconciliation.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "day-backfill.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def test_the_backfilled_sample_day_gives_the_marts_of_the_contract(
    backfill, access, secrets, sample_files
):
    _passed(backfill)
    tasks = {t["task_id"]: t for t in backfill["tasks"]}
    # A backfill has no waits: the sensors succeed at once.
    assert all(tasks[w]["state"] == "success" for w in tasks if w.startswith("wait_for_"))
    assert backfill["reconciliation"]["silver_records"] == SAMPLE_CLICKS

    expected = _normalise(as_dump(duckdb_marts(sample_files)[1]))
    assert expected["mart_daily_traffic"][0]["total_events"] == SAMPLE_CLICKS
    assert _normalise(_gold(access, secrets, SAMPLE_DATE)) == expected


def test_a_killed_task_leaves_no_driver_on_the_spark_master(fleet, airflow, backfill):
    """A task ended from outside (a timeout, or marked failed as here: either way its process
    ends and its SSH session closes) takes its remote spark-submit with it (get_pty)."""
    run_id = airflow.trigger({"date": ORPHAN_DATE, "mode": "daily", "time_scale": 10},
                             dag_id="tripclick_silver")["dag_run_id"]  # fmt: skip
    driver = f"{SILVER_DRIVER}.*--date {ORPHAN_DATE}"
    deadline = time.monotonic() + 300
    while on(fleet, "spark-master-0", f"pgrep -f '{driver}'").returncode != 0:
        assert time.monotonic() < deadline, "the silver driver did not start in 300 s"
        time.sleep(2)
    airflow.set_task_state(run_id, "silver_stream", "failed", dag_id="tripclick_silver")
    deadline = time.monotonic() + 120
    while on(fleet, "spark-master-0", f"pgrep -f '{driver}'").returncode == 0:
        assert time.monotonic() < deadline, "the driver outlived its task by 120 s"
        time.sleep(2)
    assert airflow.run(run_id, dag_id="tripclick_silver")["state"] == "failed"


# ---------------------------------------------------------- schedule and dashboards


def test_the_daily_dag_is_unpaused_and_due_at_15_00(airflow):
    dag = airflow.dag()
    assert dag["is_paused"] is False
    zone = ZoneInfo(yaml.safe_load(GROUP_VARS.read_text())["tripclick_timezone"])
    due = dt.datetime.fromisoformat(dag["next_dagrun_run_after"]).astimezone(zone)
    assert (due.hour, due.minute) == (15, 0), due
    assert due > dt.datetime.now(zone)


def test_superset_serves_the_daily_dashboard_through_the_jump_host(
    access, secrets, backfill, capsys
):
    # The daily dashboard only: the live one shows the last hour and day of clicks, and the
    # replayed days on the fleet are 2016's.
    slug = "tripclick-daily"
    _passed(backfill)  # gold has the backfilled day
    port = access.fleet.topology.ports["superset"]
    user = operate.role_default(operate.SUPERSET_DEFAULTS, "superset_admin_user")
    password = secrets["vault_superset_admin_password"]
    with access.tunnel(access.address("gold"), port) as local:
        url = f"http://127.0.0.1:{local}"
        with rendered_dashboard(url, user, password, slug, capsys, artifacts="fleet") as (
            page,
            data_calls,
        ):
            names, errors = chart_names_and_errors(page)
    assert errors == []
    assert sorted(names) == sorted(CHARTS[slug])
    assert data_calls and all(status == 200 for _, status in data_calls), data_calls
