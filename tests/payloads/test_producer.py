"""The producers against the real local broker."""

from __future__ import annotations

import base64
import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date

import pytest
from conftest import consume_all
from kafka.partitioner import murmur2

from tripclick.events import Event, parse_line, validate_value
from tripclick.generator import DaySpec, generate_day
from tripclick.producer import produce_files
from tripclick.producer_pool import file_shares
from tripclick_devstack.stack.kafka import Kafka

pytestmark = pytest.mark.stack

DAY = date(2016, 1, 1)


def expected_partition(key: bytes, partitions: int = 3) -> int:
    # Kafka's Java client: murmur2 of the key, positive, modulo the partition count.
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def headers_of(msg) -> dict[str, bytes]:
    return dict(msg.headers() or [])


@pytest.mark.parametrize(
    ("workers", "one_file"),
    [(0, False), (2, False), (2, True)],
    ids=["one-process", "two-processes-whole-files", "two-processes-by-session"],
)
def test_batch_sends_every_line_with_the_right_keys_and_partitions(
    stack_services, fresh_topic, tmp_path, workers, one_file
):
    day = generate_day(
        DaySpec(DAY, 3_000, seed=3, duplicate_rate=0.02, malformed_rate=0.02), tmp_path / "day"
    )
    files = day.files
    if one_file:  # one file cannot be shared out whole: the processes split it by session
        files = [tmp_path / f"{DAY}_all.jsonl"]
        files[0].write_bytes(b"".join(p.read_bytes() for p in day.files))
    rejects = tmp_path / "rejects.jsonl"
    summary = produce_files(
        files,
        mode="batch",
        source="web-7",
        settings=stack_services,
        topic=fresh_topic,
        reject_file=rejects,
        workers=workers,
    )
    assert summary.ok, summary.line()
    assert (summary.lines, summary.delivered, summary.rejected) == (3_000, 3_000, 60)
    assert summary.valid == 2_940

    records = consume_all(stack_services, fresh_topic, 3_000)
    assert len(records) == 3_000
    # Each session's records stay in file order in one partition (ARCHITECTURE 3.1). Sessions
    # of different producer processes may interleave, so the order is checked per session.
    order = [parse_line(line) for p in files for line in p.read_bytes().splitlines()]
    position = {}
    for i, event in enumerate(e for e in order if isinstance(e, Event)):
        position.setdefault(event.dedup_key, i)
    by_session = collections.defaultdict(list)
    partitions_of = collections.defaultdict(set)
    for m in sorted(records, key=lambda m: (m.partition(), m.offset())):
        if m.key():
            by_session[m.key()].append(position[validate_value(m.value()).dedup_key])
            partitions_of[m.key()].add(m.partition())
    assert all(len(p) == 1 for p in partitions_of.values())
    assert all(p == sorted(p) for p in by_session.values())
    lines = collections.Counter(line for p in files for line in p.read_bytes().splitlines())
    valid = [m for m in records if m.key() is not None]
    invalid = [m for m in records if m.key() is None]
    assert (len(valid), len(invalid)) == (2_940, 60)
    for msg in valid:
        event = validate_value(msg.value())
        assert isinstance(event, Event), event
        assert msg.key() == event.session_id.encode()
        assert msg.partition() == expected_partition(msg.key())
        assert headers_of(msg) == {}  # source and event_date are in the value
        assert event.source == "web-7"
        assert event.event_ms == event.click_ms  # batch keeps the original time
    for msg in invalid:
        assert lines[msg.value()] >= 1  # the raw line, unchanged
        h = headers_of(msg)
        assert h["source"] == b"web-7" and h["event_date"] == b"2016-01-01"
        assert h["reject_reason"].decode() == parse_line(msg.value()).reason
    # Duplicate lines are sent as they are: the lake keeps them, silver dedups.
    keys = collections.Counter(validate_value(m.value()).dedup_key for m in valid)
    assert sum(n - 1 for n in keys.values()) == 60

    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert len(rows) == 60
    assert collections.Counter(r["reason"] for r in rows) == collections.Counter(
        summary.rejects_by_reason
    )
    for row in rows:
        raw = row["raw"].encode() if "raw" in row else base64.b64decode(row["raw_base64"])
        assert parse_line(raw).reason == row["reason"]
        assert row["source"] == "web-7" and row["line"] >= 1


def test_realtime_compresses_the_sample_into_the_window(stack_services, fresh_topic, sample_files):
    summary = produce_files(
        sample_files,
        mode="realtime",
        source="web-1",
        day="2026-03-02",
        speed=3600,  # the 60-minute window in about a second
        settings=stack_services,
        topic=fresh_topic,
    )
    assert summary.ok and summary.delivered == 562, summary.line()
    records = consume_all(stack_services, fresh_topic, 562)
    originals = {
        e.dedup_key: e
        for e in (parse_line(line) for p in sample_files for line in p.read_bytes().splitlines())
    }
    assert len(records) == 562
    by_partition = collections.defaultdict(list)
    for msg in records:
        event = validate_value(msg.value())
        original = originals[event.dedup_key]
        assert event.date_created == original.date_created
        # 15:00-16:00 Asia/Seoul on 2026-03-02 is 06:00-07:00 UTC.
        assert "2026-03-02T06:00" <= event.event_ts < "2026-03-02T07:00"
        assert event.event_date == "2026-03-02"
        by_partition[msg.partition()].append(event)
    for events in by_partition.values():
        # Sent in replayed-time order, so each partition is in time order.
        assert [e.event_ms for e in events] == sorted(e.event_ms for e in events)


