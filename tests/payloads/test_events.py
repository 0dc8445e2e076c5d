"""The event model: the real sample, the quirks of the logs, Kafka values and their validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from tripclick_hostile_values import HOSTILE_VALUES, good_value

from tripclick.dedup import dedup_key
from tripclick.events import (
    FIELDS,
    REASONS,
    Event,
    Rejection,
    check_value,
    datetime_to_ms,
    encode_line,
    parse_line,
    split_areas,
    validate_value,
)

PRODUCED = datetime(2026, 3, 2, 6, 0, 1, 234000, tzinfo=UTC)


def raw(**changes) -> dict:
    line = {
        "DateCreated": "/Date(1451606501933)/",
        "SessionId": "udcqii55du4gju45bno3d155",
        "DocumentId": 5666868,
        "Url": "http://sogc.org/wp-content/uploads/2014/12/gui317TU1501E1.pdf",
        "Title": "Technical Update on Tissue Morcellation",
        "DOI": "",
        "ClinicalAreas": ",Oncology,Surgery",
        "Keywords": "Laparoscopic gynecology  ",
        "Documents": [],
    }
    line.update(changes)
    return line


def line_of(obj: dict) -> bytes:
    return json.dumps(obj).encode()


def sample_lines(sample_files) -> list[bytes]:
    return [line for path in sample_files for line in path.read_bytes().splitlines()]


def test_all_562_sample_records_parse_with_unique_keys(sample_files):
    lines = sample_lines(sample_files)
    events = [parse_line(line) for line in lines]
    assert len(events) == 562
    bad = [e for e in events if not isinstance(e, Event)]
    assert bad == []
    assert len({e.dedup_key for e in events}) == 562
    for line, event in zip(lines, events, strict=True):
        obj = json.loads(line)
        # The preprocessed shape: its event_ts is the click time, as we compute it.
        assert datetime.fromisoformat(obj["event_ts"]) == datetime.fromisoformat(event.event_ts)
        assert event.event_date == obj["event_date"] == "2016-01-01"
        assert event.dedup_key == dedup_key(obj["SessionId"], obj["DocumentId"], event.click_ms)


def test_sample_event_fields(sample_files):
    first = parse_line(sample_lines(sample_files)[0])
    assert first.session_id == "udcqii55du4gju45bno3d155"
    assert first.document_id == 5666868
    assert first.date_created == "/Date(1451606501933)/"
    assert first.click_ms == 1451606501933
    assert first.event_ts == "2016-01-01T00:01:41.933000+00:00"
    assert first.clinical_areas == ["Oncology", "Surgery"]
    assert first.clinical_areas_raw == ",Oncology,Surgery"


def test_raw_nine_field_line_parses():
    event = parse_line(line_of(raw()))
    assert isinstance(event, Event)
    assert event.event_date == "2016-01-01"
    assert event.event_ms == event.click_ms == 1451606501933


def test_str_input_and_trailing_newline_are_accepted():
    text = json.dumps(raw()) + "\r\n"
    assert parse_line(text) == parse_line(line_of(raw()))


@pytest.mark.parametrize(
    ("areas", "expected"),
    [
        (",Oncology,Surgery", ["Oncology", "Surgery"]),  # the leading comma of the logs
        ("Endocrinology,Cardiology", ["Endocrinology", "Cardiology"]),  # no leading comma
        ("", []),
        (",", []),
        (",Women's Health,Otolaryngology-ENT", ["Women's Health", "Otolaryngology-ENT"]),
    ],
)
def test_clinical_areas_drop_the_leading_empty_item(areas, expected):
    event = parse_line(line_of(raw(ClinicalAreas=areas)))
    assert event.clinical_areas == expected
    assert event.clinical_areas_raw == areas
    assert split_areas(areas) == expected


def test_keywords_keep_trailing_spaces_and_operators():
    query = "title:asthma AND from:2011 NOT children   "
    event = parse_line(line_of(raw(Keywords=query)))
    assert event.keywords == query
    assert json.loads(event.to_value("web-0", PRODUCED))["Keywords"] == query


def test_documents_empty_or_a_list_of_ids():
    assert parse_line(line_of(raw(Documents=[]))).documents == []
    ids = list(range(1000000, 1000020))
    assert parse_line(line_of(raw(Documents=ids))).documents == ids


def test_date_created_with_offset_is_unix_ms():
    event = parse_line(line_of(raw(DateCreated="/Date(1451606501933+0100)/")))
    assert event.click_ms == 1451606501933


def test_to_value_has_the_nine_fields_untouched_plus_five():
    obj = raw(Documents=[1, 2, 3], DOI="10.1/x", Title="Ünïcode — title")
    value = parse_line(line_of(obj)).to_value("web-1", PRODUCED)
    out = json.loads(value)
    assert list(out) == [*FIELDS, "event_ts", "event_date", "dedup_key", "source", "produced_at"]
    assert {k: out[k] for k in FIELDS} == obj
    assert out["event_ts"] == "2016-01-01T00:01:41.933000+00:00"
    assert out["event_date"] == "2016-01-01"
    assert out["dedup_key"] == dedup_key(obj["SessionId"], obj["DocumentId"], 1451606501933)
    assert out["source"] == "web-1"
    assert out["produced_at"] == "2026-03-02T06:00:01.234000+00:00"


def test_to_value_of_the_preprocessed_shape_has_no_duplicate_fields(sample_files):
    value = parse_line(sample_lines(sample_files)[0]).to_value("web-0", PRODUCED)
    text = value.decode()
    assert text.count('"event_ts"') == 1 and text.count('"event_date"') == 1
    assert validate_value(value).event_ts == "2016-01-01T00:01:41.933000+00:00"


def test_time_compression_moves_event_time_but_not_date_created_nor_key():
    event = parse_line(line_of(raw()))
    shift = 3_600_000 * 24 * 3650
    out = json.loads(event.to_value("web-0", PRODUCED, shift_ms=shift))
    assert out["DateCreated"] == "/Date(1451606501933)/"
    assert out["dedup_key"] == event.dedup_key
    assert out["event_ts"] == "2025-12-29T00:01:41.933000+00:00"
    assert out["event_date"] == "2025-12-29"
    back = validate_value(json.dumps(out).encode())
    assert back.click_ms == 1451606501933
    assert back.event_ms == 1451606501933 + shift
    assert back.event_date == "2025-12-29"


def test_validate_value_round_trips_every_sample_record(sample_files):
    for line in sample_lines(sample_files):
        event = parse_line(line)
        back = validate_value(event.to_value("web-0", PRODUCED, shift_ms=1234))
        assert isinstance(back, Event)
        assert (back.session_id, back.document_id, back.dedup_key) == (
            event.session_id,
            event.document_id,
            event.dedup_key,
        )
        assert back.keywords == event.keywords and back.clinical_areas == event.clinical_areas
        assert back.source == "web-0"
        assert back.produced_at == "2026-03-02T06:00:01.234000+00:00"


def test_encode_line_gives_the_same_value_as_to_value(sample_files):
    produced = "2026-03-02T06:00:01.234000+00:00"
    lines = [*sample_lines(sample_files)[:50], line_of(raw(Documents=[7, 8]))]
    for line in lines:
        event = parse_line(line)
        key, value, day = encode_line(line, "web-0", produced, lambda ms: ms + 60_000)
        assert key == event.session_id
        assert json.loads(value) == json.loads(event.to_value("web-0", PRODUCED, 60_000))
        assert day == "2016-01-01"


BAD_VALUES = {
    "bad_event_ts": {"event_ts": "yesterday"},
    "bad_event_date": {"event_date": "2016-01-02"},
    "missing_dedup_key": {"dedup_key": ""},
    "dedup_key_mismatch": {"dedup_key": "0000000000000000"},
    "missing_source": {"source": ""},
    "bad_produced_at": {"produced_at": "2026-03-02"},
    "missing_session_id": {"SessionId": None},
}


@pytest.mark.parametrize("reason", sorted(BAD_VALUES))
def test_validate_value_rejects_tampered_values(reason):
    good = json.loads(parse_line(line_of(raw())).to_value("web-0", PRODUCED))
    value = json.dumps({**good, **BAD_VALUES[reason]}).encode()
    result = validate_value(value)
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert result.raw == value
    assert result.message.startswith(reason + ": ")


def test_values_written_in_another_zone_are_read_as_utc():
    good = json.loads(parse_line(line_of(raw())).to_value("web-0", PRODUCED))
    good["event_ts"] = "2016-01-01T09:01:41.933+09:00"
    good["produced_at"] = "2026-03-02T15:00:01.234+09:00"
    back = validate_value(json.dumps(good).encode())
    assert back.event_ts == "2016-01-01T00:01:41.933000+00:00"
    assert back.event_date == "2016-01-01" and back.event_ms == 1451606501933
    assert back.produced_at == "2026-03-02T06:00:01.234000+00:00"


def test_check_value_finds_what_validate_value_finds(sample_files):
    for line in sample_lines(sample_files):
        value = parse_line(line).to_value("web-0", PRODUCED, shift_ms=1234)
        event = validate_value(value)
        _obj, click_ms, doc, key, ts, day, source, produced_at = check_value(value)
        assert (click_ms, doc, key, day, source, produced_at, datetime_to_ms(ts)) == (
            event.click_ms,
            event.document_id,
            event.dedup_key,
            event.event_date,
            event.source,
            event.produced_at,
            event.event_ms,
        )
    good = json.loads(parse_line(line_of(raw())).to_value("web-0", PRODUCED))
    for reason, changes in BAD_VALUES.items():
        assert check_value(json.dumps({**good, **changes}).encode()).reason == reason


def test_validate_value_rejects_a_raw_log_line():
    assert validate_value(line_of(raw())).reason == "bad_event_ts"


def test_every_reason_has_a_text():
    assert all(text and code == code.lower() for code, text in REASONS.items())


def test_results_do_not_depend_on_the_fast_json_reader(sample_files):
    from tripclick_bad_lines import BAD_LINES

    lines = [
        *sample_lines(sample_files)[:20],
        *(line for _, line in BAD_LINES),
        # Readers could differ here: a huge integer may be read as a float.
        line_of(raw(DocumentId=10**30)),
        line_of(raw(Documents=[1, 10**30])),
        b'{"DateCreated": "/Date(1451606501933)/", "SessionId": "\\ud800", "DocumentId": 1, '
        b'"Url": "", "Title": "", "DOI": "", "ClinicalAreas": "", "Keywords": NaN, "Documents": []}',
    ]
    fast = [parse_line(line) for line in lines]
    slow = [parse_line(line, fast=False) for line in lines]
    assert fast == slow
    assert parse_line(line_of(raw(DocumentId=10**30))).reason == "bad_document_id"


@pytest.mark.parametrize(
    ("name", "value", "reason"), HOSTILE_VALUES, ids=[name for name, _, _ in HOSTILE_VALUES]
)
def test_a_hostile_value_is_refused_with_its_reason_on_both_readers(name, value, reason):
    for fast in (True, False):
        result = check_value(value, fast=fast)
        assert type(result) is Rejection, (name, fast)
        assert (result.reason, result.raw) == (reason, value), (name, fast)
    assert validate_value(value).reason == reason


def test_the_good_value_of_the_hostile_corpus_is_valid():
    # So each hostile value fails for its own change, not for the base it was made from.
    assert type(check_value(good_value())) is not Rejection


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (line_of(raw())[:-1] + b', "DocumentId": 1}', "duplicate_key"),
        (line_of(raw())[:-1] + b', "SessionId": "x", "Extra": [1, 2, 3]}', "duplicate_key"),
        (line_of(raw())[:-1] + b', "SessionId": "x"} trailing', "not_json"),
    ],
)
def test_a_log_line_with_a_key_twice_is_refused(line, reason):
    assert parse_line(line).reason == reason
    assert parse_line(line, fast=False).reason == reason
    assert encode_line(line, "web-0", "2026-03-02T06:00:01.234000+00:00").reason == reason


def test_times_in_another_form_of_rfc_3339_are_stored_in_the_canonical_one():
    value = good_value(
        event_ts="2016-01-01T00:01:41.933Z", produced_at="2026-03-02T15:00:01.234567891+09:00"
    )
    checked = check_value(value)
    assert checked.event_ts.isoformat() == "2016-01-01T00:01:41.933000+00:00"
    assert checked.produced_at == "2026-03-02T06:00:01.234567+00:00"


def test_a_validator_failure_quarantines_the_value_instead_of_raising(monkeypatch):
    import tripclick.events as events

    def broken(*_args):
        raise RuntimeError("boom")

    monkeypatch.setattr(events, "dedup_key", broken)
    result = check_value(good_value())
    assert (result.reason, result.detail) == ("validator_error", "RuntimeError: boom")
