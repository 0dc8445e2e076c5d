"""One run per stage and date at a time (ARCHITECTURE 4): an advisory lock in the gold database.

Every stage already reaches the gold database, on the laptop and on the fleet alike, so
the lock lives there: a session-level ``pg_advisory_lock`` keyed by (stage, date), taken
on a connection of its own before the stage starts and held until it ends. A second run
of the same stage and date (a stage DAG next to the daily one, a retry while the timed-out
try still runs) waits up to ``TRIPCLICK_STAGE_LOCK_WAIT_SECONDS``, then fails in one line
naming the holder: its ``application_name`` says which stage, process and host.

A holder that dies closes its connection and PostgreSQL drops the lock with it; TCP
keepalives notice a host that vanished without closing anything.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick_spark import gold_db

# How often a waiting run asks again; short, since a lock is freed without notice.
_POLL_SECONDS = 0.5


class StageBusy(UserError):
    """Another run holds the stage and date; the message names it."""


def key(stage: str, event_date: str) -> tuple[int, int]:
    """The lock's two int4 keys: the stage's name hashed (non-negative) and the date's ordinal."""
    return zlib.crc32(f"tripclick-stage:{stage}".encode()) & 0x7FFFFFFF, dt.date.fromisoformat(
        event_date
    ).toordinal()


def holder_label(stages: Iterable[str], event_date: str) -> str:
    """What the lock's connection calls itself (PostgreSQL keeps 63 bytes of it)."""
    return f"tripclick {'+'.join(stages)} {event_date} pid {os.getpid()}@{socket.gethostname()}"


def _holder(cur, stage: str, event_date: str) -> str:
    classid, objid = key(stage, event_date)
    cur.execute(
        "select a.pid, a.application_name, a.client_addr, a.backend_start"
        " from pg_locks l join pg_stat_activity a on a.pid = l.pid"
        " where l.locktype = 'advisory' and l.granted and l.objsubid = 2"
        " and l.classid = %s::bigint::oid and l.objid = %s::bigint::oid",
        (classid, objid),
    )
    row = cur.fetchone()
    if row is None:  # released between the two questions
        return "a run that has just ended"
    pid, name, addr, since = row
    started = since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{name or 'an unnamed client'} (database pid {pid}, from {addr or 'local socket'}, since {started})"


def _acquire(cur, stage: str, event_date: str, wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    while True:
        cur.execute("select pg_try_advisory_lock(%s, %s)", key(stage, event_date))
        if cur.fetchone()[0]:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            raise StageBusy(
                f"{stage} for {event_date} is already running: {_holder(cur, stage, event_date)};"
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
) -> Iterator[None]:
    """Hold the lock of each stage for the date for the duration of the block.

    Several stages are taken in name order, so two runs asking for overlapping sets never
    wait on each other in a circle.
    """
    names = sorted({stages} if isinstance(stages, str) else set(stages))
    wait = settings.stage_lock_wait_seconds if wait_seconds is None else wait_seconds
    with gold_db.connect(
        settings,
        application_name=holder_label(names, event_date)[:63],
        # The connection sits idle for the whole stage: it must outlive any idle timeout,
        # and a dead peer must be noticed so its lock does not outlive it.
        options="-c idle_session_timeout=0 -c idle_in_transaction_session_timeout=0",
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
    ) as conn:
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in names:
                _acquire(cur, name, event_date, wait)
        yield
        # Closing the connection releases every lock it holds.