def run_cli(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tripclick.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kw,
    )


def test_sigterm_stops_cleanly_and_flushes(stack_services, fresh_topic, tmp_path):
    day = generate_day(DaySpec(DAY, 2_000, seed=5), tmp_path / "day")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "tripclick.cli", "produce", "--mode", "realtime",
            "--input", *map(str, day.files), "--source", "web-0", "--date", "2026-03-02",
            "--speed", "60", "--json", "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TRIPCLICK_TOPIC": fresh_topic},
    )  # fmt: skip
    time.sleep(6)  # a minute of data time per second: some, not all, is sent by now
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    summary = json.loads(out)
    assert summary["stopped_by"] == "SIGTERM"
    assert 0 < summary["delivered"] < 2_000
    assert summary["delivered"] == summary["lines"] and summary["failed"] == 0
    assert "stopped by SIGTERM after flushing" in err
    assert (
        len(consume_all(stack_services, fresh_topic, summary["delivered"], timeout=30))
        == summary["delivered"]
    )


def test_user_mistakes_give_one_line(stack_services, tmp_path):
    missing = run_cli("produce", "--mode", "batch", "--input", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"tripclick produce: error: input file {tmp_path / 'nope.jsonl'} does not exist; check --input"
    ]
    day = generate_day(DaySpec(DAY, 10), tmp_path / "day")
    no_topic = run_cli(
        "produce", "--mode", "batch", "--input", str(day.files[0]),
        env={"TRIPCLICK_TOPIC": "no-such-topic"},
    )  # fmt: skip
    assert no_topic.returncode == 2
    assert "topic no-such-topic does not exist" in no_topic.stderr
    assert "Traceback" not in no_topic.stderr
    bad_date = run_cli(
        "produce", "--mode", "realtime", "--input", str(day.files[0]), "--date", "March"
    )
    assert bad_date.returncode == 2
    assert "--date 'March' is not a date; use YYYY-MM-DD" in bad_date.stderr


def test_broker_restart_during_batch_loses_and_duplicates_nothing(
    stack_services, fresh_topic, tmp_path
):
    day = generate_day(DaySpec(DAY, 120_000, seed=9, servers=1), tmp_path / "day")
    result: dict = {}

    def produce() -> None:
        result["summary"] = produce_files(
            day.files, mode="batch", source="web-0", settings=stack_services, topic=fresh_topic
        )

    kafka = Kafka(stack_services)
    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    # Let it get going, then take the broker away while records are in flight.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _topic_has(stack_services, fresh_topic, 2_000):
        time.sleep(0.2)
    kafka.stop()
    assert thread.is_alive(), (
        "the produce run ended before the broker stopped; raise the record count"
    )
    time.sleep(2)
    kafka.ensure_started()
    thread.join(timeout=240)
    assert not thread.is_alive(), "the produce run did not finish within 4 minutes of the restart"
    summary = result["summary"]
    assert summary.failed == 0 and summary.delivered == 120_000, summary.line()

    records = consume_all(stack_services, fresh_topic, 120_000, timeout=120)
    keys = collections.Counter(validate_value(m.value()).dedup_key for m in records)
    assert len(records) == 120_000
    assert len(keys) == 120_000  # every accepted record exactly once


# Enough lines that the stop arrives mid-run: two processes send 120,000 in about 1.6 s on an
# idle machine, sooner than the probe below sees its 2,000 records and signals.
SIGTERM_DAY_LINES = 600_000


def test_sigterm_stops_a_multi_process_batch_after_flushing(stack_services, fresh_topic, tmp_path):
    day = generate_day(DaySpec(DAY, SIGTERM_DAY_LINES, seed=4), tmp_path / "day")

    def stop_soon() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _topic_has(stack_services, fresh_topic, 2_000):
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=stop_soon, daemon=True).start()
    summary = produce_files(
        day.files, mode="batch", settings=stack_services, topic=fresh_topic, workers=2
    )
    assert summary.stopped_by == "SIGTERM"
    assert 0 < summary.delivered == summary.lines < SIGTERM_DAY_LINES, summary.line()
    assert summary.failed == 0
    records = consume_all(stack_services, fresh_topic, summary.delivered, timeout=60)
    assert len(records) == summary.delivered


def _topic_has(settings, topic: str, n: int) -> bool:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": "probe"})
    try:
        total = 0
        for p in range(3):
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=5)
            total += high
        return total >= n
    finally:
        consumer.close()


def test_whole_files_go_to_the_processes_only_when_they_balance(tmp_path):
    def files(*sizes: int) -> list[str]:
        names = []
        for i, size in enumerate(sizes):
            path = tmp_path / f"web-{i}.jsonl"
            path.write_bytes(b"x" * size)
            names.append(str(path))
        return names

    a, b, c, d = files(100, 100, 100, 100)
    assert file_shares([a, b], 2) == [[a], [b]]
    assert file_shares([a, b, c, d], 2) == [[a, c], [b, d]]  # input order kept in a share
    assert file_shares([a, b, c], 2) is None  # 200 against 100: one process would wait
    big, small = files(300, 100)[:2]
    assert file_shares([big, small], 2) is None
    assert file_shares([a], 2) is None
