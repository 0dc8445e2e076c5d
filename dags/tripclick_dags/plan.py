"""The day's plan: when each stage of a run starts and how long the stream lasts.

With ``time_scale`` 1 the stages start at their wall-clock times on the run's date in
the configured time zone (15:00 / 17:00 / 18:00 Asia/Seoul by default). With a larger
scale the same day is compressed around the moment the run starts, so a test or a demo
walks through the whole flow in minutes with the same task graph. A ``backfill`` run has
no waits at all: every stage starts as soon as the one before it ends, and the producers
send the files as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tripclick_dags.contract import canonical_date
from tripclick_dags.settings import SettingError, Settings

DAILY, BACKFILL = "daily", "backfill"
MODES = (DAILY, BACKFILL)


@dataclass(frozen=True)
class DayPlan:
    date: str  # the day the clicks are replayed onto, YYYY-MM-DD
    stream_start: dt.datetime  # producers and the silver stream
    stream_end: dt.datetime
    bronze_start: dt.datetime
    gold_start: dt.datetime
    # daily: the clicks replayed into the window; backfill: sent with their own times.
    mode: str = DAILY
    # Replay speed of the producers (the run's time scale).
    speed: float = 1.0

    @property
    def backfill(self) -> bool:
        return self.mode == BACKFILL

    @property
    def stream_seconds(self) -> float:
        return (self.stream_end - self.stream_start).total_seconds()

    @classmethod
    def from_xcom(cls, xcom: dict) -> DayPlan:
        return cls(
            date=xcom["date"],
            **{
                k: dt.datetime.fromisoformat(xcom[k])
                for k in ("stream_start", "stream_end", "bronze_start", "gold_start")
            },
            mode=xcom.get("mode", DAILY),
            speed=float(xcom.get("speed", 1.0)),
        )

    def to_xcom(self) -> dict[str, str | float]:
        """JSON-friendly form (ISO-8601 with offsets) for the sensors' templates."""
        out: dict[str, str | float] = {
            k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in asdict(self).items()
        }
        out["stream_seconds"] = self.stream_seconds
        return out


# The run type Airflow gives the runs of `airflow backfill create` (DagRunType.BACKFILL_JOB).
BACKFILL_RUN_TYPE = "backfill"


def run_mode(run_type: str, requested: str | None) -> str:
    """The run's mode: an Airflow backfill's runs are always ``backfill`` (past days, no
    waits, the files as they are), whatever the form's default says; any other run takes
    the mode it was triggered with."""
    if run_type == BACKFILL_RUN_TYPE:
        return BACKFILL
    return requested or DAILY


def missed(plan: DayPlan, run_started: dt.datetime) -> bool:
    """A real-time day whose window had closed when its run started (the scheduler was down
    at 15:00, or the DAG was unpaused later): run now it would stream for the window's length
    at the wrong hour, so a scheduled run skips it and the date is backfilled instead."""
    return plan.mode == DAILY and plan.speed == 1 and run_started > plan.stream_end


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError(
            f"TRIPCLICK_TIMEZONE={name!r} is not a time zone; use an IANA name like Asia/Seoul"
        ) from None


def clock(name: str, value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except ValueError:
        raise SettingError(f"tripclick_{name}={value!r} is not a time; use HH:MM") from None


def run_date(settings: Settings, logical: dt.datetime) -> str:
    """The run's date: its logical date seen in the schedule's time zone."""
    return logical.astimezone(zone(settings.timezone)).date().isoformat()


def make_plan(
    settings: Settings, date: str, run_started: dt.datetime, mode: str = DAILY
) -> DayPlan:
    """Stage start times for ``date``; ``run_started`` anchors a compressed day or a backfill."""
    tz = zone(settings.timezone)
    canonical = canonical_date(date)
    if canonical is None:
        raise SettingError(f"date {date!r} is not a date; use YYYY-MM-DD")
    if mode not in MODES:
        raise SettingError(f"mode {mode!r} is unknown; use one of {', '.join(MODES)}")
    date, day = canonical, dt.date.fromisoformat(canonical)
    wall = {
        name: dt.datetime.combine(day, clock(name, getattr(settings, name)), tzinfo=tz)
        for name in ("stream_start", "bronze_start", "gold_start")
    }
    stream_end = wall["stream_start"] + dt.timedelta(minutes=settings.stream_minutes)
    if not wall["stream_start"] <= stream_end <= wall["bronze_start"] <= wall["gold_start"]:
        raise SettingError(
            "the daily flow is out of order: need stream_start + stream_minutes <= bronze_start"
            f" <= gold_start, got {settings.stream_start} + {settings.stream_minutes:g} min,"
            f" {settings.bronze_start}, {settings.gold_start}"
        )
    anchor = run_started.astimezone(tz)
    if mode == BACKFILL:
        return DayPlan(date, anchor, anchor, anchor, anchor, mode, settings.time_scale)
    if settings.time_scale == 1:
        return DayPlan(
            date, wall["stream_start"], stream_end, wall["bronze_start"], wall["gold_start"]
        )

    def squeezed(moment: dt.datetime) -> dt.datetime:
        return anchor + (moment - wall["stream_start"]) / settings.time_scale

    return DayPlan(
        date,
        anchor,
        squeezed(stream_end),
        squeezed(wall["bronze_start"]),
        squeezed(wall["gold_start"]),
        mode,
        settings.time_scale,
    )
