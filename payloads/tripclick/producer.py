"""Replay TripClick log files into Kafka: ``realtime`` (paced, time-shifted) or ``batch`` (fast).

Every line read becomes one Kafka record, so the lake loses nothing:

- a valid line → the enriched value of :meth:`Event.to_value`, key = ``SessionId``;
- an invalid line → its raw bytes unchanged, no key, header ``reject_reason``; it is
  also counted and written to the reject file (JSON lines with reason, file, line
  number, source and the raw line).

A valid record's value carries ``source`` and ``event_date``; an invalid one has them as
headers (with ``reject_reason``), since its value cannot be trusted. The client is
confluent-kafka (librdkafka): in ``bench/results/producer.json`` it is several times
faster than kafka-python for the same settings. ``acks=all`` with the idempotent
producer and unlimited retries inside ``delivery_timeout_ms`` means a broker restart
neither loses nor duplicates an accepted record. Partitioning is murmur2, like the
Java client, so Spark and any other client agree on where a session's clicks live.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from confluent_kafka import KafkaException, Producer

from tripclick import config
from tripclick.errors import UserError
from tripclick.events import Event, Rejection, encode_line, encode_lines, iso_utc, parse_line
from tripclick.progress import Progress
from tripclick.timeshift import Shift

MODES = ("realtime", "batch")
COMPRESSION = "lz4"
DELIVERY_TIMEOUT_MS = 300_000
# Below this input size, starting more producer processes costs more than it saves.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
# Lines a batch run encodes at once; also how often it polls, counts and checks for a stop.
CHUNK = 1000
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def client_config(settings: config.Settings, source: str, **overrides: object) -> dict:
    """librdkafka settings of the producer (also used by the benchmark)."""
    from tripclick import kafka_security

    conf: dict[str, object] = {
        "bootstrap.servers": settings.kafka_bootstrap,
        "client.id": f"tripclick-producer-{source}",
        "acks": "all",
        "enable.idempotence": True,
        "compression.type": COMPRESSION,
        # Java-compatible key hashing: same partition as Kafka's own clients.
        "partitioner": "murmur2_random",
        "linger.ms": 20,
        "batch.size": 1_000_000,
        "queue.buffering.max.messages": 500_000,
        "queue.buffering.max.kbytes": 512 * 1024,
        # Retries are unlimited until the delivery timeout; back off between them.
        "retry.backoff.ms": 200,
        "retry.backoff.max.ms": 5_000,
        "delivery.timeout.ms": DELIVERY_TIMEOUT_MS,
        "reconnect.backoff.ms": 200,
        "reconnect.backoff.max.ms": 5_000,
        # Plain text locally; TLS trusting the platform CA on the aws cluster.
        **kafka_security.librdkafka_options(settings),
    }
    conf.update(overrides)
    return conf


@dataclass
class Summary:
    """What a produce run did; ``delivered`` counts records the broker acknowledged."""

    source: str
    mode: str
    files: list[str]
    lines: int = 0
    valid: int = 0
    rejected: int = 0
    delivered: int = 0
    failed: int = 0
    elapsed_s: float = 0.0
    records_per_s: float = 0.0
    stopped_by: str | None = None
    reject_file: str | None = None
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    first_error: str | None = None
    time_plan: str = ""

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.delivered == self.lines and self.stopped_by is None

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        text = (
            f"{self.source}: {self.lines:,} lines read, {self.valid:,} valid, "
            f"{self.rejected:,} rejected, {self.delivered:,} delivered, {self.failed:,} failed "
            f"in {self.elapsed_s:.1f} s ({self.records_per_s:,.0f} records/s)"
        )
        if self.rejected:
            text += f"; rejects in {self.reject_file}"
        if self.stopped_by:
            text += f"; stopped by {self.stopped_by} after flushing"
        if self.first_error:
            text += f"; first delivery error: {self.first_error}"
        return text


class _RejectFile:
    """JSON lines of rejected input; truncated at the start of a run (re-runs replace it)."""

    def __init__(self, path: Path | None, source: str) -> None:
        self.path = path
        self.source = source
        self.fh = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.fh = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, rej: Rejection, file: str, line_no: int, event_date: str) -> None:
        if self.fh is None:
            return
        row: dict[str, object] = {
            "reason": rej.reason,
            "detail": rej.message,
            "file": file,
            "line": line_no,
            "source": self.source,
            "event_date": event_date,
        }
        try:
            row["raw"] = rej.raw.decode("utf-8")
        except UnicodeDecodeError:
            row["raw_base64"] = base64.b64encode(rej.raw).decode()
        self.fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


class _StopFlag:
    """SIGTERM/SIGINT set the flag (the run stops reading and flushes); a second one aborts."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name: str | None = None
        self._saved: dict[int, object] = {}

    def _handle(self, signum: int, _frame: object) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name
        self.event.set()

    def __enter__(self) -> _StopFlag:
        # Signal handlers can only be installed from the main thread.
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)


