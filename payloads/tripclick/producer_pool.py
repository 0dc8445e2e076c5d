"""Batch mode on several cores: N producer processes, each owning a share of the sessions.

Validating and encoding a line costs more CPU than sending it, so a big batch run is
split over processes, each running the ordinary send loop
(:class:`~tripclick.sending.SendLoop`) with its own idempotent producer:

- when the files divide evenly among the processes (a day is one log per web server,
  and the load balancer keeps a session on one server), each process takes whole files;
- otherwise every process reads every file and keeps the lines whose ``SessionId``
  hashes to it (a cheap byte search, no JSON parsing); lines without a readable
  ``SessionId`` go to process 0. Every process then reads and tests every line, which
  costs CPU that whole files do not (bench/README.md), so whole files come first.

Either way a file's lines of one session stay in one process in file order, so their
order in Kafka is the same as with one process. The parent only adds up the counts,
writes the reject file and turns SIGTERM/SIGINT into a stop that every process honours
(each one flushes what it accepted).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
import zlib
from pathlib import Path
from typing import Any

from tripclick.errors import UserError
from tripclick.events import Rejection
from tripclick.inputs import chunks
from tripclick.sending import ProgressSink, RejectSink, SendLoop, Stop, Summary

_KEY = b'"SessionId"'
# Whole files per process only when no process gets more than this times an even share.
_BALANCE = 1.1


def owner(line: bytes, processes: int) -> int:
    """The process that handles ``line``: crc32 of the SessionId text, else 0."""
    i = line.find(_KEY)
    if i < 0:
        return 0
    colon = line.find(b":", i + len(_KEY))
    start = line.find(b'"', colon + 1) if colon >= 0 else -1
    end = line.find(b'"', start + 1) if start >= 0 else -1
    if end < 0:
        return 0
    return zlib.crc32(line[start + 1 : end]) % processes


class _SharedCount(ProgressSink):
    """A worker's progress: its line count, in an array the parent adds up."""

    def __init__(self, counters: Any, index: int) -> None:
        self.counters, self.index = counters, index

    def update(self, summary: Summary) -> None:
        self.counters[self.index] = summary.lines


