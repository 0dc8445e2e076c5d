"""Mutated log lines and Kafka values: inputs on the edges where two readers of one value
could disagree, for the tests that compare a fast path with the validator.

``_mutate`` makes one to three random edits (a field's value, a field gone or doubled, raw
bytes) to a line; the callers seed the generator so a failure reproduces.
"""

from __future__ import annotations

import json
import random

from tripclick_bad_lines import BAD_LINES

from tripclick.events import FIELDS

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


def mutate(rng: random.Random, line: bytes) -> bytes:
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


def nine_field_lines(sample_files) -> list[bytes]:
    lines = [line for path in sample_files for line in path.read_bytes().splitlines()]
    nine = [json.dumps({k: json.loads(x)[k] for k in FIELDS}).encode() for x in lines[:100]]
    return nine + lines[:100] + [line for _, line in BAD_LINES]
