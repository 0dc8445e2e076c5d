"""The fast decoders only speed things up: on any input they agree with the standard library.

``encode_line`` (the producer's hot path) and ``check_value`` (silver's) first decode
with msgspec into typed fields and fall back to ``json`` for anything it will not
accept. These tests feed both paths the same thousands of mutated lines and values,
seeded so a failure reproduces, and require equal results and no exception.
"""

from __future__ import annotations

import json
import random

import pytest
from tripclick_bad_lines import BAD_LINES

import tripclick.events as events
from tripclick.events import FIELDS, check_value, encode_line, encode_lines

PRODUCED = "2026-03-02T06:00:01.234000+00:00"
CASES = 4000

# Field values that sit on the edges the two readers could see differently.
ODD_VALUES = [
    None,
    True,
    0,
    -1,
    2**63 - 1,
    2**63,
    10**30,
    1.5,
    1e3,
    "",
    "   ",
    "x",
    "é",
    "/Date(1451606501933)/",
    "/Date(1451606501933+0100)/",
    "/Date(99)/",
    "2016-01-01T00:01:41.933000+00:00",
    "2016-01-01T01:01:41.933+01:00",
    "2016-01-01T00:01:41,933000+00:00",
    "9999-12-31T23:00:00-05:00",
    "2016-01-01T00:01:41.933Z",
    "2016-01-01",
    [],
    [1, 2],
    [1, "2"],
    [2**63],
    [True],
    {"a": 1},
]
# Raw JSON fragments that json.dumps never writes.
ODD_TEXTS = [b"NaN", b"-Infinity", b'"\\ud800"', b'"\\ud83d\\ude00"', b"1E400", b"-0", b"01"]
NOISE = b'"{}[],: \\\t\r\n0123456789-+.eEtrufalsn\xff\xc3\xa9\x00\x7f'


def _mutate(rng: random.Random, line: bytes) -> bytes:
    """One to three random edits: a field's value, a field gone or doubled, or raw bytes."""
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(6)
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):
            obj = None
        if kind < 3 and isinstance(obj, dict) and obj:
            name = rng.choice([*obj, "Extra"])
            if kind == 0:
                obj[name] = rng.choice(ODD_VALUES)
                line = json.dumps(obj, ensure_ascii=rng.random() < 0.5).encode(
                    "utf-8", "surrogatepass"
                )
            elif kind == 1:
                obj.pop(name, None)
                line = json.dumps(obj).encode("utf-8", "surrogatepass")
            else:
                # A duplicated key (readers take the last) or a value JSON writers never emit.
                tail = rng.choice([json.dumps(rng.choice(ODD_VALUES)).encode(), *ODD_TEXTS])
                line = line.rstrip()[:-1] + b', "' + name.encode() + b'": ' + tail + b"}"
        elif line:
            at = rng.randrange(len(line))
            byte = bytes([rng.choice(NOISE)])
            if kind == 3:
                line = line[:at] + byte + line[at + 1 :]
            elif kind == 4:
                line = line[:at] + line[at + 1 :]
            else:
                line = line[:at] + byte + line[at:]
    return line


def _nine_field_lines(sample_files) -> list[bytes]:
    lines = [line for path in sample_files for line in path.read_bytes().splitlines()]
    nine = [json.dumps({k: json.loads(x)[k] for k in FIELDS}).encode() for x in lines[:100]]
    return nine + lines[:100] + [line for _, line in BAD_LINES]


def _both(fn, inputs: list[bytes]) -> tuple[list, list]:
    """``fn`` of each input with msgspec first (fast=True) and with json alone (fast=False)."""
    return [fn(x, fast=True) for x in inputs], [fn(x, fast=False) for x in inputs]


def _first_difference(inputs: list[bytes], fast: list, slow: list) -> str:
    for x, a, b in zip(inputs, fast, slow, strict=True):
        if a != b:
            return f"input {x!r}\nfast {a!r}\nslow {b!r}"
    return ""


def test_encode_line_fast_and_standard_paths_agree(sample_files):
    rng = random.Random(2016)
    bases = _nine_field_lines(sample_files)
    lines = bases + [_mutate(rng, rng.choice(bases)) for _ in range(CASES)]
    fast, slow = _both(lambda x, fast: encode_line(x, "web-0", PRODUCED, fast=fast), lines)
    assert _first_difference(lines, fast, slow) == ""
    # The corpus must exercise both outcomes, or the comparison proves little.
    valid = sum(type(r) is tuple for r in fast)
    assert 0.1 * len(lines) < valid < 0.9 * len(lines)
    assert sum(type(_typed_fields(x)) is events._Nine for x in lines) > 0.3 * valid


def test_check_value_fast_and_standard_paths_agree(sample_files):
    rng = random.Random(2017)
    bases = [
        encoded[1]
        for line in _nine_field_lines(sample_files)
        if type(encoded := encode_line(line, "web-0", PRODUCED)) is tuple
    ]
    values = bases + [_mutate(rng, rng.choice(bases)) for _ in range(CASES)]
    fast, slow = _both(check_value, values)
    assert _first_difference(values, fast, slow) == ""
    valid = sum(type(r) is events.ValueFields for r in fast)
    assert 0.1 * len(values) < valid < 0.9 * len(values)
    # The typed reader must accept most valid values, or the comparison proves little.
    typed = sum(type(_typed_fields(x, events._read_value)) is events.ValueRecord for x in values)
    assert typed > 0.8 * valid


def test_encode_lines_gives_what_encode_line_gives(sample_files):
    rng = random.Random(2018)
    bases = _nine_field_lines(sample_files)
    lines = bases + [_mutate(rng, rng.choice(bases)) for _ in range(CASES)]
    batch = encode_lines(lines, "web-0", PRODUCED)
    single = [encode_line(x, "web-0", PRODUCED, fast=False) for x in lines]
    assert _first_difference(lines, batch, single) == ""
    # Lines of exactly the nine fields (the first hundred) all take the typed fast path.
    typed = [type(_typed_fields(x)) is events._Nine for x in lines]
    assert all(typed[:100])
    assert sum(typed) > 300  # 415 with this seed


def _typed_fields(data: bytes, reader=events._read_nine) -> object:
    """What ``_decode`` gives for the fields of ``data``: a struct when ``reader`` accepted."""
    decoded = events._decode(data, reader)
    return decoded if type(decoded) is events.Rejection else decoded[1]


@pytest.mark.parametrize("fn", [check_value, lambda x: encode_line(x, "web-0", PRODUCED)])
def test_a_lone_surrogate_is_rejected_not_raised(fn):
    line = json.dumps({k: "x" for k in FIELDS}).encode()
    line = line.replace(b'"SessionId": "x"', b'"SessionId": "\\udc00"')
    assert fn(line).reason in {"not_utf8"}
