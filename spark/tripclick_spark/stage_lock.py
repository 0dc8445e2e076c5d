"""One run per stage and date at a time (ARCHITECTURE 4): a file lock on the host that runs it.

Every stage of a date runs on one host: this machine locally, the Spark master on the
cluster (Airflow's SSHOperator starts each ``spark-submit`` there, whose driver holds the
lock). So the lock is an exclusive ``flock`` on ``<home>/run/locks/<stage>-<date>.lock``,
taken before the stage starts and held until it ends. It needs nothing but the host: a
gold database that is down does not stop the lake stages, which never need it. A second
run of the same stage and date (a stage DAG next to the daily one, a retry while the
timed-out try still runs) waits up to ``TRIPCLICK_STAGE_LOCK_WAIT_SECONDS``, then fails in
one line naming the holder, which the holder writes into the file: its stage, process and
host, and since when.

The kernel drops the lock with the process that holds it, however that process ends.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tripclick.config import Settings
from tripclick.errors import UserError

# How often a waiting run asks again; short, since a lock is freed without notice.
_POLL_SECONDS = 0.5


class StageBusy(UserError):
    """Another run holds the stage and date; the message names it."""


def key(stage: str, event_date: str) -> tuple[int, int]:
    """Two int4 keys for a (stage, date): the stage's name hashed (non-negative) and the
    date's ordinal; the live marts' transaction lock per date uses them."""
    return zlib.crc32(f"tripclick-stage:{stage}".encode()) & 0x7FFFFFFF, dt.date.fromisoformat(
        event_date
    ).toordinal()


def holder_label(stages: Iterable[str], event_date: str) -> str:
    """What a holder writes into its lock files: stages, date, process and host."""
    return f"tripclick {'+'.join(stages)} {event_date} pid {os.getpid()}@{socket.gethostname()}"


def lock_file(settings: Settings, stage: str, event_date: str) -> Path:
    return settings.run_dir / "locks" / f"{stage}-{event_date}.lock"


def _acquire(
    path: Path, stage: str, event_date: str, wait_seconds: float, on_wait: Callable[[], None]
) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    waited = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            pass
        if not waited:
            waited = True
            on_wait()
        left = deadline - time.monotonic()
        if left <= 0:
            holder = path.read_text().strip() or "a run that has just ended"
            os.close(fd)
            raise StageBusy(
                f"{stage} for {event_date} is already running: {holder};"
                f" waited {wait_seconds:g} s (TRIPCLICK_STAGE_LOCK_WAIT_SECONDS). Let it finish"
                " or stop it, then run again"
            )
        time.sleep(min(_POLL_SECONDS, left))


@contextmanager
def held(
    settings: Settings,
    stages: str | Iterable[str],
    event_date: str,
    wait_seconds: float | None = None,
    on_wait: Callable[[], None] = lambda: None,
) -> Iterator[None]:
    """Hold the lock of each stage for the date for the duration of the block.

    Several stages are taken in name order, so two runs asking for overlapping sets never
    wait on each other in a circle. ``on_wait`` is called once if a lock is busy.
    """
    names = sorted({stages} if isinstance(stages, str) else set(stages))
    wait = settings.stage_lock_wait_seconds if wait_seconds is None else wait_seconds
    label = holder_label(names, event_date)
    since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    with ExitStack() as held_files:
        for name in names:
            fd = _acquire(lock_file(settings, name, event_date), name, event_date, wait, on_wait)
            held_files.callback(os.close, fd)  # closing the file releases its lock
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{label} (since {since})\n".encode(), 0)
        yield
