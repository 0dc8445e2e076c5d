"""The TripClick click event: parse a log line, build the Kafka value, validate a value.

Two inputs, one model:

- :func:`parse_line` reads a TripClick log line, either the raw nine fields or the
  preprocessed shape that also carries ``event_ts``/``event_date``;
- :func:`validate_value` reads a Kafka value built by :meth:`Event.to_value` (the
  nine fields untouched plus ``event_ts``, ``event_date``, ``dedup_key``, ``source``,
  ``produced_at``; ARCHITECTURE 3.1). The Spark silver job calls it inside Spark, so
  this module stays pure: it needs the standard library, msgspec and xxhash (through
  :mod:`tripclick.dedup`) and nothing else.

Both return an :class:`Event` or a :class:`Rejection` with a short stable reason code.
JSON is read by one function, :func:`_decode`: msgspec first, which only ever accepts,
then the standard library's ``json``, which decides every rejection and its reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, NamedTuple

import msgspec

from tripclick.dedup import dedup_key

# The nine TripClick fields, in the order the logs write them.
FIELDS = (
    "DateCreated",
    "SessionId",
    "DocumentId",
    "Url",
    "Title",
    "DOI",
    "ClinicalAreas",
    "Keywords",
    "Documents",
)
# Fields a Kafka value adds to the nine (ARCHITECTURE 3.1), in the order to_value writes them.
VALUE_FIELDS = ("event_ts", "event_date", "dedup_key", "source", "produced_at")
_TEXT_FIELDS = ("Url", "Title", "DOI", "ClinicalAreas", "Keywords")

# Stable reason codes of a rejection and what each means. Quarantine rows and reject
# files carry the code; the text is for people reading them.
REASONS: dict[str, str] = {
    "not_utf8": "the line is not valid UTF-8 (or escapes a lone UTF-16 surrogate)",
    "not_json": "the line is not valid JSON",
    "not_object": "the line is JSON but not an object",
    "duplicate_key": "a JSON object holds one key twice (readers disagree on which one counts)",
    "missing_session_id": "SessionId is missing or empty",
    "bad_session_id": "SessionId is not a string",
    "missing_date_created": "DateCreated is missing",
    "bad_date_created": "DateCreated is not /Date(<Unix ms>)/ within years 1990-2100",
    "missing_document_id": "DocumentId is missing",
    "bad_document_id": "DocumentId is not an integer in 0..2^63-1",
    "missing_field": "one of Url, Title, DOI, ClinicalAreas, Keywords, Documents is missing",
    "bad_field_type": "one of Url, Title, DOI, ClinicalAreas, Keywords is not a string",
    "bad_documents": "Documents is not a list of integers in 0..2^63-1",
    "bad_event_ts": "event_ts is missing or not YYYY-MM-DDTHH:MM:SS[.f](Z|+HH:MM) in 1990-2100 UTC",
    "event_ts_mismatch": "event_ts of a log line differs from DateCreated",
    "bad_event_date": "event_date is missing or not the UTC date of event_ts",
    "missing_dedup_key": "dedup_key is missing",
    "dedup_key_mismatch": "dedup_key is not the key of SessionId|DocumentId|DateCreated",
    "missing_source": "source is missing or empty",
    "bad_produced_at": "produced_at is missing or not YYYY-MM-DDTHH:MM:SS[.f](Z|+HH:MM) in 1990-2100",
    # Given by the producers' send loop (tripclick.sending), never by the validator.
    "too_large": "the line is longer than TRIPCLICK_MAX_LINE_BYTES, or Kafka refused its size",
    "kafka_refused": "Kafka refused to take the record; the detail names its error",
    "validator_error": "the validator failed on this value; the detail names the error (a bug)",
}

# ASCII digits only: Python would read other scripts' digits (and \d match them) where
# Spark, DuckDB and PostgreSQL would not.
_DATE_RE = re.compile(r"/Date\((-?\d{1,15})([+-]\d{4})?\)/", re.ASCII)
# Sanity bounds of a click time: 1990-01-01 .. 2100-01-01 UTC, in Unix ms.
_MIN_MS = 631_152_000_000
_MAX_MS = 4_102_444_800_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The one shape of a time a value may carry (RFC 3339's, as isoformat and Java write it).
# datetime.fromisoformat alone also reads a comma before the fraction, a space for the T
# and the basic format, which Spark's cast to timestamp does not.
_ISO_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
_ONE_MS = timedelta(milliseconds=1)
_MIN_TS = _EPOCH + _MIN_MS * _ONE_MS
_MAX_TS = _EPOCH + _MAX_MS * _ONE_MS
# Ids must fit the lake's bigint columns.
_MAX_ID = 2**63


# The five fields a Kafka value appends to a log line's object (ARCHITECTURE 3.1).
_VALUE = b'%b,"event_ts":"%b","event_date":"%b","dedup_key":"%b",%b'
_last_tail: tuple[str, str, bytes] = ("", "", b"")


def _tail(source: str, produced_at: str) -> bytes:
    """``"source":...,"produced_at":"..."}``; the same for every line sent in one millisecond."""
    global _last_tail
    if _last_tail[0] != source or _last_tail[1] != produced_at:
        tail = f'"source":{json.dumps(source)},"produced_at":"{produced_at}"}}'.encode()
        _last_tail = (source, produced_at, tail)
    return _last_tail[2]


def _appended(line: bytes, event_ts: str, key: str, source: str, produced_at: str) -> bytes:
    """A log line holding just the nine fields (ending in ``}``) with the five appended."""
    ts = event_ts.encode()
    return _VALUE % (line[:-1], ts, ts[:10], key.encode(), _tail(source, produced_at))


@dataclass(frozen=True, slots=True)
class Rejection:
    """A line or value that failed validation: ``reason`` is a code of :data:`REASONS`."""

    reason: str
    raw: bytes
    detail: str = ""

    @property
    def message(self) -> str:
        """``code: text`` for logs and reject files."""
        text = self.detail or REASONS.get(self.reason, "")
        return f"{self.reason}: {text}" if text else self.reason


@dataclass(frozen=True, slots=True)
class Event:
    """One valid click.

    The first nine attributes are the TripClick fields exactly as the line had them
    (``clinical_areas_raw`` keeps the leading comma, ``keywords`` its trailing spaces).
    ``click_ms`` is the original click time; ``event_ts``/``event_date``/``event_ms``
    are the (possibly time-compressed) event time, UTC.
    """

    date_created: str
    session_id: str
    document_id: int
    url: str
    title: str
    doi: str
    clinical_areas_raw: str
    keywords: str
    documents: list[int]
    click_ms: int
    event_ts: str
    event_date: str
    dedup_key: str
    clinical_areas: list[str]
    event_ms: int
    source: str | None = None
    produced_at: str | None = None
    # The parsed JSON object, so to_value writes the nine fields exactly as read.
    _fields: dict = field(default_factory=dict, repr=False, compare=False)
    # The line itself when it holds just the nine fields: to_value then appends to it
    # instead of re-serialising (the producer's hot path), keeping the fields byte-for-byte.
    _line: bytes | None = field(default=None, repr=False, compare=False)

    def to_value(self, source: str, produced_at: datetime, shift_ms: int = 0) -> bytes:
        """The Kafka value of this click (ARCHITECTURE 3.1), UTF-8 JSON.

        ``shift_ms`` moves the event time (time compression); ``DateCreated`` and the
        dedup key stay on the original click time.
        """
        produced = produced_at.astimezone(UTC).isoformat(timespec="microseconds")
        return self.value_bytes(source, produced, self.click_ms + shift_ms)

    def value_bytes(self, source: str, produced_at: str, event_ms: int) -> bytes:
        """:meth:`to_value` with the produce time already formatted and the event time in ms."""
        event_ts = iso_utc(event_ms)
        event_date = event_ts[:10]
        if self._line is not None:
            return _appended(self._line, event_ts, self.dedup_key, source, produced_at)
        obj = {name: self._fields[name] for name in FIELDS} if self._fields else self._nine()
        obj["event_ts"] = event_ts
        obj["event_date"] = event_date
        obj["dedup_key"] = self.dedup_key
        obj["source"] = source
        obj["produced_at"] = produced_at
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()

    def _nine(self) -> dict:
        return {
            "DateCreated": self.date_created,
            "SessionId": self.session_id,
            "DocumentId": self.document_id,
            "Url": self.url,
            "Title": self.title,
            "DOI": self.doi,
            "ClinicalAreas": self.clinical_areas_raw,
            "Keywords": self.keywords,
            "Documents": self.documents,
        }


def ms_to_datetime(ms: int) -> datetime:
    """Unix ms → aware UTC datetime, exact (no float rounding)."""
    return _EPOCH + timedelta(milliseconds=ms)


_DAY_NAMES: dict[int, str] = {}
# ".mmm000+00:00" for every millisecond: cheaper to index than to format per call.
_MILLIS = tuple(f"{m:03d}000+00:00" for m in range(1000))
# (second, "YYYY-MM-DDTHH:MM:SS.") of the last call: clicks come in time order, so it often hits.
_last_second: tuple[int, str] = (-1, "")


def iso_utc(ms: int) -> str:
    """Unix ms → ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``, as ``isoformat`` writes it, only faster."""
    global _last_second
    second, milli = divmod(ms, 1000)
    cached = _last_second
    if cached[0] == second:
        return cached[1] + _MILLIS[milli]
    day, rem = divmod(second, 86_400)
    name = _DAY_NAMES.get(day)
    if name is None:
        if len(_DAY_NAMES) > 4096:
            _DAY_NAMES.clear()
        name = _DAY_NAMES[day] = (_EPOCH + timedelta(days=day)).date().isoformat()
    minute, sec = divmod(rem, 60)
    hour, minute = divmod(minute, 60)
    prefix = f"{name}T{hour:02d}:{minute:02d}:{sec:02d}."
    _last_second = (second, prefix)
    return prefix + _MILLIS[milli]


def datetime_to_ms(ts: datetime) -> int:
    """Aware datetime → Unix ms, exact to the millisecond."""
    return (ts - _EPOCH) // _ONE_MS


def split_areas(text: str) -> list[str]:
    """``",Oncology,Surgery"`` → ``["Oncology", "Surgery"]`` (no empty items)."""
    return [a for a in (p.strip() for p in text.split(",")) if a]


class _DuplicateKey(ValueError):
    """A JSON object names a key twice: Spark's get_json_object takes the first, Python the last."""


