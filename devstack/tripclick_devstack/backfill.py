"""``tripclick backfill``: a range of dates through run-day's stages, oldest first, resumable.

Each date goes through exactly what ``tripclick run-day`` runs (:func:`run_day.run`:
produce, silver with bronze alongside, gold, reconcile and publish), one date after the
other in one SparkSession. Oldest first, because a date's volume gate compares it with
the 7 published days before it. A date is complete once ``gold.mart_daily_traffic`` has
its row and ``gold.reconciliation`` says it passed; complete dates are skipped unless
forced, so a stopped backfill resumes where it stopped. The first date that fails stops
the run: the dates after it would be checked against a history with a hole.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from tripclick.config import Settings
from tripclick.contract import canonical_date
from tripclick.errors import UserError
from tripclick_devstack import run_day
from tripclick_spark import gold_db, quality, session
from tripclick_spark.jobs import reconcile

# Runs one date's stages: (settings, input files, date) -> the day's result.
StageRunner = Callable[[Settings, list[Path], str], run_day.DayResult]


@dataclass
class DateRun:
    event_date: str
    # "ran" (published), "skipped" (complete before), or "failed"
    outcome: str
    seconds: float = 0.0
    stages: list[run_day.Stage] = field(default_factory=list)


@dataclass
class BackfillResult:
    dates: list[DateRun] = field(default_factory=list)
    seconds: float = 0.0


def _date(value: str, option: str) -> dt.date:
    canonical = canonical_date(value)
    if canonical is None:
        raise UserError(f"{option} {value!r} is not a date; use YYYY-MM-DD")
    return dt.date.fromisoformat(canonical)


def plan(settings: Settings, first: str, last: str, *, today: dt.date | None = None) -> list[str]:
    """The dates from ``first`` to ``last``, oldest first; a range it cannot run is refused."""
    start, end = _date(first, "--from"), _date(last, "--to")
    if end < start:
        raise UserError(f"--to {end} is before --from {start}; give the older date as --from")
    # The schedule's zone decides what today is: its day may not have begun in UTC yet.
    today = today or dt.datetime.now(ZoneInfo(settings.timezone)).date()
    if end > today:
        raise UserError(
            f"--to {end} is in the future (today is {today} in {settings.timezone}); "
            "backfill only dates that have happened"
        )
    days = (end - start).days + 1
    if days > settings.backfill_max_days:
        raise UserError(
            f"{start}..{end} is {days} dates, more than TRIPCLICK_BACKFILL_MAX_DAYS="
            f"{settings.backfill_max_days}; split the range or raise the setting"
        )
    return [(start + dt.timedelta(days=i)).isoformat() for i in range(days)]


def inputs(folder: Path, dates: list[str]) -> dict[str, list[Path]]:
    """Each date's files in ``folder``, named as `tripclick generate` names them."""
    if not folder.is_dir():
        raise UserError(f"--input {folder} is not a folder; give the folder of the dates' files")
    found = {d: sorted(folder.glob(f"{d}_part-*.jsonl*")) for d in dates}
    missing = [d for d, paths in found.items() if not paths]
    if missing:
        listed = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise UserError(
            f"no input file for {listed} in {folder} (expected {missing[0]}_part-000.jsonl, ...); "
            f"generate them with `tripclick generate --date {missing[0]} --days N`"
        )
    return found


def completed(settings: Settings, dates: list[str]) -> set[str]:
    """The dates whose marts are published and whose reconciliation passed."""
    if not dates:
        return set()
    gold_db.migrate(settings)
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            f"select t.event_date from {gold_db.SCHEMA}.mart_daily_traffic t "
            f"join {gold_db.SCHEMA}.reconciliation r "
            "  on r.event_date = t.event_date and r.passed "
            "where t.event_date between %s and %s",
            (dates[0], dates[-1]),
        )
        return {row[0].isoformat() for row in cur.fetchall()}


class RunDayStages:
    """run-day's stages for one date after another, in one SparkSession built on first use."""

    def __init__(self) -> None:
        self.spark = None

    def __call__(self, settings: Settings, paths: list[Path], day: str) -> run_day.DayResult:
        if self.spark is None:
            self.spark = session.build(settings, "tripclick-backfill")
            self.spark.sparkContext.setLogLevel("WARN")
        return run_day.run(settings, paths, day, spark=self.spark)


def _failed_stage(err: BaseException) -> str:
    if isinstance(err, reconcile.ReconciliationError):
        return "reconcile"
    if isinstance(err, quality.QualityGateFailed):
        return "the quality gates"
    return "its stages"


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def run(
    settings: Settings,
    first: str,
    last: str,
    folder: Path,
    *,
    force: bool = False,
    stages: StageRunner | None = None,
    today: dt.date | None = None,
    progress: TextIO | None = None,
) -> BackfillResult:
    """Run every date of ``first..last`` not yet complete (all with ``force``), oldest first.

    Prints one progress line per date to ``progress`` (stderr). Raises UserError naming the
    first date that fails and how to resume; the dates before it stay published.
    """
    dates = plan(settings, first, last, today=today)
    files = inputs(folder, dates)
    done = set() if force else completed(settings, dates)
    stages = stages or RunDayStages()
    progress = progress or sys.stderr
    result = BackfillResult()
    started = time.monotonic()
    n = len(dates)
    for i, day in enumerate(dates, 1):
        head = f"backfill {day} [{i}/{n}]"
        if day in done:
            result.dates.append(DateRun(day, "skipped"))
            print(
                f"{head} skipped: complete in gold (--force re-runs it), "
                f"elapsed {_elapsed(time.monotonic() - started)}",
                file=progress,
                flush=True,
            )
            continue
        day_started = time.monotonic()
        try:
            day_result = stages(settings, files[day], day)
        except Exception as err:  # noqa: BLE001 - whatever stops a date stops the range, in one line
            seconds = round(time.monotonic() - day_started, 2)
            result.dates.append(DateRun(day, "failed", seconds))
            result.seconds = round(time.monotonic() - started, 2)
            where = _failed_stage(err)
            print(
                f"{head} FAILED at {where} after {seconds:.1f} s, "
                f"elapsed {_elapsed(result.seconds)}",
                file=progress,
                flush=True,
            )
            raise UserError(
                f"{day} failed at {where} ({_first_line(err)}); {i - 1} of {n} dates done, "
                f"later ones not run; fix it and resume with `tripclick backfill --from {day} "
                f"--to {dates[-1]} --input {folder}`"
            ) from None
        seconds = round(time.monotonic() - day_started, 2)
        result.dates.append(DateRun(day, "ran", seconds, day_result.stages))
        times = ", ".join(f"{s.name} {s.seconds:.1f} s" for s in day_result.stages)
        print(
            f"{head} published in {seconds:.1f} s ({times}), "
            f"elapsed {_elapsed(time.monotonic() - started)}",
            file=progress,
            flush=True,
        )
    result.seconds = round(time.monotonic() - started, 2)
    return result


def summary_table(result: BackfillResult) -> str:
    """The range as a plain-text table: each date's outcome and time, then the total."""
    rows = [f"{'date':<12} {'outcome':<8} {'seconds':>8}"]
    for d in result.dates:
        rows.append(f"{d.event_date:<12} {d.outcome:<8} {d.seconds:>8.1f}")
    ran = sum(d.outcome == "ran" for d in result.dates)
    skipped = sum(d.outcome == "skipped" for d in result.dates)
    rows.append(f"{'total':<12} {'':<8} {result.seconds:>8.1f}  ({ran} ran, {skipped} skipped)")
    return "\n".join(rows)
