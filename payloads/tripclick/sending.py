"""The send loops of a produce run, ``batch`` and ``realtime``, and the state they share.

A :class:`SendLoop` holds one producer, its topic, the run's :class:`Summary`, where
rejected lines go (a :class:`RejectSink`), where progress goes (a :class:`ProgressSink`)
and the signal to stop (a :class:`Stop`). The single-process run
(:func:`tripclick.producer.produce_files`) and each process of
:mod:`tripclick.producer_pool` drive one the same way: build it, call
:meth:`SendLoop.batch` or :meth:`SendLoop.realtime`, read the summary.

Every line read becomes one Kafka record, so the lake loses nothing:

- a valid line → the enriched value of :meth:`Event.to_value`, key = ``SessionId``;
- an invalid line → its raw bytes unchanged, no key, headers ``source``, ``event_date``
  and ``reject_reason``; it is also counted and handed to the reject sink.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from confluent_kafka import KafkaException, Producer

from tripclick.errors import UserError
from tripclick.events import Event, Rejection, encode_line, encode_lines, iso_utc, parse_line
from tripclick.timeshift import Shift

# Lines a batch run encodes at once; also how often it polls, counts and checks for a stop.
CHUNK = 1000
# Lines between two progress updates of a realtime run.
REALTIME_TICK = 2000


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


class ProgressSink(Protocol):
    """Where a send loop reports how far it got (a terminal bar, a parent process)."""

    def update(self, summary: Summary) -> None: ...


class RejectSink(Protocol):
    """Where a send loop hands each rejected line (a reject file, a parent process)."""

    def write(self, rejection: Rejection, file: str, line_no: int) -> None: ...


class Stop(Protocol):
    """Set when the run should stop reading and flush (threading's and multiprocessing's Event)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


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


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line without its line end) of every non-blank line of ``path``."""
    with open(path, "rb") as fh:
        for no, line in enumerate(fh, 1):
            line = line.rstrip(b"\r\n")
            if line and not line.isspace():
                yield no, line


def chunks(
    files: list[Path] | list[str], keep: Callable[[bytes], bool] | None = None
) -> Iterator[tuple[str, list[int], list[bytes]]]:
    """(file, line numbers, lines) of up to :data:`CHUNK` non-blank lines ``keep`` accepts."""
    for path in files:
        name = str(path)
        numbers: list[int] = []
        lines: list[bytes] = []
        for no, line in read_lines(Path(path)):
            if keep is None or keep(line):
                numbers.append(no)
                lines.append(line)
                if len(lines) == CHUNK:
                    yield name, numbers, lines
                    numbers, lines = [], []
        if lines:
            yield name, numbers, lines


def realtime_items(files: list[Path], shift: Shift) -> Iterator[tuple[int, str, int, bytes]]:
    """(replayed ms, file, line number, line) of every line in replayed-time order.

    A bad line keeps its neighbour's time.
    """
    to_shifted = shift.shifter()
    keyed: list[tuple[int, int, int, str, bytes]] = []
    for file_no, path in enumerate(files):
        name, last = str(path), None
        for no, line in read_lines(path):
            parsed = parse_line(line)
            if isinstance(parsed, Event):
                last = to_shifted(parsed.click_ms)
            keyed.append((last if last is not None else -1, file_no, no, name, line))
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    first_valid = next((k[0] for k in keyed if k[0] >= 0), 0)
    for at, _, no, name, line in keyed:
        yield (at if at >= 0 else first_valid), name, no, line


class SendLoop:
    """One producer sending a run's lines, counting into ``summary`` as it goes.

    ``conf`` is the librdkafka configuration (:func:`tripclick.producer.client_config`).
    Only failed deliveries call back (``delivery.report.only.error``): a Python call per
    acknowledged record would cost more than the produce itself. What was queued and is
    neither failed nor still queued has been acknowledged. ``reject_day`` is the
    ``event_date`` header of a rejected line, whose own date cannot be trusted.
    """

    def __init__(
        self,
        conf: dict,
        topic: str,
        summary: Summary,
        rejects: RejectSink,
        progress: ProgressSink,
        stop: Stop,
        reject_day: str,
    ) -> None:
        conf = {**conf, "delivery.report.only.error": True, "on_delivery": self._on_delivery}
        self.producer = Producer(conf)
        self.topic = topic
        self.summary = summary
        self.rejects = rejects
        self.progress = progress
        self.stop = stop
        self.reject_headers = [
            ("source", summary.source.encode()),
            ("event_date", reject_day.encode()),
        ]
        self.queued = 0

    def batch(self, chunks: Iterator[tuple[str, list[int], list[bytes]]]) -> None:
        """Send the lines as fast as the broker takes them, a chunk at a time, then flush.

        ``produced_at`` is the time a chunk is encoded, a few milliseconds before its sends.
        """
        source, topic, produce = self.summary.source, self.topic, self.producer.produce
        n = 0
        for name, numbers, lines in chunks:
            if self.stop.is_set():
                break
            produced_at = iso_utc(int(time.time() * 1000))
            sent = 0
            for i, encoded in enumerate(encode_lines(lines, source, produced_at)):
                if type(encoded) is not tuple:
                    self._reject(encoded, name, numbers[i])
                    continue
                try:
                    # The value carries source and event_date: headers would make each send dearer.
                    produce(topic, encoded[1], encoded[0])
                    sent += 1
                except BufferError:
                    self.send(encoded[1], encoded[0])  # waits for room in the queue
            self.queued += sent
            n += len(lines)
            self._tick(n)
        self._read(n)
        self.flush()

    def realtime(
        self, items: Iterator[tuple[int, str, int, bytes]], shift: Shift, speed: float
    ) -> None:
        """Send each line when its replayed time, divided by ``speed``, has come; then flush."""
        source = self.summary.source
        to_shifted = shift.shifter()
        wall0 = data0 = None
        produced_at, produced_tick = "", -1.0
        n = 0
        for at, name, no, line in items:
            if self.stop.is_set():
                break
            # Pace by replayed time: wait until (at - first) / speed has passed.
            if wall0 is None:
                wall0, data0 = time.monotonic(), at
            delay = (at - data0) / 1000 / speed - (time.monotonic() - wall0)
            if delay > 0:
                self.producer.poll(0)
                if self.stop.wait(delay):
                    break
            now = time.time()
            if now - produced_tick >= 0.001:
                produced_tick = now
                produced_at = iso_utc(int(now * 1000))
            encoded = encode_line(line, source, produced_at, to_shifted)
            n += 1
            if type(encoded) is tuple:
                self.send(encoded[1], encoded[0])
            else:
                self._reject(encoded, name, no)
            if n % REALTIME_TICK == 0:
                self._tick(n)
        self._read(n)
        self.flush()

    def send(self, value: bytes, key: str | None, headers: list | None = None) -> None:
        """Queue one record, waiting for room in librdkafka's queue when it is full."""
        while True:
            try:
                if headers is None:
                    self.producer.produce(self.topic, value, key)
                else:
                    self.producer.produce(self.topic, value, key, headers=headers)
                self.queued += 1
                return
            except BufferError:
                # The local queue is full: let librdkafka deliver some, then retry.
                self.producer.poll(0.05)

    def flush(self) -> None:
        """Wait until every queued record is acknowledged or failed, reporting progress."""
        while len(self.producer) > 0:
            self.producer.flush(0.5)
            self._count()
            self.progress.update(self.summary)
        self.producer.poll(0)
        self._count()

    def _on_delivery(self, err: object, _msg: object) -> None:
        if err is not None:
            self.summary.failed += 1
            if self.summary.first_error is None:
                self.summary.first_error = str(err)

    def _reject(self, rejection: Rejection, file: str, line_no: int) -> None:
        """Send a bad line as it is, with its reason in the headers, and count and file it."""
        reason = rejection.reason
        self.send(rejection.raw, None, [*self.reject_headers, ("reject_reason", reason.encode())])
        self.summary.rejected += 1
        reasons = self.summary.rejects_by_reason
        reasons[reason] = reasons.get(reason, 0) + 1
        self.rejects.write(rejection, file, line_no)

    def _read(self, n: int) -> None:
        self.summary.lines = n
        self.summary.valid = n - self.summary.rejected

    def _count(self) -> None:
        self.summary.delivered = self.queued - self.summary.failed - len(self.producer)

    def _tick(self, n: int) -> None:
        self.producer.poll(0)
        self._read(n)
        self._count()
        self.progress.update(self.summary)
