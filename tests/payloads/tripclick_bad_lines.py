"""A corpus of broken TripClick log lines, each with the reason it must be rejected for."""

from __future__ import annotations

import json

GOOD = {
    "DateCreated": "/Date(1451606501933)/",
    "SessionId": "udcqii55du4gju45bno3d155",
    "DocumentId": 5666868,
    "Url": "http://example.org/a.pdf",
    "Title": "A title",
    "DOI": "",
    "ClinicalAreas": ",Oncology",
    "Keywords": "q ",
    "Documents": [],
}


def _with(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def _without(name: str) -> bytes:
    return json.dumps({k: v for k, v in GOOD.items() if k != name}).encode()


# (reason, line)
BAD_LINES: list[tuple[str, bytes]] = [
    ("not_utf8", _with(Title="x").replace(b'"x"', b'"\xff\xfe"')),
    # A lone surrogate escape decodes to text that UTF-8 (Kafka, Spark, PostgreSQL) cannot hold.
    ("not_utf8", _with(SessionId="x").replace(b'"x"', b'"ab\\ud800"')),
    ("not_utf8", _with(Title="x").replace(b'"x"', b'"\\udfff"')),
    ("not_json", b'{"DateCreated": "/Date(1451606501933)/", "SessionId": "abc'),
    ("not_json", b"GET /Search?criteria=asthma HTTP/1.1 500"),
    # Deeper than a recursive reader goes: must be a rejection, not a crash.
    ("not_json", _with(Title="x").replace(b'"x"', b"[" * 100_000 + b"]" * 100_000)),
    ("not_object", b'["/Date(1451606501933)/", "abc", 1]'),
    ("not_object", b"42"),
    ("missing_session_id", _without("SessionId")),
    ("missing_session_id", _with(SessionId="")),
    ("missing_session_id", _with(SessionId="   ")),
    ("bad_session_id", _with(SessionId=12345)),
    ("missing_date_created", _without("DateCreated")),
    ("bad_date_created", _with(DateCreated="2016-01-01 00:01:41")),
    ("bad_date_created", _with(DateCreated="/Date(abc)/")),
    ("bad_date_created", _with(DateCreated=1451606501933)),
    ("bad_date_created", _with(DateCreated="/Date(99)/")),  # 1970: out of range
    ("bad_date_created", _with(DateCreated="/Date(\u00b2)/")),  # a digit int() cannot read
    (
        "bad_date_created",
        _with(
            DateCreated="/Date(\u0661\u0664\u0665\u0661\u0666\u0660\u0666\u0665\u0660\u0661\u0669\u0663\u0663)/"
        ),
    ),
    ("bad_date_created", _with(DateCreated="/Date(1451606501933)/\n")),
    ("missing_document_id", _without("DocumentId")),
    ("bad_document_id", _with(DocumentId="5666868")),
    ("bad_document_id", _with(DocumentId=5.5)),
    ("bad_document_id", _with(DocumentId=-1)),
    ("bad_document_id", _with(DocumentId=True)),
    ("missing_field", _without("Url")),
    ("missing_field", _without("Documents")),
    ("bad_field_type", _with(Title=None)),
    ("bad_field_type", _with(ClinicalAreas=["Oncology"])),
    ("bad_documents", _with(Documents="1,2,3")),
    ("bad_documents", _with(Documents=[1, "2"])),
    ("bad_event_ts", _with(event_ts="not a time", event_date="2016-01-01")),
    ("event_ts_mismatch", _with(event_ts="2016-01-01T05:00:00+00:00", event_date="2016-01-01")),
    ("bad_event_date", _with(event_ts="2016-01-01T00:01:41.933+00:00", event_date="2016-01-02")),
]
