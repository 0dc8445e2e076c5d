"""``tripclick backfill``: refusals, order, skipping complete dates, --force, stopping at a failure.

Order, skip and stop are checked with the stages replaced by a runner that publishes a
date's traffic row and reconciliation into the real gold database (the stages themselves
are run-day's, tested elsewhere). Then generated days go through the real stages: Thursday
to Saturday backfilled and served from gold, the Sunday after streamed and served from the
speed layer. The dates are far in the past; their rows are deleted before and after.
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
from tripclick.generator import DaySpec, generate_days
from tripclick_devstack import backfill, run_day
from tripclick_spark import gold_db
from tripclick_spark.jobs import reconcile, silver

DATES = ["1999-03-01", "1999-03-02", "1999-03-03", "1999-03-04"]


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
    """Every gold, gold_stage and serving row of first..last (tables with an event_date column)."""
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select c.table_schema, c.table_name from information_schema.columns c "
            "join information_schema.tables t using (table_schema, table_name) "
            "where c.column_name = 'event_date' and t.table_type = 'BASE TABLE' "
            "  and c.table_schema in ('gold', 'gold_stage', 'serving')"
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
    # The stand-in runner writes gold's tables directly: they must exist even when no stage
    # has run on this stack yet.
    gold_db.migrate(stack_services)
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


# --- past days through the real stages, then today from the speed layer ------------------

# Thursday to Sunday: three past days backfilled (two weekdays before the Saturday show the
# weekend dip), the fourth is "today", not yet published.
HISTORY = [(dt.date(1999, 4, 8) + dt.timedelta(days=i)).isoformat() for i in range(4)]
DAILY_CLICKS = 300  # a weekday's mean; the generator's weekly shape sizes each day


@pytest.fixture
def history(pipeline):
    delete_dates(pipeline, HISTORY[0], HISTORY[-1])
    yield pipeline
    delete_dates(pipeline, HISTORY[0], HISTORY[-1])


def _rows(settings, relation: str, day: str) -> list[dict]:
    """The date's rows of ``relation`` (``serving.daily_traffic``, ``gold.mart_...``) as dicts."""
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(f"select * from {relation} where event_date = %s", (day,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_past_days_backfilled_then_today_served_from_the_speed_layer(history, spark, tmp_path):
    spec = DaySpec(dt.date.fromisoformat(HISTORY[0]), DAILY_CLICKS, seed=7, anomalous_sessions=1)
    days = generate_days(spec, len(HISTORY), tmp_path)
    past, today = HISTORY[:-1], HISTORY[-1]

    # The past days, oldest first, through run-day's real stages.
    progress = io.StringIO()
    result = backfill.run(
        history, past[0], past[-1], tmp_path,
        stages=lambda settings, paths, day: run_day.run(settings, paths, day, spark=spark),
        progress=progress,
    )  # fmt: skip
    print(f"backfill of {len(past)} days: {result.seconds:.1f} s")
    print(backfill.summary_table(result))
    assert [(d.event_date, d.outcome) for d in result.dates] == [(d, "ran") for d in past]
    lines = progress.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == past
    assert all(" published in " in line for line in lines)
    assert backfill.completed(history, HISTORY) == set(past)

    # Serving answers each past day from gold (batch), row for row.
    views = {
        "daily_traffic": "mart_daily_traffic",
        "clinical_areas": "mart_clinical_areas",
        "popular_documents": "mart_popular_documents",
        "session_analysis": "mart_session_analysis",
    }
    for day, generated in zip(past, days, strict=False):
        for view, mart in views.items():
            served = _rows(history, f"serving.{view}", day)
            assert {r.pop("source") for r in served} == {"batch"}, (day, view)
            for r in served:
                del r["as_of"]
            key = lambda r: sorted((k, str(v)) for k, v in r.items())  # noqa: E731
            assert sorted(served, key=key) == sorted(
                _rows(history, f"gold.{mart}", day), key=key
            ), (
                day,
                view,
            )
        (traffic,) = _rows(history, "serving.daily_traffic", day)
        assert traffic["total_events"] == generated.valid

    # The weekend dip the generator's weekly shape put in shows in the served history.
    totals = [_rows(history, "serving.daily_traffic", d)[0]["total_events"] for d in past]
    assert totals[2] < min(totals[:2]), totals  # Saturday below Thursday and Friday

    # Today: produced and streamed in several micro-batches, not published. Serving gives
    # the speed layer's figures, which are the live partials' sums.
    paths = sorted(tmp_path.glob(f"{today}_part-*.jsonl"))
    run_day.produce(history, paths, today)
    streamed = silver.run(spark, history, today, available_now=True, max_offsets_per_trigger=150)
    assert streamed.batches >= 2, streamed
    (traffic,) = _rows(history, "serving.daily_traffic", today)
    assert traffic["source"] == "speed"
    assert traffic["total_events"] == days[-1].valid
    with gold_db.connect(history) as conn, conn.cursor() as cur:
        cur.execute(
            "select count(distinct session_id), sum(clicks) from gold.live_session_days"
            " where event_date = %s",
            (today,),
        )
        sessions, clicks = cur.fetchone()
        cur.execute(
            "select document_id, sum(clicks) from gold.live_document_days where event_date = %s"
            " group by document_id order by sum(clicks) desc, document_id limit 1",
            (today,),
        )
        top_document, top_clicks = cur.fetchone()
    assert (traffic["unique_sessions"], traffic["total_events"]) == (sessions, clicks)
    first = min(_rows(history, "serving.popular_documents", today), key=lambda r: r["rank"])
    assert (first["source"], first["document_id"], first["view_count"]) == (
        "speed", top_document, top_clicks,
    )  # fmt: skip
    for view in views:
        assert {r["source"] for r in _rows(history, f"serving.{view}", today)} == {"speed"}, view

    # Resumable: a second run of the range finds every past day complete.
    def no_stages(*_):
        raise AssertionError("a complete date was run again")

    again = backfill.run(history, past[0], past[-1], tmp_path, stages=no_stages)
    assert [d.outcome for d in again.dates] == ["skipped"] * len(past)
