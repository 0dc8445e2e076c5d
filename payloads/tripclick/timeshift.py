"""Where a replayed click lands in time (ARCHITECTURE 3.3).

Time compression squeezes a whole UTC day of clicks linearly into a window of the
target day (default 15:00-16:00 in the schedule's time zone). Without compression a
click keeps its time of day and only moves to the target day. Both are pure
functions of the original click time, so a replay is deterministic; ``DateCreated``
and the dedup key keep the original time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tripclick.contract import DEFAULT_TIMEZONE
from tripclick.errors import UserError

DAY_MS = 86_400_000


def parse_hhmm(text: str) -> time:
    try:
        hh, mm = text.split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise UserError(f"window start {text!r} is not HH:MM (for example 15:00)") from None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        raise UserError(
            f"time zone {name!r} is unknown; set TRIPCLICK_TIMEZONE to an IANA name like Asia/Seoul"
        ) from None


def utc_midnight_ms(day: date) -> int:
    return int(datetime.combine(day, time(0), UTC).timestamp()) * 1000


@dataclass(frozen=True)
class Shift:
    """Maps an original click time (Unix ms) to its replayed time on ``target_day``."""

    target_day: date
    compress: bool = True
    window_start: time = time(15, 0)
    window_minutes: int = 60
    timezone: str = DEFAULT_TIMEZONE

    def __post_init__(self) -> None:
        if not 1 <= self.window_minutes <= 24 * 60:
            raise UserError(f"--window-minutes {self.window_minutes}: give 1..1440")

    @property
    def window_start_ms(self) -> int:
        """The window's start as Unix ms (the schedule's zone decides which instant)."""
        local = datetime.combine(self.target_day, self.window_start, zone(self.timezone))
        return int(local.astimezone(UTC).timestamp() * 1000)

    def describe(self) -> str:
        if not self.compress:
            return f"original times of day moved onto {self.target_day} (UTC)"
        start = datetime.fromtimestamp(self.window_start_ms / 1000, UTC)
        end = start + timedelta(minutes=self.window_minutes)
        return (
            f"a day compressed into {self.target_day} {self.window_start:%H:%M} {self.timezone} "
            f"+{self.window_minutes} min = {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC"
        )

    def shifter(self):
        """A fast ``click_ms -> shifted ms`` function for this plan."""
        if self.compress:
            start, span = self.window_start_ms, self.window_minutes * 60_000

            def compressed(click_ms: int) -> int:
                return start + (click_ms % DAY_MS) * span // DAY_MS

            return compressed
        target = utc_midnight_ms(self.target_day)

        def moved(click_ms: int) -> int:
            return target + click_ms % DAY_MS

        return moved
