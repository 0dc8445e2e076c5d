"""The day generator: deterministic, TripClick-shaped, rates met exactly."""

from __future__ import annotations

import collections
import json
from datetime import date, time

import pytest

from tripclick.errors import UserError
from tripclick.events import Event, Rejection, parse_line
from tripclick.generator import DaySpec, generate_day, server_of

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
