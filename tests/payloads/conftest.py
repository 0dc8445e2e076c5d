"""Helpers of the payload tests: a fresh topic per test and a consumer that reads it all."""

from __future__ import annotations

import time
import uuid

import pytest


@pytest.fixture
def fresh_topic(stack_services):
    """A new 3-partition topic on the local broker, deleted afterwards."""
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": stack_services.kafka_bootstrap})
    name = f"test-payloads-{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(name, 3, 1)])[name].result(timeout=30)
    yield name
    admin.delete_topics([name])[name].result(timeout=30)


def consume_all(settings, topic: str, expected: int, timeout: float = 60.0) -> list:
    """Every record of ``topic`` (stops at ``expected`` records or after ``timeout`` s)."""
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka_bootstrap,
            "group.id": f"test-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    records: list = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            batch = consumer.consume(num_messages=5000, timeout=1.0)
            for msg in batch:
                if msg.error() is None:
                    records.append(msg)
            if len(records) >= expected and not batch:
                break
    finally:
        consumer.close()
    return records
