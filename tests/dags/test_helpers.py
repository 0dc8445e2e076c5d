"""The pure helpers of the DAGs (settings, the day's plan, the stage commands).

They import no Airflow, so they run in the test environment itself.
"""

from __future__ import annotations

import datetime as dt
import shlex

import airflow_run  # noqa: F401  (puts dags/ on the path)
import pytest

from tripclick_dags import aws_runner, commands
from tripclick_dags.plan import DayPlan, make_plan, missed, run_date
from tripclick_dags.settings import SettingError, load

SEOUL = dt.timezone(dt.timedelta(hours=9))


def settings_with(**values: str):
    return load(lambda name: values.get(name))


def test_compressed_day_keeps_the_order_around_the_run_start():
    started = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    plan = make_plan(settings_with(time_scale="120"), "2016-01-01", started)
    assert plan.stream_start == started
    assert plan.stream_seconds == 30
    assert plan.bronze_start - started == dt.timedelta(seconds=60)
    assert plan.gold_start - started == dt.timedelta(seconds=90)


def test_run_date_is_the_logical_date_in_the_schedule_zone():
    # 20:00 UTC on Jan 1 is already Jan 2 in Seoul.
    assert run_date(settings_with(), dt.datetime(2016, 1, 1, 20, tzinfo=dt.UTC)) == "2016-01-02"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"time_scale": "fast"}, "tripclick_time_scale='fast' is not a number"),
        ({"runtime": "k8s"}, "tripclick_runtime='k8s' is unknown"),
        ({"bronze_start": "15:30"}, "the daily flow is out of order"),
        ({"gold_start": "six"}, "tripclick_gold_start='six' is not a time"),
    ],
)
def test_bad_settings_say_what_is_wrong(values, message):
    with pytest.raises(SettingError, match=message):
        make_plan(settings_with(**values), "2016-01-01", dt.datetime.now(dt.UTC))


@pytest.mark.parametrize(
    "date", ["20160101", "2016-W01-5", "2016-02-30", "2016-1-1", " 2016-01-01"]
)
def test_a_date_param_not_written_yyyy_mm_dd_is_refused(date):
    # Python 3.11's date.fromisoformat reads the first two; they must not reach a stage.
    with pytest.raises(SettingError, match=f"date {date!r} is not a date; use YYYY-MM-DD"):
        make_plan(settings_with(), date, dt.datetime.now(dt.UTC))


def test_the_plan_carries_the_canonical_date_to_every_stage():
    plan = make_plan(settings_with(input_dir="/logs"), "2016-01-01", dt.datetime.now(dt.UTC))
    assert plan.date == "2016-01-01"
    assert commands.bronze(plan.date).argv[-2:] == ["--date", "2016-01-01"]


def test_produce_replays_each_web_servers_file_into_the_window():
    s = settings_with(time_scale="60", input_dir="/logs", source_date="2016-01-01")
    plan = make_plan(s, "2026-03-02", dt.datetime.now(dt.UTC))
    argv = commands.produce(s, plan, "web-1", "/logs").argv
    assert argv == [
        "produce",
        "--mode",
        "realtime",
        "--input",
        "/logs/2016-01-01_part-001.jsonl",
        "--source",
        "web-1",
        "--date",
        "2026-03-02",
        "--window-start",
        "15:00",
        "--window-minutes",
        "60",
        "--speed",
        "60",
        "--no-progress",
    ]


def test_spark_stages_use_the_same_flags_locally_and_over_ssh():
    s = settings_with(
        spark_submit="/opt/spark/bin/spark-submit",
        spark_master_url="spark://10.0.2.10:7077",
        spark_jobs_dir="/opt/tripclick/spark/tripclick_spark/jobs",
        spark_env="TRIPCLICK_RUNTIME=aws TRIPCLICK_LAKE_ROOT=s3a://lake",
    )
    gold = commands.gold_load("2026-03-02")
    assert gold.argv == ["gold", "load", "--date", "2026-03-02"]
    assert shlex.split(aws_runner.spark_submit_command(s, gold)) == [
        "env",
        "TRIPCLICK_RUNTIME=aws",
        "TRIPCLICK_LAKE_ROOT=s3a://lake",
        "/opt/spark/bin/spark-submit",
        "--master",
        "spark://10.0.2.10:7077",
        "--name",
        "tripclick-gold",
        "/opt/tripclick/spark/tripclick_spark/jobs/gold.py",
        "--date",
        "2026-03-02",
    ]
    plan = make_plan(s, "2026-03-02", dt.datetime.now(dt.UTC))
    assert commands.silver_stream(plan).argv[-2:] == ["--duration-seconds", "3600"]
    assert commands.silver_catch_up("2026-03-02").argv[-1] == "--available-now"


def test_plan_survives_the_trip_through_xcom():
    plan = make_plan(settings_with(time_scale="30"), "2016-01-01", dt.datetime.now(dt.UTC))
    assert DayPlan.from_xcom(plan.to_xcom()) == plan


def test_backfill_starts_every_stage_at_once_and_sends_the_files_as_they_are():
    started = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    s = settings_with(time_scale="120", source_date="2015-12-31")
    plan = make_plan(s, "2016-01-01", started, mode="backfill")
    assert plan.backfill
    assert plan.stream_start == plan.bronze_start == plan.gold_start == started
    assert plan.stream_seconds == 0
    # The date's own file, its original click times: no window, no speed, no source_date.
    assert commands.produce(s, plan, "web-0", "/data").argv == [
        "produce",
        "--mode",
        "batch",
        "--input",
        "/data/2016-01-01_part-000.jsonl",
        "--source",
        "web-0",
        "--date",
        "2016-01-01",
        "--no-progress",
    ]
    # No stream to wait out: what Kafka holds now, the catch-up takes the rest.
    assert commands.silver_stream(plan).argv[-1] == "--available-now"
    assert DayPlan.from_xcom(plan.to_xcom()) == plan


def test_a_real_time_day_is_missed_once_its_window_has_closed():
    s = settings_with()  # time scale 1, stream 15:00-16:00 Seoul (06:00-07:00 UTC)
    at = dict(tzinfo=dt.UTC)
    plan = make_plan(s, "2026-03-02", dt.datetime(2026, 3, 2, 5, 59, **at))
    assert not missed(plan, dt.datetime(2026, 3, 2, 6, 30, **at))  # late, still in the window
    assert missed(plan, dt.datetime(2026, 3, 2, 7, 1, **at))
    # A compressed day or a backfill is anchored at its run's start: never missed.
    later = dt.datetime(2026, 3, 2, 12, 0, **at)
    assert not missed(make_plan(settings_with(time_scale="120"), "2026-03-02", later), later)
    assert not missed(make_plan(s, "2026-03-02", later, mode="backfill"), later)


def test_an_unknown_mode_is_refused():
    with pytest.raises(SettingError, match="mode 'fast' is unknown; use one of daily, backfill"):
        make_plan(settings_with(), "2016-01-01", dt.datetime.now(dt.UTC), mode="fast")


def test_the_daily_run_is_due_when_the_stream_starts(monkeypatch):
    from tripclick_dags.settings import daily_cron

    monkeypatch.delenv("TRIPCLICK_STREAM_START", raising=False)
    assert daily_cron() == "0 15 * * *"
    monkeypatch.setenv("TRIPCLICK_STREAM_START", "14:30")
    assert daily_cron() == "30 14 * * *"
    monkeypatch.setenv("TRIPCLICK_STREAM_START", "25:00")
    with pytest.raises(SettingError, match="TRIPCLICK_STREAM_START='25:00' is not a time"):
        daily_cron()
