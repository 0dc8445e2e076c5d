"""A stop asked for by signal: SIGTERM or SIGINT sets a flag the running loop checks, so it
ends at a point of its choosing (the producer after flushing, silver between micro-batches);
a second signal aborts at once."""

from __future__ import annotations

import signal
import threading


class StopFlag:
    """SIGTERM/SIGINT set ``event`` and name the signal; a second one raises KeyboardInterrupt."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name: str | None = None
        self._saved: dict[int, object] = {}

    def _handle(self, signum: int, _frame: object) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name
        self.event.set()

    def __enter__(self) -> StopFlag:
        # Signal handlers can only be installed from the main thread.
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
