"""Each broken line gives its reason; good lines around it still parse."""

from __future__ import annotations

import pytest
from tripclick_bad_lines import BAD_LINES, GOOD

from tripclick.events import REASONS, Event, Rejection, encode_line, parse_line


@pytest.mark.parametrize(
    ("reason", "line"), BAD_LINES, ids=[f"{r}-{i}" for i, (r, _) in enumerate(BAD_LINES)]
)
def test_bad_line_is_rejected_with_its_reason(reason, line):
    result = parse_line(line)
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert reason in REASONS
    assert result.raw == line
    # The producer's fast path rejects exactly the same way.
    assert encode_line(line, "web-0", "2026-01-01T00:00:00.000000+00:00") == result


def test_good_lines_between_bad_ones_still_parse():
    import json

    lines = []
    for i, (_, bad) in enumerate(BAD_LINES):
        lines.append(json.dumps({**GOOD, "DocumentId": i}).encode())
        lines.append(bad)
    results = [parse_line(line) for line in lines]
    good = [r for r in results if isinstance(r, Event)]
    assert [e.document_id for e in good] == list(range(len(BAD_LINES)))
    assert [r.reason for r in results if isinstance(r, Rejection)] == [r for r, _ in BAD_LINES]
