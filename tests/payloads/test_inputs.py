"""Input files and the lines Kafka cannot take, without a broker.

Gzip read as its text, binary files refused in one line, lines over the cap, a record
``produce()`` refuses, realtime's bounded memory, and the producer pool's errors. A
producer pointed at a closed port still runs librdkafka's own checks on each record
(the message size among them), so the rejections are real; delivery fails afterwards.
"""

from __future__ import annotations

import bz2
import gzip
import json
import re
import subprocess
import sys
import threading
import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from tripclick import inputs, producer_pool
from tripclick.errors import UserError
from tripclick.events import Rejection, parse_line
from tripclick.generator import DaySpec, generate_day
from tripclick.inputs import check_input, chunks, read_lines, realtime_items
from tripclick.sending import STAND_IN_BYTES, ProgressSink, RejectSink, SendLoop, Summary
from tripclick.timeshift import Shift

NO_BROKER = {"bootstrap.servers": "127.0.0.1:1", "message.timeout.ms": 300, "log_level": 0}
GOOD = parse_line(
    b'{"DateCreated": "/Date(1451606501933)/", "SessionId": "s1", "DocumentId": 7, '
    b'"Url": "", "Title": "t", "DOI": "", "ClinicalAreas": "", "Keywords": "", "Documents": []}'
)


def line(title: str = "t", session: str = "s1") -> bytes:
    fields = {**GOOD._fields, "Title": title, "SessionId": session}
    return json.dumps(fields).encode()


class Rows(RejectSink):
    def __init__(self) -> None:
        self.rows: list[tuple[str, int, Rejection]] = []

    def write(self, rejection: Rejection, file: str, line_no: int) -> None:
        self.rows.append((file, line_no, rejection))


class Quiet(ProgressSink):
    def update(self, summary: Summary) -> None:
        pass


def loop(summary: Summary, rows: Rows, conf: dict | None = None, cap: int = 4096) -> SendLoop:
    conf = conf or NO_BROKER
    return SendLoop(conf, "t", summary, rows, Quiet(), threading.Event(), "2016-01-01", cap)


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> list[Path]:
    spec = DaySpec(date(2016, 1, 1), 2_500, seed=21, malformed_rate=0.04)
    return generate_day(spec, tmp_path_factory.mktemp("day")).files


