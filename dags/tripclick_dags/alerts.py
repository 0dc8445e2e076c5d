"""What happens when a task fails for good: one clear alert line in the task's log.

The line starts with ``TRIPCLICK ALERT`` so a log shipper or a grep finds it; to page
someone, add a notifier here (mail, Slack webhook) that sends the same line.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("tripclick.alerts")


def alert_line(context: Any) -> str:
    ti = context["ti"]
    error = context.get("exception")
    reason = f"{type(error).__name__}: {error}" if error else "unknown error"
    return (
        f"TRIPCLICK ALERT: task {ti.task_id} of DAG {ti.dag_id} failed"
        f" (run {ti.run_id}, try {ti.try_number}): {reason}"
    )


def on_failure(context: Any) -> None:
    log.error("%s", alert_line(context))
