"""The send loop, its sinks and the producer modules' import direction, without a broker.

A producer pointed at a closed 127.0.0.1 port queues every record and then fails its
delivery after ``message.timeout.ms``: enough to see what the loop counts, rejects and
reports. Delivery itself is tested against the real broker in test_producer.py.
"""

from __future__ import annotations

import ast
import collections
import itertools
import json
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest

from tripclick.events import Rejection, parse_line
from tripclick.generator import DaySpec, generate_day
from tripclick.inputs import chunks, read_lines
from tripclick.producer import RejectFile
from tripclick.producer_pool import _collect
from tripclick.sending import ProgressSink, RejectSink, SendLoop, Summary

PAYLOADS = Path(__file__).resolve().parents[2] / "payloads" / "tripclick"
NO_BROKER = {"bootstrap.servers": "127.0.0.1:1", "message.timeout.ms": 300, "log_level": 0}


class Rows(RejectSink):
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, Rejection]] = []

    def write(self, rejection: Rejection, file: str, line_no: int) -> None:
        self.rows.append((file, line_no, rejection))


class Lines(ProgressSink):
    def __init__(self) -> None:
        self.seen: list[int] = []

    def update(self, summary: Summary) -> None:
        self.seen.append(summary.lines)


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> list[Path]:
    spec = DaySpec(date(2016, 1, 1), 2_500, seed=21, malformed_rate=0.04)
    return generate_day(spec, tmp_path_factory.mktemp("day")).files


def test_a_batch_counts_every_line_and_hands_on_each_reject_in_file_order(day):
    summary = Summary(source="web-3", mode="batch", files=[str(p) for p in day])
    rows, progress = Rows(), Lines()
    loop = SendLoop(NO_BROKER, "t", summary, rows, progress, threading.Event(), "2016-01-01")
    loop.batch(chunks(day))

    read = [(str(p), no, line) for p in day for no, line in read_lines(p)]
    bad = [(f, no, parse_line(line)) for f, no, line in read if type(parse_line(line)) is Rejection]
    assert rows.rows == bad and len(bad) == 100
    assert (summary.lines, summary.rejected, summary.valid) == (2_500, 100, 2_400)
    assert summary.rejects_by_reason == collections.Counter(r.reason for _, _, r in bad)
    # No broker: every queued record, valid or not, failed; none counts as delivered.
    assert (summary.failed, summary.delivered) == (2_500, 0)
    assert summary.first_error and not summary.ok
    # Progress after every chunk (a file's last one may be short), then while flushing.
    after_chunks = list(itertools.accumulate(len(lines) for _, _, lines in chunks(day)))
    assert len(after_chunks) >= 3
    assert progress.seen[: len(after_chunks)] == after_chunks
    assert progress.seen[-1] == 2_500


def test_a_stop_before_the_first_chunk_sends_nothing(day):
    summary = Summary(source="web-3", mode="batch", files=[str(p) for p in day])
    stop = threading.Event()
    stop.set()
    loop = SendLoop(NO_BROKER, "t", summary, Rows(), Lines(), stop, "2016-01-01")
    loop.batch(chunks(day))
    assert (summary.lines, summary.failed, summary.delivered) == (0, 0, 0)


def test_a_reject_file_holds_one_json_line_per_reject_and_is_replaced_only_when_opened(tmp_path):
    path = tmp_path / "rejects" / "2016-01-01_web-0.jsonl"
    path.parent.mkdir()
    path.write_text("from the run before\n")
    rejects = RejectFile(path, "web-0", "2016-01-01")
    assert path.read_text() == "from the run before\n"  # a run that fails its checks keeps it
    with rejects:
        rejects.write(Rejection("not_json", b'{"a":'), "web-0.jsonl", 7)
        rejects.write(Rejection("not_utf8", b"\xff", "not valid UTF-8 at byte 0"), "web-0.jsonl", 9)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows == [
        {
            "reason": "not_json",
            "detail": "not_json: the line is not valid JSON",
            "file": "web-0.jsonl",
            "line": 7,
            "source": "web-0",
            "event_date": "2016-01-01",
            "raw": '{"a":',
        },
        {
            "reason": "not_utf8",
            "detail": "not_utf8: not valid UTF-8 at byte 0",
            "file": "web-0.jsonl",
            "line": 9,
            "source": "web-0",
            "event_date": "2016-01-01",
            "raw_base64": "/w==",
        },
    ]


def test_the_pool_adds_up_its_processes_and_writes_their_rejects_in_input_order():
    summary = Summary(source="web-0", mode="batch", files=["a", "b"])
    rows = Rows()
    bad = Rejection("not_json", b"{")

    def result(index, lines, reject_rows, failed=0, first_error=None):
        return {
            "index": index,
            "lines": lines,
            "rejected": len(reject_rows),
            "delivered": lines - failed,
            "failed": failed,
            "first_error": first_error,
            "reasons": {"not_json": len(reject_rows)} if reject_rows else {},
            "rows": reject_rows,
        }

    got = {
        1: result(1, 10, [("b", 2, bad), ("a", 9, bad)], failed=1, first_error="timed out"),
        0: result(0, 20, [("a", 3, bad)]),
    }
    _collect(got, ["a", "b"], summary, rows)
    assert [(f, no) for f, no, _ in rows.rows] == [("a", 3), ("a", 9), ("b", 2)]
    assert (summary.lines, summary.rejected, summary.valid) == (30, 3, 27)
    assert (summary.delivered, summary.failed, summary.first_error) == (29, 1, "timed out")
    assert summary.rejects_by_reason == {"not_json": 3}


def test_the_producer_imports_the_pool_and_the_send_loop_never_the_reverse():
    code = (
        "import sys, tripclick.sending, tripclick.producer_pool, tripclick.progress; "
        "print('tripclick.producer' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    # No import inside a function, where it would hide a cycle.
    for name in ("producer.py", "producer_pool.py", "sending.py", "progress.py", "events.py"):
        tree = ast.parse((PAYLOADS / name).read_text())
        inner = [
            node.lineno
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
            for node in ast.walk(fn)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tripclick")
        ]
        assert inner == [], f"{name} imports tripclick inside a function at lines {inner}"
