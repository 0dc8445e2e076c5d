"""Time compression onto a target day's window (ARCHITECTURE 3.3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from tripclick.errors import UserError
from tripclick.timeshift import Shift, parse_hhmm


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_a_day_is_compressed_into_the_seoul_window_in_utc():
    shift = Shift(date(2026, 3, 2))  # 15:00-16:00 Asia/Seoul = 06:00-07:00 UTC
    f = shift.shifter()
    assert shift.window_start_ms == ms("2026-03-02T06:00:00+00:00")
    assert f(ms("2016-01-01T00:00:00+00:00")) == ms("2026-03-02T06:00:00+00:00")
    assert f(ms("2016-01-01T12:00:00+00:00")) == ms("2026-03-02T06:30:00+00:00")
    assert f(ms("2016-01-01T23:59:59.999+00:00")) < ms("2026-03-02T07:00:00+00:00")


def test_compression_keeps_order_and_is_deterministic():
    f = Shift(date(2026, 3, 2), window_minutes=30, timezone="Europe/Paris").shifter()
    clicks = list(range(ms("2016-01-01T00:00:00+00:00"), ms("2016-01-02T00:00:00+00:00"), 997_331))
    out = [f(c) for c in clicks]
    assert out == sorted(out)
    assert out == [f(c) for c in clicks]
    # 15:00 Paris in March (winter time) is 14:00 UTC.
    assert datetime.fromtimestamp(out[0] / 1000, UTC).time() == time(14, 0)


def test_without_compression_the_time_of_day_is_kept():
    f = Shift(date(2026, 3, 2), compress=False).shifter()
    assert f(ms("2016-01-01T13:14:15.161+00:00")) == ms("2026-03-02T13:14:15.161+00:00")


def test_bad_window_values_are_user_errors():
    with pytest.raises(UserError):
        parse_hhmm("3pm")
    with pytest.raises(UserError):
        Shift(date(2026, 3, 2), window_minutes=0)
    with pytest.raises(UserError):
        _ = Shift(date(2026, 3, 2), timezone="Nowhere/Town").window_start_ms
