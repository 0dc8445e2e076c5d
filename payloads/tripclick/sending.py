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
- a line over the cap (``too_large``), or one Kafka refuses (``produce()`` raising, e.g.
  message size too large) → a rejection like the above, sent as its first
  :data:`STAND_IN_BYTES` bytes; the run goes on.

The input files are read by :mod:`tripclick.inputs`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Protocol

from confluent_kafka import KafkaError, KafkaException, Producer

from tripclick.config import MAX_LINE_BYTES
from tripclick.errors import UserError
from tripclick.events import Rejection, encode_line, encode_lines, iso_utc
from tripclick.timeshift import Shift

# Lines between two progress updates of a realtime run.
REALTIME_TICK = 2000
# What Kafka gets of a line too large to send: its head, so the record still says where
# it was (file and line are in the reject file).
STAND_IN_BYTES = 512


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


# What a broker answers a principal its ACLs do not allow.
_DENIED = (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED)


def denied_message(bootstrap: str, topic: str) -> str:
    return (
        f"Kafka at {bootstrap} denies this client writing topic {topic}: the ACLs allow it"
        " only to the producers' principal; check that TRIPCLICK_KAFKA_SSL_KEYSTORE holds the"
        " producer's certificate"
    )


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
                "the brokers' certificates, and that TRIPCLICK_KAFKA_SSL_KEYSTORE holds this "
                "client's certificate, signed by the Kafka clients' CA"
            )
        raise UserError(f"cannot reach Kafka at {bootstrap} ({err.args[0]}); {hint}") from None
    info = meta.topics.get(topic)
    if info is not None and info.error is not None and info.error.code() in _DENIED:
        raise UserError(denied_message(bootstrap, topic))
    if info is None or info.error is not None:
        raise UserError(
            f"topic {topic} does not exist on {bootstrap}; create it (tripclick up does locally)"
        )
    if conf.get("security.protocol") == "SSL" and not _may_write(conf, topic):
        raise UserError(denied_message(bootstrap, topic))
    return producer


def _may_write(conf: dict, topic: str) -> bool:
    """Whether the brokers' ACLs let this client write the topic, asked before the first
    record: an idempotent producer refused its first write fails fatally, record by record."""
    from confluent_kafka import TopicCollection
    from confluent_kafka.admin import AclOperation, AdminClient

    admin = AdminClient(
        {k: v for k, v in conf.items() if k.startswith(("bootstrap.", "security.", "ssl."))}
    )
    future = admin.describe_topics(TopicCollection([topic]), include_authorized_operations=True)
    try:
        allowed = future[topic].result(timeout=15).authorized_operations
    except KafkaException as err:
        if err.args[0].code() in _DENIED:
            return False
        raise UserError(f"cannot describe topic {topic} on Kafka ({err.args[0].str()})") from None
    # No list: a broker without an authorizer, where everyone may do everything.
    return allowed is None or bool({AclOperation.WRITE, AclOperation.ALL} & set(allowed))


