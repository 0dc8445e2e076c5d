"""The local stack: Kafka, an S3 endpoint (moto) and PostgreSQL, all on 127.0.0.1; and,
apart from it (``tripclick monitoring up``), Prometheus and Alertmanager watching it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from tripclick.config import Settings
from tripclick_devstack.stack import monitoring
from tripclick_devstack.stack.kafka import Kafka
from tripclick_devstack.stack.postgres import Postgres
from tripclick_devstack.stack.s3 import MotoS3
from tripclick_devstack.stack.service import Service


def services(settings: Settings) -> list[Service]:
    """The stack's services in start order."""
    return [Postgres(settings), MotoS3(settings), Kafka(settings)]


@dataclass
class ServiceStatus:
    name: str
    port: int
    pid: int | None
    healthy: bool
    log: str


def up(settings: Settings, echo=print) -> None:
    """Start every service that is not already healthy; idempotent."""
    for svc in services(settings):
        echo(f"{svc.name:<9} {svc.ensure_started()} (127.0.0.1:{svc.port}, log {svc.log_file})")
    ensure_topic(settings)


def down(settings: Settings, echo=print) -> None:
    """Stop every service, the monitoring's too; leaves no process behind."""
    for svc in [*reversed(services(settings)), *reversed(monitoring.services(settings))]:
        echo(f"{svc.name:<9} {'stopped' if svc.stop() else 'was not running'}")


def status(settings: Settings) -> list[ServiceStatus]:
    return [
        ServiceStatus(svc.name, svc.port, svc.pid(), svc.is_healthy(), str(svc.log_file))
        for svc in services(settings)
    ]


def monitoring_status(settings: Settings) -> list[ServiceStatus]:
    """The broker's metrics endpoint, Prometheus and Alertmanager; ``log`` is their URL.

    Apart from :func:`status`: the monitoring is started on its own (``tripclick
    monitoring up``), so a stack without it is still a healthy stack."""
    broker = Kafka(settings)
    rows = [
        ServiceStatus(
            "kafka-jmx",
            broker.metrics_port,
            broker.pid(),
            broker.metrics_healthy(),
            f"http://127.0.0.1:{broker.metrics_port}/metrics",
        )
    ]
    for svc in monitoring.services(settings):
        url = f"http://127.0.0.1:{svc.port}/ (log {svc.log_file})"
        rows.append(ServiceStatus(svc.name, svc.port, svc.pid(), svc.is_healthy(), url))
    return rows


def ensure_topic(settings: Settings) -> None:
    """Create the clickstream topic (3 partitions, replication 1 locally) if missing."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    from tripclick import kafka_security

    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap,
        request_timeout_ms=10000,
        **kafka_security.kafka_python_options(settings),
    )
    try:
        if settings.topic in admin.list_topics():
            return
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(
                [NewTopic(settings.topic, settings.topic_partitions, replication_factor=1)]
            )
    finally:
        admin.close()
