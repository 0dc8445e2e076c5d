"""The pipeline's own figures for Prometheus, pushed to a Pushgateway.

Some facts only the pipeline has: whether a date reconciled and passed its quality gates,
its records per layer, how long each stage took, and the newest published date. The
stages are batch jobs that end before a scrape would find them, so they push their
figures to the Pushgateway at ``TRIPCLICK_PUSHGATEWAY`` (``host:port``) under the job
``tripclick_pipeline``, grouped by ``event_date`` (and ``stage`` for stage times), where
Prometheus scrapes them with ``honor_labels``. The names are the contract the alert rules
and monitoring/README.md hold.

Pushing is best effort: no gateway configured means nothing is pushed, and a gateway that
does not answer costs one line on stderr, never the stage.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Mapping
from typing import Any

from tripclick.config import Settings
from tripclick_spark import gold_db

JOB = "tripclick_pipeline"
# A gateway that does not answer must not hold a stage up.
PUSH_TIMEOUT_SECONDS = 5
LAYERS = {
    "kafka": "kafka_records",
    "bronze": "bronze_records",
    "silver": "silver_records",
    "quarantine": "quarantine_distinct",
    "gold": "gold_total_events",
}


def push(
    settings: Settings,
    grouping: Mapping[str, str],
    gauges: list[tuple[str, str, Mapping[str, str], float]],
) -> bool:
    """Push ``(name, help, labels, value)`` gauges into the group; True when pushed.

    Uses POST (pushadd): it replaces only the group's metrics of these names, so the
    reconciliation's and the gates' figures of one date live side by side.
    """
    if not settings.pushgateway:
        return False
    from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway

    registry = CollectorRegistry()
    made: dict[str, Any] = {}
    for name, help_text, labels, value in gauges:
        if name not in made:
            made[name] = Gauge(name, help_text, sorted(labels), registry=registry)
        metric = made[name].labels(**labels) if labels else made[name]
        metric.set(value)
    try:
        pushadd_to_gateway(
            settings.pushgateway,
            job=JOB,
            grouping_key=dict(grouping),
            registry=registry,
            timeout=PUSH_TIMEOUT_SECONDS,
        )
    except Exception as err:  # noqa: BLE001 - any failure to push is reported, never raised
        print(
            f"figures: not pushed to the Pushgateway at {settings.pushgateway}: {err}",
            file=sys.stderr,
        )
        return False
    return True


def reconciliation(settings: Settings, report: Mapping[str, Any]) -> bool:
    """A date's reconciliation: passed or not, records per layer, the quarantine rate."""
    gauges = [
        (
            "tripclick_reconciliation_passed",
            "1 when the date's layers reconcile, else 0",
            {},
            1.0 if report["passed"] else 0.0,
        )
    ]
    for layer, key in LAYERS.items():
        if report.get(key) is not None:
            gauges.append(
                (
                    "tripclick_layer_records",
                    "records of the date in each layer (quarantine: distinct)",
                    {"layer": layer},
                    float(report[key]),
                )
            )
    if report.get("bronze_distinct"):
        gauges.append(
            (
                "tripclick_quarantine_ratio",
                "distinct quarantined records over distinct bronze records",
                {},
                report["quarantine_distinct"] / report["bronze_distinct"],
            )
        )
    return push(settings, {"event_date": report["event_date"]}, gauges)


def quality_gate(settings: Settings, event_date: str, outcomes: list[str]) -> bool:
    """A date's quality gates: passed (no error) or not, and checks per outcome."""
    gauges = [
        (
            "tripclick_dq_gate_passed",
            "1 when no error-severity quality check of the date failed, else 0",
            {},
            0.0 if "error" in outcomes else 1.0,
        )
    ]
    for outcome in ("pass", "warning", "error"):
        gauges.append(
            (
                "tripclick_dq_checks",
                "quality checks of the date by outcome",
                {"outcome": outcome},
                float(outcomes.count(outcome)),
            )
        )
    return push(settings, {"event_date": event_date}, gauges)


def published(settings: Settings) -> bool:
    """The newest published date, as Unix seconds of its 00:00 UTC (DayNotPublished).

    Read from gold only when there is a gateway to push it to.
    """
    if not settings.pushgateway:
        return False
    newest = gold_db.newest_published(settings)
    if newest is None:
        return False
    midnight = dt.datetime.fromisoformat(newest).replace(tzinfo=dt.UTC)
    gauge = (
        "tripclick_last_published_date_seconds",
        "the newest published event_date, as Unix seconds of its 00:00 UTC",
        {},
        midnight.timestamp(),
    )
    return push(settings, {}, [gauge])


def stage_time(settings: Settings, stage: str, event_date: str, seconds: float, ok: bool) -> bool:
    """How long a stage of a date ran, and whether it succeeded."""
    gauges = [
        ("tripclick_stage_duration_seconds", "wall time of the stage's last run", {}, seconds),
        (
            "tripclick_stage_succeeded",
            "1 when the stage's last run succeeded, else 0",
            {},
            float(ok),
        ),
    ]
    return push(settings, {"event_date": event_date, "stage": stage}, gauges)


def offsets_listener(settings: Settings, topic: str):
    """A streaming query listener pushing how far the silver stream is behind its topic.

    The stream keeps its Kafka offsets in its checkpoint, not in a consumer group, so no
    Kafka-side exporter sees its lag; each micro-batch's progress has it
    (``maxOffsetsBehindLatest`` of the Kafka source), and SilverConsumerLagGrowing reads it.
    """
    from pyspark.sql.streaming import StreamingQueryListener

    class OffsetsBehind(StreamingQueryListener):
        # Listener events arrive on Spark's bus after the fact: the last progress comes
        # before the query's termination, which ``wait_terminated`` waits for.
        terminated = threading.Event()

        def wait_terminated(self, seconds: float = 10) -> None:
            self.terminated.wait(seconds)

        def onQueryStarted(self, event) -> None:
            pass

        def onQueryProgress(self, event) -> None:
            behind = [
                float(source.metrics["maxOffsetsBehindLatest"])
                for source in event.progress.sources
                if (source.metrics or {}).get("maxOffsetsBehindLatest") is not None
            ]
            if behind:
                gauge = (
                    "tripclick_silver_offsets_behind_latest",
                    "records the silver stream is behind the end of its topic",
                    {},
                    max(behind),
                )
                push(settings, {"topic": topic}, [gauge])

        def onQueryIdle(self, event) -> None:
            pass

        def onQueryTerminated(self, event) -> None:
            self.terminated.set()

    return OffsetsBehind()
