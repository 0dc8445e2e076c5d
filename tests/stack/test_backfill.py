"""``tripclick backfill``: refusals, order, skipping complete dates, --force, stopping at a failure.

Order, skip and stop are checked with the stages replaced by a runner that publishes a
date's traffic row and reconciliation into the real gold database (the stages themselves
are run-day's, tested elsewhere); one date then goes through the real stages end to end.
The dates are far in the past, and their gold rows are deleted before and after.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tripclick.errors import UserError
from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import backfill, run_day
from tripclick_spark import gold_db
from tripclick_spark.jobs import reconcile

DATES = ["1999-03-01", "1999-03-02", "1999-03-03", "1999-03-04"]
REAL_DATE = "1998-06-15"


def cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tripclick_devstack.cli", "backfill", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def touch_inputs(folder: Path, dates: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for d in dates:
        (folder / f"{d}_part-000.jsonl").write_bytes(b"")
    return folder


def delete_dates(settings, first: str, last: str) -> None:
    """Every gold and gold_stage row of first..last (tables with an event_date column)."""
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select c.table_schema, c.table_name from information_schema.columns c "
            "join information_schema.tables t using (table_schema, table_name) "
            "where c.column_name = 'event_date' and t.table_type = 'BASE TABLE' "
            "  and c.table_schema in ('gold', 'gold_stage')"
        )
        for schema, table in cur.fetchall():
            cur.execute(
                f'delete from "{schema}"."{table}" where event_date between %s and %s',
                (first, last),
            )
        conn.commit()


def publish(settings, day: str, *, passed: bool = True) -> None:
    """A date's traffic row and reconciliation report, as a published day leaves them."""
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "insert into gold.mart_daily_traffic values (%s, 10, 4, 5, 6) "
            "on conflict (event_date) do nothing",
            (day,),
        )
        cur.execute(
            "insert into gold.reconciliation (event_date, kafka_records, bronze_records, "
            "bronze_distinct, silver_records, quarantine_records, quarantine_distinct, "
            "gold_total_events, passed) values (%s, 10, 10, 10, 10, 0, 0, 10, %s) "
            "on conflict (event_date) do update set passed = excluded.passed",
            (day, passed),
        )
        conn.commit()


