"""What happens when a task fails for good: one alert line in the task's log, and on SNS.

The line starts with ``TRIPCLICK ALERT`` so a log shipper or a grep finds it. When the
setting ``alerts_topic_arn`` names an SNS topic (the Airflow Variable
``tripclick_alerts_topic_arn``, else ``TRIPCLICK_ALERTS_TOPIC_ARN``), the same line, with
the task's log URL, is also published there with the Amazon provider's ``SnsNotifier``
through the connection ``aws_conn_id``; the topic's subscribers (an email address) get it.
When no topic is set, the log line is the only alert.

A publish that fails logs one line and returns: the task's own failure stays the one
Airflow records.
"""

from __future__ import annotations

import logging
from typing import Any

from tripclick_dags.settings import Lookup, airflow_lookup, alert_target

log = logging.getLogger("tripclick.alerts")

# SNS refuses a subject over 100 characters.
SUBJECT_LIMIT = 100


def alert_line(context: Any) -> str:
    ti = context["ti"]
    error = context.get("exception")
    reason = f"{type(error).__name__}: {error}" if error else "unknown error"
    return (
        f"TRIPCLICK ALERT: task {ti.task_id} of DAG {ti.dag_id} failed"
        f" (run {ti.run_id}, try {ti.try_number}): {reason}"
    )


def alert_subject(context: Any) -> str:
    ti = context["ti"]
    # SNS takes one line of ASCII as a subject.
    subject = f"TripClick: {ti.dag_id}.{ti.task_id} failed"
    return subject.encode("ascii", "replace").decode()[:SUBJECT_LIMIT]


def publish(context: Any, line: str, topic_arn: str, aws_conn_id: str) -> None:
    """Publish the alert line (and the task's log URL) to the SNS topic."""
    from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

    log_url = getattr(context["ti"], "log_url", None)
    notifier = SnsNotifier(
        aws_conn_id=aws_conn_id,
        target_arn=topic_arn,
        subject=alert_subject(context),
        message=f"{line}\nLog: {log_url}" if log_url else line,
    )
    # notify() rather than notifier(context): calling it would first render the message as a
    # Jinja template, and an error message may well hold "{{" or "{%".
    notifier.notify(context)


def on_failure(context: Any, lookup: Lookup = airflow_lookup) -> None:
    line = alert_line(context)
    log.error("%s", line)
    topic_arn = "(the topic setting)"
    try:
        topic_arn, aws_conn_id = alert_target(lookup)
        if topic_arn:
            publish(context, line, topic_arn, aws_conn_id)
    except Exception as err:  # noqa: BLE001 - the task's failure is the news; this only a line
        log.error("alert not published to %s: %s: %s", topic_arn, type(err).__name__, err)
