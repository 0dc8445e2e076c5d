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
from tripclick_mutations import CASES, PRODUCED, mutate, nine_field_lines

import tripclick.events as events
from tripclick.events import FIELDS, check_value, encode_line, encode_lines


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
    bases = nine_field_lines(sample_files)
    lines = bases + [mutate(rng, rng.choice(bases)) for _ in range(CASES)]
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
        for line in nine_field_lines(sample_files)
        if type(encoded := encode_line(line, "web-0", PRODUCED)) is tuple
    ]
    values = bases + [mutate(rng, rng.choice(bases)) for _ in range(CASES)]
    fast, slow = _both(check_value, values)
    assert _first_difference(values, fast, slow) == ""
    valid = sum(type(r) is events.ValueFields for r in fast)
    assert 0.1 * len(values) < valid < 0.9 * len(values)
    # The typed reader must accept most valid values, or the comparison proves little.
    typed = sum(type(_typed_fields(x, events._read_value)) is events.ValueRecord for x in values)
    assert typed > 0.8 * valid


def test_encode_lines_gives_what_encode_line_gives(sample_files):
    rng = random.Random(2018)
    bases = nine_field_lines(sample_files)
    lines = bases + [mutate(rng, rng.choice(bases)) for _ in range(CASES)]
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