def _unique_object(pairs: list[tuple[str, object]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        raise _DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return obj


_json_decode = json.JSONDecoder(object_pairs_hook=_unique_object).decode
_plain_json_decode = json.JSONDecoder().decode
# A \u escape of a UTF-16 surrogate: the only way JSON text can decode to a string
# that UTF-8 cannot hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

# The fast path: msgspec decodes straight into typed fields and checks their types in C,
# faster than a dict checked in Python (bench/README.md). It only ever accepts; see _decode.
_Id = Annotated[int, msgspec.Meta(ge=0, le=_MAX_ID - 1)]


class _Nine(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """A log line of exactly the nine fields, each of a valid line's type."""

    DateCreated: str
    SessionId: str
    DocumentId: _Id
    Url: str
    Title: str
    DOI: str
    ClinicalAreas: str
    Keywords: str
    Documents: list[_Id]


class ValueRecord(_Nine, forbid_unknown_fields=False, gc=False):
    """The fields of a Kafka value (ARCHITECTURE 3.1); other keys are ignored."""

    event_ts: str
    event_date: str
    dedup_key: str
    source: str
    produced_at: str


# What msgspec raises on input it cannot read (RecursionError: nested too deeply;
# UnicodeEncodeError: a str holding a surrogate, as surrogateescape decoding leaves).
_UNREADABLE = (msgspec.DecodeError, UnicodeDecodeError, UnicodeEncodeError, RecursionError)
_read_nine = msgspec.json.Decoder(_Nine).decode
_read_value = msgspec.json.Decoder(ValueRecord).decode
_read_json = msgspec.json.decode

# What _decode gives for a line or value whose nine fields are valid: its bytes, its
# fields (a struct from the typed reader, else the dict), click_ms and DocumentId.
_Decoded = tuple[bytes, _Nine | dict, int, int]

# msgspec keeps the last of a repeated key and says nothing. A struct it filled holds its
# required keys, so the text's strings are at least those keys and its string values:
# exactly that many proves no key repeats. A repeated key, or a string inside a nested
# value, makes the count larger; then the standard library reads the text and decides.
_STRINGS = {_read_nine: 9 + 7, _read_value: 14 + 12}


def _strings(data: bytes) -> int:
    """The number of JSON strings in ``data`` (read by msgspec, so valid JSON), or -1.

    Two unescaped quotes per string. With no doubled backslash in the text, every
    backslash before a quote escapes it; with one, -1 (rare: the standard library decides).
    """
    if b"\\" not in data:  # nearly every line: one byte search, then a count
        return data.count(b'"') >> 1
    if b"\\\\" in data:
        return -1
    return (data.count(b'"') - data.count(b'\\"')) >> 1


def _keys_unique(obj: dict, data: bytes) -> bool:
    """True when ``data`` provably names no key of ``obj`` twice (see :data:`_STRINGS`)."""
    strings = len(obj)
    for v in obj.values():
        if type(v) is str:
            strings += 1
    return _strings(data) == strings


def _decode(
    raw: bytes | bytearray | str, typed: Callable[[bytes | str], _Nine] | None, fast: bool = True
) -> _Decoded | Rejection:
    """Read ``raw`` and check its nine fields: ``(bytes, fields, click_ms, document_id)``.

    With ``fast``, msgspec reads first: into the struct of ``typed`` when given, else
    into a dict checked by :func:`_check_nine`. It only ever accepts. Anything it cannot
    read, or whose fields then fail a check (readers differ on some numbers, such as
    huge integers), is read again with the standard library, which decides every
    rejection and its reason; so results never depend on ``fast``
    (tests/payloads/test_fast_paths.py compares both on thousands of mutated lines).
    """
    if type(raw) is bytes:
        data = raw
    elif isinstance(raw, str):
        data = raw.encode("utf-8", "surrogateescape")
    else:
        data = raw = bytes(raw)  # a bytearray or memoryview
    if fast:
        if typed is not None:
            try:
                fields = typed(raw)
            except _UNREADABLE:
                pass
            else:
                if fields.SessionId.strip() and _strings(data) == _STRINGS[typed]:
                    click_ms = _click_ms(fields.DateCreated)
                    if click_ms is not None:
                        return data, fields, click_ms, fields.DocumentId
        try:
            obj = _read_json(raw)
        except _UNREADABLE:
            obj = None
        if type(obj) is dict and _keys_unique(obj, data):
            checked = _check_nine(obj, data)
            if type(checked) is tuple:
                return data, obj, *checked
    try:
        # A str too: surrogateescape decoding may have left bytes that are not UTF-8 in it.
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        return Rejection("not_utf8", data, f"not valid UTF-8 at byte {err.start}")
    try:
        obj = _json_decode(text)
    except _DuplicateKey as dup:
        return _duplicate(text, data, dup.args[0])
    except ValueError:
        return Rejection("not_json", data)
    except RecursionError:
        return Rejection("not_json", data, "nested too deeply to read")
    if type(obj) is not dict:
        return Rejection("not_object", data)
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return Rejection(
                "not_utf8", data, "a \\u escape is a lone UTF-16 surrogate, which UTF-8 cannot hold"
            )
    checked = _check_nine(obj, data)
    if type(checked) is Rejection:
        return checked
    return data, obj, *checked


def _duplicate(text: str, data: bytes, key: str) -> Rejection:
    """duplicate_key, unless the text is not JSON at all (the hook fires before the end is read)."""
    try:
        _plain_json_decode(text)
    except ValueError:
        return Rejection("not_json", data)
    except RecursionError:
        return Rejection("not_json", data, "nested too deeply to read")
    return Rejection("duplicate_key", data, f"the key {key!r} appears twice in one object")


# (text, time) of the last time _parse_iso accepted: a chunk of a batch run shares one
# produced_at, so silver reads the same text a thousand times in a row.
_last_iso: tuple[str, datetime | None] = ("", None)


def _parse_iso(value: object) -> datetime | None:
    """An RFC 3339 time within the click-time bounds (so UTC conversion cannot overflow)."""
    global _last_iso
    cached = _last_iso
    if value == cached[0]:
        return cached[1]
    if type(value) is not str or not _ISO_RE.fullmatch(value):
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:  # month 13, offset +25:00
        return None
    # Aware datetimes compare without overflow; astimezone(UTC) of 9999-12-31T23:00-05:00 does not.
    if not _MIN_TS <= ts < _MAX_TS:
        return None
    _last_iso = (value, ts)
    return ts


def _click_ms(created: object) -> int | None:
    """``/Date(1451606501933)/`` (optionally with a ``+hhmm`` offset) → Unix ms, else None."""
    if type(created) is not str:
        return None
    digits = created[6:-2]
    if (
        created.startswith("/Date(")
        and created.endswith(")/")
        and digits.isascii()
        and digits.isdigit()
    ):
        ms = int(digits)  # the common shape, without the regex
    else:
        m = _DATE_RE.fullmatch(created)
        if m is None:
            return None
        ms = int(m.group(1))
    return ms if _MIN_MS <= ms < _MAX_MS else None


def _check_nine(obj: dict, data: bytes) -> tuple[int, int] | Rejection:
    """Validate the nine fields; return (click_ms, document_id).

    Almost every line is valid, so one chain of cheap tests accepts it; only a line that
    fails any of them goes through :func:`_reject_nine`, which finds the first reason in
    a fixed order.
    """
    get = obj.get
    sid = get("SessionId")
    doc = get("DocumentId")
    documents = get("Documents")
    if (
        type(sid) is str
        and sid.strip()
        and type(doc) is int
        and 0 <= doc < _MAX_ID
        and type(get("Url")) is str
        and type(get("Title")) is str
        and type(get("DOI")) is str
        and type(get("ClinicalAreas")) is str
        and type(get("Keywords")) is str
        and type(documents) is list
    ):
        for d in documents:
            if type(d) is not int or not 0 <= d < _MAX_ID:
                break
        else:
            click_ms = _click_ms(get("DateCreated"))
            if click_ms is not None:
                return click_ms, doc
    return _reject_nine(obj, data)


def _reject_nine(obj: dict, data: bytes) -> Rejection:
    """The first reason the nine fields of ``obj`` fail, in the order of :data:`REASONS`."""
    sid = obj.get("SessionId")
    if type(sid) is not str:
        return Rejection("missing_session_id" if sid is None else "bad_session_id", data)
    if not sid.strip():
        return Rejection("missing_session_id", data)
    created = obj.get("DateCreated")
    if created is None:
        return Rejection("missing_date_created", data)
    if _click_ms(created) is None:
        return Rejection("bad_date_created", data, f"DateCreated {created!r} is not /Date(ms)/")
    doc = obj.get("DocumentId")
    if doc is None:
        return Rejection("missing_document_id", data)
    if type(doc) is not int or not 0 <= doc < _MAX_ID:
        return Rejection(
            "bad_document_id", data, f"DocumentId {doc!r} is not an integer in 0..2^63-1"
        )
    for name in _TEXT_FIELDS:
        if type(obj.get(name)) is not str:
            if name not in obj:
                return Rejection("missing_field", data, f"{name} is missing")
            return Rejection("bad_field_type", data, f"{name} is not a string")
    if "Documents" not in obj:
        return Rejection("missing_field", data, "Documents is missing")
    return Rejection("bad_documents", data)


def _event(obj: dict, click_ms: int, doc: int, **time) -> Event:
    sid = obj["SessionId"]
    return Event(
        date_created=obj["DateCreated"],
        session_id=sid,
        document_id=doc,
        url=obj["Url"],
        title=obj["Title"],
        doi=obj["DOI"],
        clinical_areas_raw=obj["ClinicalAreas"],
        keywords=obj["Keywords"],
        documents=obj["Documents"],
        click_ms=click_ms,
        dedup_key=time.pop("key", None) or dedup_key(sid, doc, click_ms),
        clinical_areas=split_areas(obj["ClinicalAreas"]),
        _fields=obj,
        **time,
    )


def _check_line(
    line: bytes | str, typed: Callable[[bytes | str], _Nine] | None, fast: bool
) -> _Decoded | Rejection:
    """What parse_line and encode_line share: decode the line without its line end, then
    check its event time."""
    line = line.rstrip("\r\n") if isinstance(line, str) else bytes(line).rstrip(b"\r\n")
    decoded = _decode(line, typed, fast)
    return _check_times(decoded) if type(decoded) is tuple else decoded


def _check_times(decoded: _Decoded) -> _Decoded | Rejection:
    """The preprocessed shape: its ``event_ts`` and ``event_date`` must be the click's own."""
    data, obj, click_ms, _doc = decoded
    if type(obj) is dict and len(obj) != len(FIELDS):
        if "event_ts" in obj:
            given = _parse_iso(obj["event_ts"])
            if given is None:
                return Rejection("bad_event_ts", data)
            if datetime_to_ms(given) != click_ms:
                return Rejection("event_ts_mismatch", data)
        if "event_date" in obj and obj["event_date"] != iso_utc(click_ms)[:10]:
            return Rejection("bad_event_date", data)
    return decoded


def parse_line(line: bytes | str, *, fast: bool = True) -> Event | Rejection:
    """Parse one TripClick log line (raw nine fields, or with ``event_ts``/``event_date``).

    The event time is the click time; in the second shape ``event_ts`` and
    ``event_date`` must agree with ``DateCreated``. ``fast=False`` reads with the
    standard library alone (the same result, slower; see :func:`_decode`).
    """
    checked = _check_line(line, None, fast)
    if type(checked) is Rejection:
        return checked
    data, obj, click_ms, doc = checked
    event_ts = iso_utc(click_ms)
    return _event(
        obj,
        click_ms,
        doc,
        event_ts=event_ts,
        event_date=event_ts[:10],
        event_ms=click_ms,
        _line=data.rstrip() if len(obj) == len(FIELDS) else None,
    )


def encode_line(
    line: bytes | str,
    source: str,
    produced_at: str,
    shift: Callable[[int], int] | None = None,
    *,
    fast: bool = True,
) -> tuple[str, bytes, str] | Rejection:
    """The producer's hot path: a log line → (key, Kafka value, event_date) or a Rejection.

    Same checks and same value as ``parse_line(line).to_value(...)`` without building an
    Event. ``produced_at`` is already formatted; ``shift`` maps the click time (ms) to
    the replayed time; ``fast`` as in :func:`parse_line`.
    """
    return _encoded(_check_line(line, _read_nine, fast), source, produced_at, shift)


def encode_lines(
    lines: list[bytes], source: str, produced_at: str, *, fast: bool = True
) -> list[tuple[str, bytes, str] | Rejection]:
    """:func:`encode_line` of each of ``lines``: one call per chunk for the batch producer."""
    out: list[tuple[str, bytes, str] | Rejection] = []
    append = out.append
    for line in lines:
        # _check_line inlined: per-line calls cost as much as the checks here.
        decoded = _decode(line.rstrip(b"\r\n"), _read_nine, fast)
        if type(decoded) is tuple and type(decoded[1]) is dict:
            decoded = _check_times(decoded)
        append(_encoded(decoded, source, produced_at))
    return out


def _encoded(
    checked: _Decoded | Rejection,
    source: str,
    produced_at: str,
    shift: Callable[[int], int] | None = None,
) -> tuple[str, bytes, str] | Rejection:
    """The (key, value, event_date) of a checked line."""
    if type(checked) is Rejection:
        return checked
    data, fields, click_ms, doc = checked
    event_ms = shift(click_ms) if shift else click_ms
    event_ts = iso_utc(event_ms)
    if type(fields) is not dict:
        sid = fields.SessionId
    else:
        sid = fields["SessionId"]
        if len(fields) != len(FIELDS):
            event = _event(
                fields, click_ms, doc, event_ts=event_ts, event_date="", event_ms=event_ms
            )
            return sid, event.value_bytes(source, produced_at, event_ms), event_ts[:10]
    value = _appended(data.rstrip(), event_ts, dedup_key(sid, doc, click_ms), source, produced_at)
    return sid, value, event_ts[:10]


_new_tuple = tuple.__new__


class ValueFields(NamedTuple):
    """What :func:`check_value` found valid: the value's fields and what derives from them."""

    fields: ValueRecord
    click_ms: int
    document_id: int
    dedup_key: str
    event_ts: datetime  # aware, UTC
    event_date: str
    source: str
    produced_at: str  # ISO-8601, UTC


def _utc_iso(text: str, ts: datetime) -> str:
    """``ts`` as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``; ``text`` itself when already so.

    ``text`` has passed :func:`_parse_iso`, so 32 characters ending ``+00:00`` are that form.
    """
    if len(text) == 32 and text.endswith("+00:00"):
        return text
    return ts.astimezone(UTC).isoformat(timespec="microseconds")


def check_value(value: bytes, *, fast: bool = True) -> ValueFields | Rejection:
    """The checks of :func:`validate_value` without building an :class:`Event` (silver's path).

    ``fast=False`` reads with the standard library alone (the same result, slower). It
    never raises: anyone who can write to the topic can send any bytes, and one value
    that stopped the validator would stop silver's stream for the date.
    """
    try:
        return _check_value(value, fast)
    except Exception as err:  # noqa: BLE001 - quarantined with its name instead
        return Rejection("validator_error", bytes(value or b""), f"{type(err).__name__}: {err}")


def _check_value(value: bytes, fast: bool) -> ValueFields | Rejection:
    decoded = _decode(value, _read_value, fast)
    if type(decoded) is Rejection:
        return decoded
    value, fields, click_ms, doc = decoded
    if type(fields) is dict:
        # Not type-checked here: the checks below (and _check_nine before) do that.
        fields = ValueRecord(**{name: fields.get(name) for name in ValueRecord.__struct_fields__})
    event_ts = fields.event_ts
    ts = _parse_iso(event_ts)
    if ts is None:
        return Rejection("bad_event_ts", value)
    ts = ts.astimezone(UTC)
    event_date = _utc_iso(event_ts, ts)[:10]
    if fields.event_date != event_date:
        return Rejection("bad_event_date", value)
    key = fields.dedup_key
    if not key:
        return Rejection("missing_dedup_key", value)
    if key != dedup_key(fields.SessionId, doc, click_ms):
        return Rejection("dedup_key_mismatch", value)
    source = fields.source
    if not isinstance(source, str) or not source:
        return Rejection("missing_source", value)
    produced_at = fields.produced_at
    produced = _parse_iso(produced_at)
    if produced is None:
        return Rejection("bad_produced_at", value)
    # tuple.__new__ skips the NamedTuple's __new__, a Python call: silver checks every value.
    return _new_tuple(
        ValueFields,
        (fields, click_ms, doc, key, ts, event_date, source, _utc_iso(produced_at, produced)),
    )


def validate_value(value: bytes) -> Event | Rejection:
    """Validate a Kafka value of topic ``tripclick_raw_logs`` (the shape ``to_value`` builds).

    Checks the nine fields, that ``event_date`` is the UTC date of ``event_ts``, that
    ``dedup_key`` is the key of the original click, and that ``source`` and
    ``produced_at`` are set. ``event_ts`` may differ from ``DateCreated`` (time compression).
    """
    checked = check_value(value)
    if type(checked) is Rejection:
        return checked
    fields, click_ms, doc, key, ts, event_date, source, produced_at = checked
    return _event(
        msgspec.structs.asdict(fields),
        click_ms,
        doc,
        key=key,
        event_ts=ts.isoformat(timespec="microseconds"),
        event_date=event_date,
        event_ms=datetime_to_ms(ts),
        source=source,
        produced_at=produced_at,
    )