class _RejectRows(RejectSink):
    """A worker's rejects, kept for the parent, which writes all of them in input order."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, Rejection]] = []

    def write(self, rejection: Rejection, file: str, line_no: int) -> None:
        self.rows.append((file, line_no, rejection))


def file_shares(files: list[str], processes: int) -> list[list[str]] | None:
    """Whole files for each process (in input order), or None when they do not balance."""
    if len(files) < processes:
        return None
    sizes = {name: os.path.getsize(name) for name in files}
    loads = [0] * processes
    owners = {}
    for name in sorted(files, key=lambda n: -sizes[n]):  # biggest first onto the lightest
        i = loads.index(min(loads))
        loads[i] += sizes[name]
        owners[name] = i
    if max(loads) > _BALANCE * sum(loads) / processes:
        return None
    return [[name for name in files if owners[name] == i] for i in range(processes)]


def _worker(
    index: int,
    processes: int,
    files: list[str],
    whole: bool,
    conf: dict,
    topic: str,
    source: str,
    reject_day: str,
    max_line_bytes: int,
    stop: Stop,
    counters: Any,
    results: Any,
) -> None:
    # The parent decides when to stop (a Ctrl-C reaches the whole process group).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    summary = Summary(source=source, mode="batch", files=files)
    rows = _RejectRows()
    progress = _SharedCount(counters, index)
    keep = None if whole else (lambda line: owner(line, processes) == index)
    try:
        loop = SendLoop(conf, topic, summary, rows, progress, stop, reject_day, max_line_bytes)
        loop.batch(chunks(files, keep, max_line_bytes))
    except Exception as err:  # noqa: BLE001 - the parent says it in one line
        # Only plain data crosses the queue: a KafkaError, for one, does not pickle.
        text = str(err) if isinstance(err, UserError) else f"{type(err).__name__}: {err}"
        results.put({"index": index, "error": text})
        return
    results.put(
        {
            "index": index,
            "lines": summary.lines,
            "rejected": summary.rejected,
            "delivered": summary.delivered,
            "failed": summary.failed,
            "first_error": summary.first_error,
            "reasons": summary.rejects_by_reason,
            "rows": rows.rows,
        }
    )


def run(
    files: list[Path],
    processes: int,
    conf: dict,
    topic: str,
    summary: Summary,
    rejects: RejectSink,
    progress: ProgressSink,
    stop: Stop,
    reject_day: str,
    max_line_bytes: int,
) -> None:
    """Run ``processes`` producers over ``files``; fill in ``summary``, write ``rejects``.

    ``conf`` is the producers' librdkafka configuration, ``reject_day`` the ``event_date``
    header of rejected lines, ``max_line_bytes`` the longest line sent; ``stop`` set ends
    every process after it flushed. A process that fails says why in a UserError.
    """
    # spawn, not fork: this process already runs librdkafka threads.
    ctx = multiprocessing.get_context("spawn")
    shared_stop = ctx.Event()
    counters = ctx.Array("q", processes, lock=False)
    results = ctx.Queue()
    names = [str(f) for f in files]
    shares = file_shares(names, processes)
    procs = [
        ctx.Process(
            target=_worker,
            args=(
                i,
                processes,
                names if shares is None else shares[i],
                shares is not None,
                conf,
                topic,
                summary.source,
                reject_day,
                max_line_bytes,
                shared_stop,
                counters,
                results,
            ),
            name=f"tripclick-producer-{i}",
            daemon=True,
        )
        for i in range(processes)
    ]
    for proc in procs:
        proc.start()
    got: dict[int, dict] = {}
    try:
        while len(got) < processes:
            if stop.is_set():
                shared_stop.set()
            try:
                result = results.get(timeout=0.5)
                if "error" in result:
                    shared_stop.set()
                    raise UserError(
                        f"producer process {result['index']} failed: {result['error']}; "
                        "the others stopped after flushing"
                    )
                got[result["index"]] = result
                continue
            except queue.Empty:
                pass
            summary.lines = sum(counters)
            progress.update(summary)
            summary.lines = 0  # the final counts come from the processes' results
            dead = [p for i, p in enumerate(procs) if i not in got and not p.is_alive()]
            if dead:
                # A result may still be in the pipe: give it a moment before calling it lost.
                time.sleep(1.0)
                while True:
                    try:
                        result = results.get_nowait()
                    except queue.Empty:
                        break
                    got[result["index"]] = result
                if any(i not in got for i, p in enumerate(procs) if p in dead):
                    shared_stop.set()
                    raise UserError(
                        "a producer process died (out of memory or killed?); the others "
                        "stopped after flushing: re-run the batch (records are keyed, "
                        "silver drops duplicates)"
                    )
    finally:
        shared_stop.set()
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
        _collect(got, names, summary, rejects)


def _collect(got: dict[int, dict], names: list[str], summary: Summary, rejects: RejectSink) -> None:
    """Add the processes' counts into ``summary``; write the rejects in input order."""
    rows = []
    for result in got.values():
        summary.lines += result["lines"]
        summary.rejected += result["rejected"]
        summary.delivered += result["delivered"]
        summary.failed += result["failed"]
        if result["first_error"] and summary.first_error is None:
            summary.first_error = result["first_error"]
        for reason, n in result["reasons"].items():
            summary.rejects_by_reason[reason] = summary.rejects_by_reason.get(reason, 0) + n
        rows.extend(result["rows"])
    summary.valid = summary.lines - summary.rejected
    position = {name: i for i, name in enumerate(names)}
    for file, no, rejection in sorted(rows, key=lambda r: (position[r[0]], r[1])):
        rejects.write(rejection, file, no)
