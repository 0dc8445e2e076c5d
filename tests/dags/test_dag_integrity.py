"""DAG integrity: every DAG parses as Airflow parses it, with the house rules kept.

The DAG folder is loaded by ``dags/tripclick_dags/dagbag_report.py`` in the Airflow
environment, which records any Variable/Connection lookup, process or network
connection made while the files are parsed.
"""

from __future__ import annotations

import itertools
import json

import pytest
from airflow_run import DAGS, run_airflow

STAGE_DAGS = ("tripclick_produce", "tripclick_silver", "tripclick_bronze", "tripclick_gold")
ALL_DAGS = ("tripclick_daily_pipeline", "tripclick_maintenance", *STAGE_DAGS)


@pytest.fixture(scope="module")
def bag(airflow_env, airflow_bin, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("dagbag") / "report.json"
    # The defaults are what is checked: no schedule setting leaks in from the caller.
    env = {k: v for k, v in airflow_env.items() if not k.startswith("AIRFLOW_VAR_")}
    for name in ("TIMEZONE", "STREAM_START", "BRONZE_START", "GOLD_START", "STREAM_MINUTES"):
        env.pop(f"TRIPCLICK_{name}", None)
    done = run_airflow(
        env,
        [str(airflow_bin / "python"), str(DAGS / "tripclick_dags" / "dagbag_report.py"), str(out)],
        300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_every_dag_imports_without_error_or_work(bag):
    assert bag["import_errors"] == {}
    assert bag["import_time_calls"] == []
    assert sorted(bag["dags"]) == sorted(ALL_DAGS)


@pytest.mark.parametrize("dag_id", ALL_DAGS)
def test_dag_follows_the_house_rules(bag, dag_id):
    dag = bag["dags"][dag_id]
    assert "tripclick" in dag["tags"]
    assert dag["catchup"] is False
    assert dag["doc_md"]
    assert dag["start_date_aware"] is True
    assert dag["timezone"] == "Asia/Seoul"
    for task_id, task in dag["tasks"].items():
        assert task["retries"] >= 2, task_id
        assert task["retry_exponential_backoff"] > 1, task_id
        assert task["execution_timeout_s"], task_id
        assert task["on_failure_callback"], task_id


def test_stage_dags_run_only_when_triggered(bag):
    for dag_id in STAGE_DAGS:
        assert "NullTimetable" in bag["dags"][dag_id]["timetable"]


def test_daily_pipeline_runs_the_stages_in_order(bag):
    tasks = bag["dags"]["tripclick_daily_pipeline"]["tasks"]
    stream = ["produce_web_0", "produce_web_1", "silver_stream"]
    assert tasks["wait_for_stream_start"]["downstream"] == sorted(stream)
    for task_id in stream:
        assert tasks[task_id]["upstream"] == ["plan_day", "wait_for_stream_start"]
        assert tasks[task_id]["downstream"] == ["wait_for_bronze_start"]
    chain = [
        "wait_for_bronze_start",
        "bronze",
        "check_bronze",
        "wait_for_gold_start",
        "silver_catch_up",
        "gold_load",
        "report",
    ]
    for before, after in itertools.pairwise(chain):
        assert tasks[before]["downstream"] == [after], before
    assert tasks["report"]["downstream"] == []


def test_daily_pipeline_waits_deferred_for_the_configured_times(bag):
    dag = bag["dags"]["tripclick_daily_pipeline"]
    # Due when the stream starts: 15:00 in the schedule's zone.
    assert "'0 15 * * *'" in dag["timetable"] and "Asia/Seoul" in dag["timetable"]
    for moment in ("stream_start", "bronze_start", "gold_start"):
        sensor = dag["tasks"][f"wait_for_{moment}"]
        assert sensor["operator"] == "DateTimeSensorAsync"
        assert sensor["defers"] is True
        assert f"['{moment}']" in sensor["target_time"]
    plan = bag["default_plan"]
    assert plan["date"] == "2016-01-01"
    assert plan["stream_start"] == "2016-01-01T15:00:00+09:00"
    assert plan["stream_end"] == "2016-01-01T16:00:00+09:00"
    assert plan["bronze_start"] == "2016-01-01T17:00:00+09:00"
    assert plan["gold_start"] == "2016-01-01T18:00:00+09:00"


def test_maintenance_backs_up_then_prunes_every_night(bag):
    dag = bag["dags"]["tripclick_maintenance"]
    assert "'0 3 * * *'" in dag["timetable"] and "Asia/Seoul" in dag["timetable"]
    tasks = dag["tasks"]
    assert tasks["backup_gold"]["downstream"] == ["prune_live"]
    assert tasks["prune_live"]["downstream"] == []
