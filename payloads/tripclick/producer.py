"""Replay TripClick log files into Kafka: ``realtime`` (paced, time-shifted) or ``batch`` (fast).

:func:`produce_files` checks its arguments, plans the run (time plan, reject file,
client settings, how many processes) and hands it to a :class:`~tripclick.sending.SendLoop`
in this process or to :mod:`tripclick.producer_pool` for several. Every line read
becomes one Kafka record (:mod:`tripclick.sending`); a rejected line is also written to
the reject file (JSON lines with reason, file, line number, source and the raw line).

A valid record's value carries ``source`` and ``event_date``; an invalid one has them as
headers (with ``reject_reason``), since its value cannot be trusted. The client is
confluent-kafka (librdkafka), much faster than kafka-python for the same settings
(bench/README.md). ``acks=all`` with the idempotent producer and unlimited retries
inside ``delivery_timeout_ms`` means a broker restart neither loses nor duplicates an
accepted record. Partitioning is murmur2, like the Java client, so Spark and any other
client agree on where a session's clicks live.
"""

from __future__ import annotations

import base64
import json
import multiprocessing
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from tripclick import config, kafka_security, producer_pool
from tripclick.contract import canonical_date
from tripclick.errors import UserError
from tripclick.events import Rejection
from tripclick.inputs import check_input, chunks, read_lines, realtime_items
from tripclick.progress import Progress
from tripclick.sending import RejectSink, SendLoop, Summary, connect
from tripclick.stop_flag import StopFlag
from tripclick.timeshift import Shift, parse_hhmm, zone

MODES = ("realtime", "batch")
COMPRESSION = "lz4"
DELIVERY_TIMEOUT_MS = 300_000
# Below this input size, starting more producer processes costs more than it saves.
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
_DATE_IN_NAME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})")


def client_config(settings: config.Settings, source: str, **overrides: object) -> dict:
    """librdkafka settings of the producer (also used by the benchmark)."""
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


class RejectFile(RejectSink):
    """JSON lines of rejected input; truncated when opened (a re-run replaces it).

    Opened by ``with``, so that a run that fails its checks leaves the old file alone.
    """

    def __init__(self, path: Path, source: str, event_date: str) -> None:
        self.path = path
        self.source = source
        self.event_date = event_date
        self.fh = None

    def __enter__(self) -> RejectFile:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "w", encoding="utf-8")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            self.fh.close()

    def write(self, rejection: Rejection, file: str, line_no: int) -> None:
        row: dict[str, object] = {
            "reason": rejection.reason,
            "detail": rejection.message,
            "file": file,
            "line": line_no,
            "source": self.source,
            "event_date": self.event_date,
        }
        try:
            row["raw"] = rejection.raw.decode("utf-8")
        except UnicodeDecodeError:
            row["raw_base64"] = base64.b64encode(rejection.raw).decode()
        self.fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def date_from_name(path: Path) -> str | None:
    m = _DATE_IN_NAME.search(path.name)
    return canonical_date(m.group(1)) if m else None


@dataclass
class _Plan:
    """What a run will do, decided before it sends anything."""

    files: list[Path]
    topic: str
    conf: dict
    shift: Shift | None  # None: batch, original times
    speed: float
    reject_day: str
    reject_file: Path
    workers: int
    max_line_bytes: int
    summary: Summary


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
    files, day = _validated(paths, mode, source, speed, day)
    plan = _plan(
        files,
        settings,
        mode=mode,
        source=source,
        day=day,
        speed=speed,
        window_start=window_start,
        window_minutes=window_minutes,
        compress=compress,
        reject_file=reject_file,
        topic=topic,
        client_overrides=client_overrides,
        workers=workers,
    )
    return _dispatch(plan, progress)


