"""Progress of a produce run: a bar on a terminal, a line every few seconds in a log."""

from __future__ import annotations

import sys
import time
from typing import Any

from tripclick.sending import ProgressSink, Summary

LOG_EVERY_S = 10.0


class Progress(ProgressSink):
    """The progress of the run's parent process, shown to the person who started it."""

    def __init__(self, label: str, total: int, enabled: bool = True) -> None:
        self.label = label
        self.total = total
        self.enabled = enabled
        self.started = time.monotonic()
        self.last_log = self.started
        self.bar: Any = None
        self.task: Any = None
        if enabled and sys.stderr.isatty():
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as RichProgress

            self.bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                transient=False,
            )
            self.task = self.bar.add_task(label, total=total, rate="")
            self.bar.start()

    def update(self, summary: Summary) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        rate = summary.delivered / max(now - self.started, 1e-6)
        if self.bar is not None:
            self.bar.update(self.task, completed=summary.lines, rate=f"{rate:,.0f} rec/s")
        elif now - self.last_log >= LOG_EVERY_S:
            self.last_log = now
            print(
                f"{self.label}: {summary.lines:,}/{self.total:,} lines read, "
                f"{summary.delivered:,} delivered, {summary.rejected:,} rejected, {rate:,.0f} rec/s",
                file=sys.stderr,
                flush=True,
            )

    def close(self, summary: Summary) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=summary.lines)
            self.bar.stop()