def test_a_gzip_file_is_read_as_its_text_whatever_its_name(day, tmp_path):
    for name in ("day.jsonl.gz", "day.jsonl"):  # by its magic bytes, not its name
        packed = tmp_path / "gz" / name
        packed.parent.mkdir(exist_ok=True)
        packed.write_bytes(gzip.compress(day[0].read_bytes()))
        check_input(packed)
        assert list(read_lines(packed)) == list(read_lines(day[0]))
        packed.unlink()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("day.jsonl.bz2", bz2.compress(b'{"a": 1}\n' * 1000)),
        ("day.parquet", b"PAR1\x15\x04\x15\x00" + bytes(range(256)) * 4),
        ("day-utf16.jsonl", '{"a": 1}\n'.encode("utf-16")),
    ],
    ids=["bzip2", "parquet", "utf-16"],
)
def test_a_binary_file_is_refused_in_one_line_before_anything_is_sent(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UserError) as err:
        check_input(path)
    assert str(err.value) == (
        f"input file {path} is not text (a NUL byte in its first 8,192 bytes): "
        "give JSON lines, plain or gzip-compressed (.gz), in UTF-8"
    )
    # Through the CLI: exit 2 and that line, before Kafka is even asked.
    out = subprocess.run(
        [sys.executable, "-m", "tripclick.cli", "produce", "--mode", "batch", "--input", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"TRIPCLICK_KAFKA_BOOTSTRAP": "127.0.0.1:1", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"tripclick produce: error: {err.value}"]


def test_a_gzip_file_cut_short_is_a_user_error_naming_the_last_line_read(day, tmp_path):
    packed = gzip.compress(day[0].read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(
        UserError, match=r"^input file .*cut.jsonl.gz breaks off after line [0-9,]+ "
    ):
        list(read_lines(cut))
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(UserError, match="is not a readable gzip file"):
        check_input(broken)


def test_a_line_over_the_cap_is_read_as_its_head_and_the_next_line_goes_on(tmp_path):
    path = tmp_path / "big.jsonl"
    huge = b'{"Title": "' + b"x" * 5_000_000 + b'"}'
    path.write_bytes(line() + b"\n" + huge + b"\n" + line("after") + b"\n" + b"y" * 1024)
    got = list(read_lines(path, max_bytes=1024))
    assert [(no, len(text)) for no, text in got] == [
        (1, len(line())),
        (2, 1025),
        (3, len(line("after"))),
        (4, 1024),
    ]
    assert got[1][1] == huge[:1025]


def test_a_line_over_the_cap_is_rejected_as_too_large_and_the_run_goes_on(tmp_path):
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join([line(), line("x" * 5000), line("after"), b"{broken"]) + b"\n")
    for mode in ("batch", "realtime"):
        summary, rows = Summary(source="web-0", mode=mode, files=[str(path)]), Rows()
        send = loop(summary, rows, cap=4096)
        if mode == "batch":
            send.batch(chunks([path], max_bytes=4096))
        else:
            shift = Shift(date(2026, 3, 2))
            send.realtime(realtime_items([path], shift, 4096), shift, speed=1e9)
        assert (summary.lines, summary.valid, summary.rejected) == (4, 2, 2), mode
        assert summary.rejects_by_reason == {"too_large": 1, "not_json": 1}, mode
        reject = next(r for _, no, r in rows.rows if no == 2)
        assert reject.detail.startswith(
            "the line is longer than 4,096 bytes (TRIPCLICK_MAX_LINE_BYTES)"
        )
        assert reject.raw == line("x" * 5000)[:4097]
        # Every line was queued once (the broker being down, each failed its delivery).
        assert summary.failed == 4, mode


def test_a_record_kafka_refuses_becomes_its_lines_rejection(tmp_path):
    # librdkafka refuses a value over message.max.bytes in produce() itself (MSG_SIZE_TOO_LARGE).
    path = tmp_path / "day.jsonl"
    lines = [line(session=f"s{i}", title="x" * (2000 if i % 3 == 0 else 10)) for i in range(30)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    small = {**NO_BROKER, "message.max.bytes": 1000}
    for mode in ("batch", "realtime"):
        summary, rows = Summary(source="web-0", mode=mode, files=[str(path)]), Rows()
        send = loop(summary, rows, small, cap=100_000)
        if mode == "batch":
            send.batch(chunks([path]))
        else:
            shift = Shift(date(2026, 3, 2))
            send.realtime(realtime_items([path], shift), shift, speed=1e9)
        assert (summary.lines, summary.valid, summary.rejected) == (30, 20, 10), mode
        assert summary.rejects_by_reason == {"too_large": 10}
        assert [no for _, no, _ in rows.rows] == list(range(1, 31, 3))
        assert {r.detail for _, _, r in rows.rows} == {
            "Kafka refused the record as too large "
            "(Unable to produce message: Broker: Message size too large)"
        }
        # The stand-in of each (its first bytes) was queued: 30 records, all failed here.
        assert summary.failed == 30 and STAND_IN_BYTES < 1000


def test_realtime_holds_a_bounded_part_of_its_input(tmp_path, sample_files):
    day = generate_day(DaySpec(date(2016, 1, 1), 30_000, seed=5, malformed_rate=0.01), tmp_path)
    size = sum(p.stat().st_size for p in day.files)
    shift = Shift(date(2026, 3, 2))
    # The order is the one a sort of everything in memory gives (the logs are not sorted).
    for files in (sample_files, day.files):
        expected = _sorted_in_memory(files, shift)
        assert list(realtime_items(files, shift, run_bytes=64 * 1024)) == expected
    tracemalloc.start()
    try:
        n = sum(1 for _ in realtime_items(day.files, shift, run_bytes=1024 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 30_000
    # Measured: 11.6 MB of input, a peak of 1.3 MB (in memory before: all of it, and more).
    assert size > 10_000_000 and peak < 3_000_000, (size, peak)


def _sorted_in_memory(files, shift):
    """What realtime mode did before: every line in memory, sorted."""
    to_shifted = shift.shifter()
    keyed = []
    for file_no, path in enumerate(files):
        last = -1
        for no, text in read_lines(path):
            parsed = parse_line(text)
            if type(parsed) is not Rejection:
                last = to_shifted(parsed.click_ms)
            keyed.append((last, file_no, no, str(path), text))
    keyed.sort(key=lambda k: k[:3])
    first = next(k[0] for k in keyed if k[0] >= 0)
    return [(at if at >= 0 else first, name, no, text) for at, _, no, name, text in keyed]


def test_the_pool_turns_refused_records_into_rejections_not_pickling_errors(tmp_path):
    files = []
    for part in range(2):
        path = tmp_path / f"part-{part}.jsonl"
        path.write_bytes(b"\n".join(line("x" * 2000, f"s{part}-{i}") for i in range(5)) + b"\n")
        files.append(path)
    summary, rows = Summary(source="web-0", mode="batch", files=[str(p) for p in files]), Rows()
    small = {**NO_BROKER, "message.max.bytes": 1000}
    producer_pool.run(
        files, 2, small, "t", summary, rows, Quiet(), threading.Event(), "2016-01-01", 100_000
    )
    assert (summary.lines, summary.rejected) == (10, 10)
    assert summary.rejects_by_reason == {"too_large": 10}
    assert [(Path(f).name, no) for f, no, _ in rows.rows] == [
        (f"part-{p}.jsonl", no) for p in range(2) for no in range(1, 6)
    ]


def test_a_pool_process_that_fails_says_why_in_one_line(day, tmp_path):
    cut = tmp_path / "cut.jsonl.gz"
    packed = gzip.compress(day[0].read_bytes())
    cut.write_bytes(packed[: len(packed) // 2])
    summary = Summary(source="web-0", mode="batch", files=[str(cut)] * 2)
    with pytest.raises(UserError) as err:
        producer_pool.run(
            [cut, day[1]],
            2,
            NO_BROKER,
            "t",
            summary,
            Rows(),
            Quiet(),
            threading.Event(),
            "2016-01-01",
            4096,
        )
    text = str(err.value)
    assert "\n" not in text and "pickl" not in text
    assert re.match(rf"producer process [01] failed: input file {cut} breaks off after line ", text)


def test_the_spill_files_go_when_the_stream_is_closed(tmp_path, monkeypatch, day):
    opened = []
    real = inputs._spill

    def spy(run):
        fh = real(run)
        opened.append(fh)
        return fh

    monkeypatch.setattr(inputs, "_spill", spy)
    items = realtime_items(day, Shift(date(2026, 3, 2)), run_bytes=32 * 1024)
    next(items)
    assert len(opened) > 5 and not any(fh.closed for fh in opened)
    items.close()
    assert all(fh.closed for fh in opened)