def date_from_name(path: Path) -> str | None:
    m = _DATE_IN_NAME.search(path.name)
    if not m:
        return None
    try:
        return date.fromisoformat(m.group(1)).isoformat()
    except ValueError:
        return None


def _read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with open(path, "rb") as fh:
        for no, line in enumerate(fh, 1):
            line = line.rstrip(b"\r\n")
            if line and not line.isspace():
                yield no, line


def _count_lines(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        total += sum(1 for _ in _read_lines(path))
    return total


def _check_inputs(paths: list[Path]) -> None:
    if not paths:
        raise UserError("no input files: give one or more with --input PATH")
    for path in paths:
        if not path.is_file():
            raise UserError(f"input file {path} does not exist; check --input")


def connect(conf: dict, topic: str) -> Producer:
    """A producer whose broker answered and whose topic exists, or a one-line UserError."""
    producer = Producer(conf)
    bootstrap = conf["bootstrap.servers"]
    try:
        meta = producer.list_topics(topic, timeout=15)
    except KafkaException as err:
        hint = "start it (tripclick up) or set TRIPCLICK_KAFKA_BOOTSTRAP"
        if conf.get("security.protocol") == "SSL":
            hint += (
                "; over TLS also check that TRIPCLICK_KAFKA_SSL_CA is the CA that signed "
                "the brokers' certificates"
            )
        raise UserError(f"cannot reach Kafka at {bootstrap} ({err.args[0]}); {hint}") from None
    info = meta.topics.get(topic)
    if info is None or info.error is not None:
        raise UserError(
            f"topic {topic} does not exist on {bootstrap}; create it (tripclick up does locally)"
        )
    return producer


class _Sender:
    """Wraps produce(): waits for queue room and counts deliveries.

    Only failed deliveries call back (``delivery.report.only.error``): a Python call per
    acknowledged record would cost more than the produce itself. What was queued and is
    neither failed nor still queued has been acknowledged.
    """

    def __init__(self, producer: Producer, topic: str, summary: Summary) -> None:
        self.producer = producer
        self.topic = topic
        self.summary = summary
        self.queued = 0
        self.produce = producer.produce

    def on_delivery(self, err: object, _msg: object) -> None:
        if err is not None:
            self.summary.failed += 1
            if self.summary.first_error is None:
                self.summary.first_error = str(err)

    def send(self, value: bytes, key: str | None, headers: list | None = None) -> None:
        while True:
            try:
                if headers is None:
                    self.produce(self.topic, value, key)
                else:
                    self.produce(self.topic, value, key, headers=headers)
                self.queued += 1
                return
            except BufferError:
                # The local queue is full: let librdkafka deliver some, then retry.
                self.producer.poll(0.05)

    def count(self) -> None:
        self.summary.delivered = self.queued - self.summary.failed - len(self.producer)

    def flush(self, progress: Progress) -> None:
        while len(self.producer) > 0:
            self.producer.flush(0.5)
            self.count()
            progress.update(self.summary)
        self.producer.poll(0)
        self.count()


def produce_files(
    paths: list[Path | str],
    *,
    mode: str = "batch",
    source: str = "web-0",
    day: str | None = None,
    speed: float = 1.0,
    window_start: str = "15:00",
    window_minutes: int = 60,
    compress: bool = True,
    reject_file: Path | str | None = None,
    settings: config.Settings | None = None,
    topic: str | None = None,
    progress: bool = False,
    client_overrides: dict | None = None,
    workers: int | None = None,
) -> Summary:
    """Send the lines of ``paths`` to Kafka and return the summary (the CLI and run-day use this).

    ``batch`` keeps the original times and sends as fast as the broker takes them.
    ``realtime`` merges the files by click time, moves the clicks onto ``day`` (default:
    today in the configured zone), compressed into the window unless ``compress`` is
    False, and paces the sends by that time divided by ``speed``.
    ``day`` also names the ``event_date`` header of rejected lines (else the date in the
    file name, else today UTC). ``reject_file`` defaults to
    ``<home>/rejects/<date>_<source>.jsonl``. A batch run of a big input uses
    ``workers`` producer processes, each owning a share of the sessions (default: one per
    CPU; 0 or 1: this process alone); each session's records keep their file order.
    """
    settings = settings or config.load()
    if mode not in MODES:
        raise UserError(f"--mode {mode!r} is unknown; use realtime or batch")
    if not source or not re.fullmatch(r"[A-Za-z0-9_.-]+", source):
        raise UserError(f"--source {source!r}: use a name like web-0 (letters, digits, . _ -)")
    if speed <= 0:
        raise UserError(f"--speed {speed}: give a positive factor (1 = real time)")
    if day is not None:
        try:
            day = date.fromisoformat(day).isoformat()
        except ValueError:
            raise UserError(f"--date {day!r} is not YYYY-MM-DD") from None
    files = [Path(p) for p in paths]
    _check_inputs(files)
    topic = topic or settings.topic

    shift: Shift | None = None
    if mode == "realtime":
        from tripclick.timeshift import parse_hhmm, zone

        target = day or datetime.now(zone(settings.timezone)).date().isoformat()
        shift = Shift(
            date.fromisoformat(target),
            compress=compress,
            window_start=parse_hhmm(window_start),
            window_minutes=window_minutes,
            timezone=settings.timezone,
        )
        reject_day = target
    else:
        reject_day = day or date_from_name(files[0]) or datetime.now(UTC).date().isoformat()

    if reject_file is None:
        reject_file = settings.home / "rejects" / f"{reject_day}_{source}.jsonl"
    summary = Summary(
        source=source,
        mode=mode,
        files=[str(p) for p in files],
        reject_file=str(reject_file),
        time_plan=shift.describe() if shift else "original times",
    )
    conf = client_config(settings, source, **(client_overrides or {}))
    conf["delivery.report.only.error"] = True
    sender_box: list[_Sender] = []
    conf["on_delivery"] = lambda err, msg: sender_box[0].on_delivery(err, msg)
    producer = connect(conf, topic)
    sender = _Sender(producer, topic, summary)
    sender_box.append(sender)
    rejects = _RejectFile(Path(reject_file), source)
    total = _count_lines(files) if progress else 0
    bar = Progress(f"{source} {mode}", total, enabled=progress)
    if workers is None:
        import multiprocessing

        big = sum(p.stat().st_size for p in files) >= PARALLEL_MIN_BYTES
        # A daemonic process (a multiprocessing.Pool worker) may not start processes.
        may_fork = not multiprocessing.current_process().daemon
        workers = (os.cpu_count() or 1) if big and may_fork else 1
    started = time.monotonic()
    try:
        with _StopFlag() as stop:
            if shift is None and workers > 1:
                from tripclick import producer_pool

                producer_pool.run(
                    files, workers, conf, topic, summary, rejects, bar, stop, reject_day
                )
            elif shift is None:
                _run_batch(_chunks(files), sender, rejects, summary, bar, stop, reject_day)
                sender.flush(bar)
            else:
                items = _realtime_items(files, shift)
                _run_realtime(items, sender, rejects, summary, bar, stop, reject_day, shift, speed)
                sender.flush(bar)
            summary.stopped_by = stop.signal_name
    finally:
        rejects.close()
        bar.close(summary)
    summary.elapsed_s = round(time.monotonic() - started, 3)
    summary.records_per_s = (
        round(summary.delivered / summary.elapsed_s, 1) if summary.elapsed_s else 0.0
    )
    return summary


def _chunks(
    files: list[Path] | list[str], keep: Callable[[bytes], bool] | None = None
) -> Iterator[tuple[str, list[int], list[bytes]]]:
    """(file, line numbers, lines) of up to :data:`CHUNK` non-blank lines ``keep`` accepts."""
    for path in files:
        name = str(path)
        numbers: list[int] = []
        lines: list[bytes] = []
        for no, line in _read_lines(Path(path)):
            if keep is None or keep(line):
                numbers.append(no)
                lines.append(line)
                if len(lines) == CHUNK:
                    yield name, numbers, lines
                    numbers, lines = [], []
        if lines:
            yield name, numbers, lines


def _realtime_items(files: list[Path], shift: Shift) -> Iterator[tuple[int, str, int, bytes]]:
    """(replayed ms, file, line number, line) of every line in replayed-time order.

    A bad line keeps its neighbour's time.
    """
    to_shifted = shift.shifter()
    keyed: list[tuple[int, int, int, str, bytes]] = []
    for file_no, path in enumerate(files):
        name, last = str(path), None
        for no, line in _read_lines(path):
            parsed = parse_line(line)
            if isinstance(parsed, Event):
                last = to_shifted(parsed.click_ms)
            keyed.append((last if last is not None else -1, file_no, no, name, line))
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    first_valid = next((k[0] for k in keyed if k[0] >= 0), 0)
    for at, _, no, name, line in keyed:
        yield (at if at >= 0 else first_valid), name, no, line


def _reject(
    rej: Rejection,
    sender: _Sender,
    rejects: _RejectFile,
    summary: Summary,
    name: str,
    no: int,
    reject_day: str,
) -> None:
    """Send a bad line as it is, with its reason in the headers, and count and file it."""
    sender.send(
        rej.raw,
        None,
        [
            ("source", summary.source.encode()),
            ("event_date", reject_day.encode()),
            ("reject_reason", rej.reason.encode()),
        ],
    )
    summary.rejected += 1
    reasons = summary.rejects_by_reason
    reasons[rej.reason] = reasons.get(rej.reason, 0) + 1
    rejects.write(rej, name, no, reject_day)


def _progress(n: int, sender: _Sender, summary: Summary, bar: Progress) -> None:
    sender.producer.poll(0)
    summary.lines = n
    summary.valid = n - summary.rejected
    sender.count()
    bar.update(summary)


def _run_batch(
    chunks: Iterator[tuple[str, list[int], list[bytes]]],
    sender: _Sender,
    rejects: _RejectFile,
    summary: Summary,
    bar: Progress,
    stop: _StopFlag,
    reject_day: str,
) -> None:
    """Send the lines as fast as the broker takes them, a chunk at a time.

    ``produced_at`` is the time a chunk is encoded, a few milliseconds before its sends.
    """
    source = summary.source
    topic, produce = sender.topic, sender.produce
    n = 0
    for name, numbers, lines in chunks:
        if stop.event.is_set():
            break
        produced_at = iso_utc(int(time.time() * 1000))
        sent = 0
        for i, encoded in enumerate(encode_lines(lines, source, produced_at)):
            if encoded is None:
                encoded = encode_line(lines[i], source, produced_at)
                if type(encoded) is not tuple:
                    _reject(encoded, sender, rejects, summary, name, numbers[i], reject_day)
                    continue
            try:
                # The value carries source and event_date; headers would cost a third of the send.
                produce(topic, encoded[1], encoded[0])
                sent += 1
            except BufferError:
                sender.send(encoded[1], encoded[0])  # waits for room in the queue
        sender.queued += sent
        n += len(lines)
        _progress(n, sender, summary, bar)
    summary.lines = n
    summary.valid = n - summary.rejected


def _run_realtime(
    items: Iterator[tuple[int, str, int, bytes]],
    sender: _Sender,
    rejects: _RejectFile,
    summary: Summary,
    bar: Progress,
    stop: _StopFlag,
    reject_day: str,
    shift: Shift,
    speed: float,
) -> None:
    """Send each line when its replayed time, divided by ``speed``, has come."""
    source = summary.source
    to_shifted = shift.shifter()
    wall0 = data0 = None
    produced_at, produced_tick = "", -1.0
    n = 0
    for at, name, no, line in items:
        if stop.event.is_set():
            break
        # Pace by replayed time: wait until (at - first) / speed has passed.
        if wall0 is None:
            wall0, data0 = time.monotonic(), at
        delay = (at - data0) / 1000 / speed - (time.monotonic() - wall0)
        if delay > 0:
            sender.producer.poll(0)
            if stop.event.wait(delay):
                break
        now = time.time()
        if now - produced_tick >= 0.001:
            produced_tick = now
            produced_at = iso_utc(int(now * 1000))
        encoded = encode_line(line, source, produced_at, to_shifted)
        n += 1
        if type(encoded) is tuple:
            sender.send(encoded[1], encoded[0])
        else:
            _reject(encoded, sender, rejects, summary, name, no, reject_day)
        if n % 2000 == 0:
            _progress(n, sender, summary, bar)
    summary.lines = n
    summary.valid = n - summary.rejected


def print_summary(summary: Summary, as_json: bool = False) -> None:
    print(summary.line(), file=sys.stderr)
    if as_json:
        print(json.dumps(summary.to_dict()))
