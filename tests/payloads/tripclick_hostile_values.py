"""Kafka values no producer of ours writes, each with the reason silver must quarantine it for.

A buggy or compromised client can put any bytes on the topic. Each value below once
crashed the validator (``OverflowError``), slipped through it and broke Spark's cast, or
was read differently by Spark and Python; every one must be refused with its reason.
The payload tests check the validator on them, ``tests/faults`` sends them to a real
topic and reads silver's quarantine.
"""

from __future__ import annotations

import json

from tripclick.dedup import dedup_key

DAY = "2016-01-01"
CLICK_MS = 1451606501933
# A valid value of DAY, as Event.to_value writes it (the order of its keys included).
GOOD = {
    "DateCreated": f"/Date({CLICK_MS})/",
    "SessionId": "hostile-session",
    "DocumentId": 5666868,
    "Url": "http://example.org/a.pdf",
    "Title": "A title",
    "DOI": "",
    "ClinicalAreas": ",Oncology",
    "Keywords": "q ",
    "Documents": [],
    "event_ts": "2016-01-01T00:01:41.933000+00:00",
    "event_date": DAY,
    "dedup_key": dedup_key("hostile-session", 5666868, CLICK_MS),
    "source": "web-0",
    "produced_at": "2026-03-02T06:00:01.234000+00:00",
}


def good_value(**changes: object) -> bytes:
    return json.dumps({**GOOD, **changes}, separators=(",", ":")).encode()


def _appended(text: str) -> bytes:
    """The good value with ``text`` added as its last members."""
    return good_value()[:-1] + b"," + text.encode() + b"}"


# (name, value, reason); each belongs to DAY: its first event_date is DAY, or it has none.
HOSTILE_VALUES: list[tuple[str, bytes, str]] = [
    # OverflowError once the time is converted to UTC: the stream stopped for the date.
    ("event_ts past year 9999 in UTC", good_value(event_ts="9999-12-31T23:00:00-05:00"), "bad_event_ts"),
    ("event_ts before year 1 in UTC", good_value(event_ts="0001-01-01T00:00:00+01:00"), "bad_event_ts"),
    ("produced_at past year 9999 in UTC", good_value(produced_at="9999-12-31T23:59:59-01:00"), "bad_produced_at"),
    ("event_ts in year 2500", good_value(event_ts="2500-01-01T00:00:00.000000+00:00"), "bad_event_ts"),
    # Python reads these; Spark's cast to timestamp does not.
    ("a comma before the fraction", good_value(produced_at="2026-03-02T06:00:01,234000+00:00"), "bad_produced_at"),
    ("event_ts with a comma", good_value(event_ts="2016-01-01T00:01:41,933000+00:00"), "bad_event_ts"),
    ("a space for the T", good_value(produced_at="2026-03-02 06:00:01.234000+00:00"), "bad_produced_at"),
    ("the basic format", good_value(produced_at="20260302T060001+0000"), "bad_produced_at"),
    ("a week date", good_value(event_ts="2016-W53-5T00:01:41.933+00:00"), "bad_event_ts"),
    ("an offset of 25 hours", good_value(event_ts="2016-01-01T00:01:41.933+25:00"), "bad_event_ts"),
    # Spark's get_json_object takes the first, Python the last: filed under the day with
    # a 2099 event time, it would push the watermark and drop the day's later clicks.
    ("event_date twice", _appended('"event_date":"2099-01-01"'), "duplicate_key"),
    ("event_ts and event_date twice", _appended('"event_ts":"2099-01-01T00:00:00+00:00","event_date":"2099-01-01"'), "duplicate_key"),
    ("a key twice, one escaped", _appended('"event\\u005fdate":"2099-01-01"'), "duplicate_key"),
    ("SessionId twice", _appended('"SessionId":"someone-else"'), "duplicate_key"),
    ("a key twice in a nested object", _appended('"extra":{"a":1,"a":2}'), "duplicate_key"),
    # The readers' other edges.
    ("not UTF-8", good_value(Title="\udcff").replace(b"\\udcff", b"\xff"), "not_utf8"),
    ("a lone surrogate", good_value().replace(b'"A title"', b'"\\ud800"'), "not_utf8"),
    ("nested too deeply", b"[" * 100_000 + b"]" * 100_000, "not_json"),
    ("an empty value", b"", "not_json"),
    ("a JSON array", b"[1,2,3]", "not_object"),
    ("a number too big for bigint", good_value(DocumentId=2**63), "bad_document_id"),
    ("DateCreated out of range", good_value(DateCreated="/Date(999999999999999)/"), "bad_date_created"),
]  # fmt: skip
