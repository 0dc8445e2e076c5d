"""The dedup key (ARCHITECTURE 3.2)."""

from __future__ import annotations

import re

import xxhash

from tripclick.dedup import dedup_key


def test_key_is_xxhash64_of_the_three_source_fields():
    expected = xxhash.xxh64(b"udcqii55du4gju45bno3d155|5666868|1451606501933", seed=0).hexdigest()
    assert dedup_key("udcqii55du4gju45bno3d155", 5666868, 1451606501933) == expected


def test_key_is_16_lower_case_hex_digits_even_with_leading_zeros():
    keys = {dedup_key(f"s{i}", i, 1451606501933 + i) for i in range(5000)}
    assert all(re.fullmatch(r"[0-9a-f]{16}", k) for k in keys)
    assert any(k.startswith("0") for k in keys)  # zero padding is kept
    assert len(keys) == 5000


def test_key_changes_with_each_field():
    base = dedup_key("abc", 1, 1000)
    assert (
        len({base, dedup_key("abd", 1, 1000), dedup_key("abc", 2, 1000), dedup_key("abc", 1, 1001)})
        == 4
    )
    # The separator keeps fields apart: "a|12|3" is not "a|1|23".
    assert dedup_key("a", 12, 3) != dedup_key("a", 1, 23)


def test_non_ascii_session_ids_hash_as_utf8():
    assert dedup_key("é", 1, 2) == xxhash.xxh64("é|1|2".encode(), seed=0).hexdigest()
