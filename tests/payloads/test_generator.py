"""The day generator: deterministic, TripClick-shaped, rates met exactly."""

from __future__ import annotations

import collections
import hashlib
import json
import subprocess
import sys
from datetime import date, time

import pytest

from tripclick.errors import UserError
from tripclick.events import Event, Rejection, parse_line
from tripclick.generator import (
    BURST_CRITICAL_OVER,
    WEEKLY_SHAPE,
    DaySpec,
    generate_day,
    generate_days,
    server_of,
)

DAY = date(2016, 1, 1)


def read_all(summary) -> list[tuple[int, bytes]]:
    return [
        (i, line) for i, path in enumerate(summary.files) for line in path.read_bytes().splitlines()
    ]


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    spec = DaySpec(DAY, 20_000, seed=7, servers=3, duplicate_rate=0.02, malformed_rate=0.01)
    summary = generate_day(spec, tmp_path_factory.mktemp("day"))
    return spec, summary, read_all(summary)


def test_same_seed_gives_byte_identical_files(tmp_path):
    spec = DaySpec(DAY, 3_000, seed=11, duplicate_rate=0.05, malformed_rate=0.05)
    a = generate_day(spec, tmp_path / "a")
    b = generate_day(spec, tmp_path / "b")
    assert [p.name for p in a.files] == ["2016-01-01_part-000.jsonl", "2016-01-01_part-001.jsonl"]
    assert [p.read_bytes() for p in a.files] == [p.read_bytes() for p in b.files]
    c = generate_day(
        DaySpec(DAY, 3_000, seed=12, duplicate_rate=0.05, malformed_rate=0.05), tmp_path / "c"
    )
    assert [p.read_bytes() for p in a.files] != [p.read_bytes() for p in c.files]


def test_requested_rates_are_met_exactly(day):
    _, summary, lines = day
    assert len(lines) == summary.lines == 20_000
    results = [parse_line(line) for _, line in lines]
    rejected = [r for r in results if isinstance(r, Rejection)]
    keys = collections.Counter(r.dedup_key for r in results if isinstance(r, Event))
    assert len(rejected) == summary.malformed == 200
    assert sum(n - 1 for n in keys.values()) == summary.duplicates == 400
    assert len(keys) == summary.valid == 20_000 - 600
    # Several kinds of damage, not one.
    assert len({r.reason for r in rejected}) >= 5