class Stages:
    """Records the dates it is asked to run, publishes each, and fails on ``fail_on``."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on
        self.calls: list[str] = []

    def __call__(self, settings, paths, day) -> run_day.DayResult:
        self.calls.append(day)
        assert [p.name for p in paths] == [f"{day}_part-000.jsonl"]
        if day == self.fail_on:
            raise reconcile.ReconciliationError("bronze distinct 9 != silver 8 + quarantined 0")
        publish(settings, day)
        return run_day.DayResult(day, [run_day.Stage("silver", 0.5), run_day.Stage("gold", 0.2)])


@pytest.fixture
def gold_dates(stack_services):
    delete_dates(stack_services, DATES[0], DATES[-1])
    yield stack_services
    delete_dates(stack_services, DATES[0], DATES[-1])


# --- refusals, through the command line -------------------------------------------------


def test_a_range_ending_before_it_starts_is_refused(tmp_path):
    out = cli("--from", "1999-03-02", "--to", "1999-03-01", "--input", str(tmp_path))
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == (
        "tripclick backfill: error: --to 1999-03-01 is before --from 1999-03-02; "
        "give the older date as --from\n"
    )


def test_a_future_date_in_the_schedules_zone_is_refused(tmp_path):
    zone = "Pacific/Kiritimati"  # UTC+14: its today is often UTC's tomorrow
    today = dt.datetime.now(ZoneInfo(zone)).date()
    later = (today + dt.timedelta(days=2)).isoformat()
    out = cli(
        "--from", "1999-03-01", "--to", later, "--input", str(tmp_path),
        TRIPCLICK_TIMEZONE=zone,
    )  # fmt: skip
    assert out.returncode == 2
    assert len(out.stderr.splitlines()) == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"tripclick backfill: error: --to {later} is in the future ")
    assert f"in {zone})" in out.stderr


def test_the_future_is_what_comes_after_today_in_the_zone(settings):
    today = dt.date(1999, 3, 4)
    assert backfill.plan(settings, "1999-03-01", "1999-03-04", today=today) == DATES
    with pytest.raises(UserError, match="--to 1999-03-05 is in the future"):
        backfill.plan(settings, "1999-03-01", "1999-03-05", today=today)


def test_more_dates_than_the_maximum_are_refused(tmp_path):
    out = cli(
        "--from", "1999-03-01", "--to", "1999-03-04", "--input", str(tmp_path),
        TRIPCLICK_BACKFILL_MAX_DAYS="3",
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stderr == (
        "tripclick backfill: error: 1999-03-01..1999-03-04 is 4 dates, more than "
        "TRIPCLICK_BACKFILL_MAX_DAYS=3; split the range or raise the setting\n"
    )
    # The default is 31: a 32-date range is refused, without the setting.
    out = cli("--from", "1999-03-01", "--to", "1999-04-01", "--input", str(tmp_path))
    assert out.returncode == 2 and "is 32 dates, more than" in out.stderr


def test_a_date_without_input_files_is_named(tmp_path):
    folder = touch_inputs(tmp_path, [DATES[0], DATES[2]])
    out = cli("--from", DATES[0], "--to", DATES[2], "--input", str(folder))
    assert out.returncode == 2
    assert len(out.stderr.splitlines()) == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(
        f"tripclick backfill: error: no input file for 1999-03-02 in {folder} "
    )


# --- order, skip, stop, force against the gold database -------------------------------


def test_dates_run_oldest_first_and_complete_ones_are_skipped(gold_dates, tmp_path):
    folder = touch_inputs(tmp_path, DATES)
    publish(gold_dates, DATES[1])  # complete
    publish(gold_dates, DATES[2], passed=False)  # published rows, failed reconciliation
    stages, progress = Stages(), io.StringIO()
    result = backfill.run(gold_dates, DATES[0], DATES[-1], folder, stages=stages, progress=progress)
    assert stages.calls == [DATES[0], DATES[2], DATES[3]]
    assert [(d.event_date, d.outcome) for d in result.dates] == [
        (DATES[0], "ran"),
        (DATES[1], "skipped"),
        (DATES[2], "ran"),
        (DATES[3], "ran"),
    ]
    lines = progress.getvalue().splitlines()
    assert len(lines) == 4
    assert re.fullmatch(
        r"backfill 1999-03-01 \[1/4\] published in \d+\.\d s "
        r"\(silver 0\.5 s, gold 0\.2 s\), elapsed \d+:\d\d",
        lines[0],
    )
    assert lines[1].startswith("backfill 1999-03-02 [2/4] skipped: complete in gold")
    assert backfill.completed(gold_dates, DATES) == set(DATES)
    # A second run finds everything complete and runs nothing.
    again = Stages()
    backfill.run(gold_dates, DATES[0], DATES[-1], folder, stages=again, progress=io.StringIO())
    assert again.calls == []


def test_the_first_failure_stops_the_run_and_says_how_to_resume(gold_dates, tmp_path):
    folder = touch_inputs(tmp_path, DATES)
    stages, progress = Stages(fail_on=DATES[2]), io.StringIO()
    with pytest.raises(UserError) as err:
        backfill.run(gold_dates, DATES[0], DATES[-1], folder, stages=stages, progress=progress)
    assert stages.calls == DATES[:3]  # 1999-03-04 never started
    assert str(err.value) == (
        "1999-03-03 failed at reconcile (bronze distinct 9 != silver 8 + quarantined 0); "
        "2 of 4 dates done, later ones not run; fix it and resume with "
        f"`tripclick backfill --from 1999-03-03 --to 1999-03-04 --input {folder}`"
    )
    assert (
        progress.getvalue()
        .splitlines()[-1]
        .startswith("backfill 1999-03-03 [3/4] FAILED at reconcile after ")
    )
    assert backfill.completed(gold_dates, DATES) == set(DATES[:2])

    # Resuming over the whole range runs only what is left, in order.
    resumed = Stages()
    backfill.run(gold_dates, DATES[0], DATES[-1], folder, stages=resumed, progress=io.StringIO())
    assert resumed.calls == DATES[2:]

    # --force runs every date again, oldest first.
    forced = Stages()
    result = backfill.run(
        gold_dates, DATES[0], DATES[-1], folder, force=True, stages=forced, progress=io.StringIO()
    )
    assert forced.calls == DATES
    assert [d.outcome for d in result.dates] == ["ran"] * 4


# --- one date through the real stages ---------------------------------------------------


@pytest.fixture
def real_date(pipeline):
    delete_dates(pipeline, REAL_DATE, REAL_DATE)
    yield pipeline
    delete_dates(pipeline, REAL_DATE, REAL_DATE)


def test_one_date_end_to_end_then_skipped(real_date, tmp_path):
    spec = DaySpec(dt.date.fromisoformat(REAL_DATE), 400, seed=3, anomalous_sessions=1)
    generate_day(spec, tmp_path)
    progress = io.StringIO()
    result = backfill.run(real_date, REAL_DATE, REAL_DATE, tmp_path, progress=progress)
    assert [(d.event_date, d.outcome) for d in result.dates] == [(REAL_DATE, "ran")]
    assert [s.name for s in result.dates[0].stages] == [
        "produce",
        "silver",
        "bronze",
        "gold",
        "reconcile",
    ]
    assert gold_db.total_events(real_date, REAL_DATE) == 400
    assert backfill.completed(real_date, [REAL_DATE]) == {REAL_DATE}
    line = progress.getvalue().splitlines()
    assert len(line) == 1 and line[0].startswith(f"backfill {REAL_DATE} [1/1] published in ")
    assert "reconcile" in line[0]

    # Complete now: a second run skips it without running a stage.
    def no_stages(*_):
        raise AssertionError("a complete date was run again")

    again = backfill.run(real_date, REAL_DATE, REAL_DATE, tmp_path, stages=no_stages)
    assert [d.outcome for d in again.dates] == ["skipped"]