def _validated(
    paths: list[Path | str], mode: str, source: str, speed: float, day: str | None
) -> tuple[list[Path], str | None]:
    """The input files and the normalised ``day``, or a one-line UserError."""
    if mode not in MODES:
        raise UserError(f"--mode {mode!r} is unknown; use realtime or batch")
    if not source or not re.fullmatch(r"[A-Za-z0-9_.-]+", source):
        raise UserError(f"--source {source!r}: use a name like web-0 (letters, digits, . _ -)")
    if speed <= 0:
        raise UserError(f"--speed {speed}: give a positive factor (1 = real time)")
    if day is not None:
        given, day = day, canonical_date(day)
        if day is None:
            raise UserError(f"--date {given!r} is not a date; use YYYY-MM-DD")
    files = [Path(p) for p in paths]
    if not files:
        raise UserError("no input files: give one or more with --input PATH")
    for path in files:
        if not path.is_file():
            raise UserError(f"input file {path} does not exist; check --input")
        check_input(path)
    return files, day


def _plan(
    files: list[Path],
    settings: config.Settings,
    *,
    mode: str,
    source: str,
    day: str | None,
    speed: float,
    window_start: str,
    window_minutes: int,
    compress: bool,
    reject_file: Path | str | None,
    topic: str | None,
    client_overrides: dict | None,
    workers: int | None,
) -> _Plan:
    """The time plan, the reject file and its date, the client settings, the process count."""
    shift: Shift | None = None
    if mode == "realtime":
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
    if workers is None:
        big = sum(p.stat().st_size for p in files) >= PARALLEL_MIN_BYTES
        # A daemonic process (a multiprocessing.Pool worker) may not start processes.
        may_fork = not multiprocessing.current_process().daemon
        workers = (os.cpu_count() or 1) if big and may_fork else 1
    summary = Summary(
        source=source,
        mode=mode,
        files=[str(p) for p in files],
        reject_file=str(reject_file),
        time_plan=shift.describe() if shift else "original times",
    )
    return _Plan(
        files=files,
        topic=topic or settings.topic,
        conf=client_config(settings, source, **(client_overrides or {})),
        shift=shift,
        speed=speed,
        reject_day=reject_day,
        reject_file=Path(reject_file),
        workers=workers if shift is None else 1,  # realtime merges the files: one process
        max_line_bytes=settings.max_line_bytes,
        summary=summary,
    )


def _dispatch(plan: _Plan, progress: bool) -> Summary:
    """Run the plan here or on ``plan.workers`` processes; fill in and return its summary."""
    summary = plan.summary
    # Broker and topic are checked before the reject file is replaced or any output starts.
    connect(plan.conf, plan.topic)
    cap = plan.max_line_bytes
    total = sum(1 for path in plan.files for _ in read_lines(path, cap)) if progress else 0
    bar = Progress(f"{summary.source} {summary.mode}", total, enabled=progress)
    rejects = RejectFile(plan.reject_file, summary.source, plan.reject_day)
    started = time.monotonic()
    try:
        with rejects, StopFlag() as stop:
            if plan.workers > 1:
                producer_pool.run(
                    plan.files,
                    plan.workers,
                    plan.conf,
                    plan.topic,
                    summary,
                    rejects,
                    bar,
                    stop.event,
                    plan.reject_day,
                    plan.max_line_bytes,
                )
            else:
                _send_here(plan, rejects, bar, stop.event)
            summary.stopped_by = stop.signal_name
    finally:
        bar.close(summary)
    summary.elapsed_s = round(time.monotonic() - started, 3)
    summary.records_per_s = (
        round(summary.delivered / summary.elapsed_s, 1) if summary.elapsed_s else 0.0
    )
    return summary


def _send_here(plan: _Plan, rejects: RejectFile, bar: Progress, stop: threading.Event) -> None:
    """The run in this process: one send loop, batch or realtime."""
    cap = plan.max_line_bytes
    loop = SendLoop(plan.conf, plan.topic, plan.summary, rejects, bar, stop, plan.reject_day, cap)
    if plan.shift is None:
        loop.batch(chunks(plan.files, max_bytes=cap))
    else:
        loop.realtime(realtime_items(plan.files, plan.shift, cap), plan.shift, plan.speed)


def print_summary(summary: Summary, as_json: bool = False) -> None:
    print(summary.line(), file=sys.stderr)
    if as_json:
        print(json.dumps(summary.to_dict()))