def test_sessions_look_like_tripclick(day):
    _, summary, lines = day
    events = [e for e in (parse_line(line) for _, line in lines) if isinstance(e, Event)]
    unique = {e.dedup_key: e for e in events}.values()
    per_session = collections.Counter(e.session_id for e in unique)
    mean = len(unique) / len(per_session)
    assert 3.0 <= mean <= 3.6
    assert summary.sessions == len(per_session)
    # Skewed popularity: the top 1% of documents get far more than 1% of clicks.
    docs = collections.Counter(e.document_id for e in unique)
    top = sum(n for _, n in docs.most_common(max(1, len(docs) // 100)))
    assert top / len(unique) > 0.15
    assert all(e.event_date == "2016-01-01" for e in unique)
    assert any(e.clinical_areas_raw.startswith(",") for e in unique)
    assert any(e.keywords.endswith(" ") for e in unique)
    assert any(e.documents for e in unique) and any(not e.documents for e in unique)


def test_a_session_stays_on_one_server_and_files_are_in_time_order(day):
    spec, summary, lines = day
    servers_of_session = collections.defaultdict(set)
    last = collections.defaultdict(int)
    for server, line in lines:
        e = parse_line(line)
        if isinstance(e, Event):
            servers_of_session[e.session_id].add(server)
            assert e.click_ms >= last[server]
            last[server] = e.click_ms
            assert server == server_of(e.session_id, spec.servers)
    assert all(len(s) == 1 for s in servers_of_session.values())
    assert all(n > 0 for n in summary.lines_per_file)


def test_clicks_peak_in_the_window(day):
    _, _, lines = day
    hours = collections.Counter(
        e.event_ts[11:13] for e in (parse_line(line) for _, line in lines) if isinstance(e, Event)
    )
    # 15:00-16:00 Asia/Seoul is 06:00-07:00 UTC.
    assert hours.most_common(1)[0][0] == "06"
    assert hours["06"] > 3 * (sum(hours.values()) / 24)


def test_window_follows_the_time_zone(tmp_path):
    spec = DaySpec(DAY, 2_000, timezone="UTC", window_start=time(20, 0), peak_share=0.8)
    summary = generate_day(spec, tmp_path)
    hours = collections.Counter(parse_line(line).event_ts[11:13] for _, line in read_all(summary))
    assert hours.most_common(1)[0][0] == "20"


def test_preprocessed_shape_on_request(tmp_path):
    summary = generate_day(DaySpec(DAY, 100, with_event_time=True), tmp_path)
    obj = json.loads(summary.files[0].read_bytes().splitlines()[0])
    assert list(obj)[-2:] == ["event_ts", "event_date"]
    assert isinstance(parse_line(json.dumps(obj)), Event)


@pytest.mark.parametrize(
    "spec",
    [
        DaySpec(DAY, 0),
        DaySpec(DAY, 100, servers=0),
        DaySpec(DAY, 100, duplicate_rate=1.5),
        DaySpec(DAY, 100, duplicate_rate=0.4, malformed_rate=0.4),
        DaySpec(DAY, 100, timezone="Mars/Olympus"),
    ],
)
def test_bad_specs_are_user_errors(spec, tmp_path):
    with pytest.raises(UserError):
        generate_day(spec, tmp_path)


# Digests of single days taken before history and anomalous sessions existed: adding them
# must not move a byte of a day asked for without them.
@pytest.mark.parametrize(
    ("spec", "digest"),
    [
        (
            DaySpec(DAY, 5_000, seed=42),
            "bf8b59a3d05c23a027f9cab7873b5ba875d59f6eb2afd7662bfe867486b38a0a",
        ),
        (
            DaySpec(DAY, 3_000, seed=11, servers=3, duplicate_rate=0.05, malformed_rate=0.05),
            "6a3ae60da1f505e655703d3ecb94470b23d64cc887c0d3397a8afb49de0a9cd2",
        ),
    ],
)
def test_a_single_day_is_unchanged(spec, digest, tmp_path):
    summary = generate_day(spec, tmp_path)
    assert hashlib.sha256(b"".join(p.read_bytes() for p in summary.files)).hexdigest() == digest


MONDAY = date(2016, 1, 4)


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """A week from a Monday, 4 anomalous sessions a day; the events of each day."""
    out = tmp_path_factory.mktemp("week")
    summaries = generate_days(DaySpec(MONDAY, 6_000, seed=5, anomalous_sessions=4), 7, out)
    events = [
        [e for e in (parse_line(line) for _, line in read_all(s)) if isinstance(e, Event)]
        for s in summaries
    ]
    return out, summaries, events


def test_each_day_has_exactly_k_bursts_in_one_minute(week):
    _, summaries, days = week
    for summary, events in zip(summaries, days, strict=True):
        per_minute = collections.Counter((e.session_id, e.click_ms // 60_000) for e in events)
        bursts = sorted(n for n in per_minute.values() if n > 20)
        assert bursts == sorted(summary.anomalous)
        assert len(bursts) == 4 and all(24 <= n <= 70 for n in bursts)
        # Each burst session clicks nowhere else: the whole session is the burst.
        sessions = collections.Counter(e.session_id for e in events)
        burst_sessions = {s for (s, _), n in per_minute.items() if n > 20}
        assert sorted(sessions[s] for s in burst_sessions) == bursts
        assert {e.event_date for e in events} == {summary.files[0].name[:10]}
    sizes = [n for s in summaries for n in s.anomalous]
    critical = sum(n > BURST_CRITICAL_OVER for n in sizes)
    assert critical == 7  # one in four of the 28


def test_a_week_follows_the_weekly_shape(week):
    _, summaries, _ = week
    names = [s.files[0].name for s in summaries]
    assert names[0] == "2016-01-04_part-000.jsonl" and names[-1] == "2016-01-10_part-000.jsonl"
    lines = [s.lines for s in summaries]
    assert lines == [round(6_000 * f) for f in WEEKLY_SHAPE]
    weekday_mean = sum(lines[:5]) / 5
    assert max(lines[5:]) < 0.7 * weekday_mean  # the weekend dip
    assert abs(sum(lines) / 7 - 6_000) < 1


def test_days_share_the_popular_documents(week):
    _, _, days = week
    tops = [
        {d for d, _ in collections.Counter(e.document_id for e in ev).most_common(10)}
        for ev in days
    ]
    # The same catalog: most of one day's ten most clicked documents are every day's.
    assert all(len(tops[0] & top) >= 6 for top in tops[1:])
    titles = [{e.document_id: e.title for e in ev} for ev in days]
    shared = set(titles[0]) & set(titles[6])
    assert shared and all(titles[0][d] == titles[6][d] for d in shared)


def test_history_is_byte_identical_on_a_rerun(week, tmp_path):
    _, summaries, _ = week
    again = generate_days(DaySpec(MONDAY, 6_000, seed=5, anomalous_sessions=4), 7, tmp_path)
    for a, b in zip(summaries, again, strict=True):
        assert [p.read_bytes() for p in a.files] == [p.read_bytes() for p in b.files]
    # Each day draws its own clicks: no two days are the same.
    assert len({s.files[0].read_bytes() for s in summaries}) == 7


@pytest.mark.parametrize("days", ["0", "367", "-3"])
def test_bad_days_are_refused_in_one_line(days, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "tripclick.cli", "generate", "--date", "2016-01-04",
         "--records", "100", "--days", days, "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stderr == f"tripclick generate: error: --days {days}: give 1..366 consecutive days\n"
    assert not list(tmp_path.iterdir())


def test_too_many_anomalous_sessions_for_the_day_are_refused(tmp_path):
    with pytest.raises(UserError, match="--anomalous-sessions 10 needs at least 701 clicks"):
        generate_days(DaySpec(MONDAY, 800, anomalous_sessions=10), 7, tmp_path)
    assert not list(tmp_path.iterdir())