class SendLoop:
    """One producer sending a run's lines, counting into ``summary`` as it goes.

    ``conf`` is the librdkafka configuration (:func:`tripclick.producer.client_config`).
    Only failed deliveries call back (``delivery.report.only.error``): a Python call per
    acknowledged record would cost more than the produce itself. What was queued and is
    neither failed nor still queued has been acknowledged. ``reject_day`` is the
    ``event_date`` header of a rejected line, whose own date cannot be trusted; a line
    longer than ``max_line_bytes`` is rejected as ``too_large``.
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
        max_line_bytes: int = MAX_LINE_BYTES,
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
        self.max_line_bytes = max_line_bytes
        self.queued = 0

    def batch(self, chunks: Iterator[tuple[str, list[int], list[bytes]]]) -> None:
        """Send the lines as fast as the broker takes them, a chunk at a time, then flush.

        ``produced_at`` is the time a chunk is encoded, a few milliseconds before its sends.
        """
        source, topic, produce = self.summary.source, self.topic, self.producer.produce
        n = 0
        try:
            for name, numbers, lines in chunks:
                if self.stop.is_set():
                    break
                produced_at = iso_utc(int(time.time() * 1000))
                encoded_lines = encode_lines(lines, source, produced_at)
                if max(map(len, lines)) > self.max_line_bytes:  # rare: one C pass to know
                    self._mark_too_large(lines, encoded_lines)
                sent = 0
                for i, encoded in enumerate(encoded_lines):
                    if type(encoded) is not tuple:
                        self._reject(encoded, name, numbers[i])
                        continue
                    try:
                        # The value carries source and event_date: headers would make each send dearer.
                        produce(topic, encoded[1], encoded[0])
                        sent += 1
                    except BufferError:
                        self.send(encoded[1], encoded[0], name, numbers[i], lines[i])
                    except KafkaException as err:
                        self._refused(err, lines[i], name, numbers[i])
                self.queued += sent
                n += len(lines)
                self._tick(n)
        except UserError:  # a broken input file or producer: what was queued still goes out
            self._read(n)
            self.flush()
            raise
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
        try:
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
                if len(line) > self.max_line_bytes:
                    encoded = self._too_large(line)
                else:
                    encoded = encode_line(line, source, produced_at, to_shifted)
                n += 1
                if type(encoded) is tuple:
                    self.send(encoded[1], encoded[0], name, no, line)
                else:
                    self._reject(encoded, name, no)
                if n % REALTIME_TICK == 0:
                    self._tick(n)
        except UserError:  # a broken input file or producer: what was queued still goes out
            self._read(n)
            self.flush()
            raise
        self._read(n)
        self.flush()

    def send(
        self, value: bytes, key: str | None, file: str = "", line_no: int = 0, line: bytes = b""
    ) -> None:
        """Queue one valid record, waiting for room in librdkafka's queue when it is full.

        A record Kafka refuses becomes the rejection of ``line`` (``file``:``line_no``).
        """
        try:
            self._produce(value, key, None)
        except KafkaException as err:
            self._refused(err, line or value, file, line_no)

    def _produce(self, value: bytes, key: str | None, headers: list | None) -> None:
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

    def _too_large(self, line: bytes) -> Rejection:
        detail = (
            f"the line is longer than {self.max_line_bytes:,} bytes (TRIPCLICK_MAX_LINE_BYTES); "
            f"the reject file keeps its first {len(line):,}"
        )
        return Rejection("too_large", line, detail)

    def _mark_too_large(self, lines: list[bytes], encoded: list) -> None:
        for i, line in enumerate(lines):
            if len(line) > self.max_line_bytes:
                encoded[i] = self._too_large(line)

    def _refused(self, err: KafkaException, line: bytes, file: str, line_no: int) -> None:
        """A record produce() refused: the line's rejection, unless the producer itself is broken."""
        kafka_error = err.args[0]
        if kafka_error.fatal():
            raise UserError(f"the Kafka producer failed ({kafka_error.str()}); re-run the file")
        if kafka_error.code() == KafkaError.MSG_SIZE_TOO_LARGE:
            detail = f"Kafka refused the record as too large ({kafka_error.str()})"
            self._reject(Rejection("too_large", line, detail), file, line_no)
        else:
            detail = f"Kafka refused the record ({kafka_error.str()})"
            self._reject(Rejection("kafka_refused", line, detail), file, line_no)

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
        raw = rejection.raw
        if reason in ("too_large", "kafka_refused"):
            raw = raw[:STAND_IN_BYTES]
        headers = [*self.reject_headers, ("reject_reason", reason.encode())]
        try:
            self._produce(raw, None, headers)
        except KafkaException as err:
            kafka_error = err.args[0]
            if kafka_error.code() == KafkaError.MSG_SIZE_TOO_LARGE and len(raw) > STAND_IN_BYTES:
                # A bad line too large for Kafka as well: that is what it is rejected for.
                detail = (
                    f"Kafka refused the record as too large ({kafka_error.str()}); also {reason}"
                )
                self._reject(Rejection("too_large", rejection.raw, detail), file, line_no)
                return
            # Not even the reject record went out: count it as queued and failed, so that
            # delivered (queued - failed - still queued) stays right.
            self.queued += 1
            self._on_delivery(kafka_error, None)
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
