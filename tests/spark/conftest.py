"""Fixtures of the Spark tests: one local[1] SparkSession, and an isolated pipeline.

``pipeline`` gives settings with a topic and a lake of the test session's own, so a
test run never sees records or checkpoints of an earlier run or of a developer's day.
"""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from tripclick import config


@pytest.fixture(scope="session")
def spark(settings: config.Settings):
    from tripclick_spark import session

    spark = session.build(
        settings,
        "tripclick-tests",
        master="local[1]",
        **{
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.driver.memory": "1g",
        },
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.fixture(scope="session")
def pipeline(stack_services, tmp_path_factory) -> config.Settings:
    """Settings of an isolated pipeline: a fresh topic (3 partitions) and a fresh local lake."""
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = f"tripclick_raw_logs_test_{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=stack_services.kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 3, replication_factor=1)])
    finally:
        admin.close()
    lake_root = str(tmp_path_factory.mktemp("lake"))
    yield dataclasses.replace(stack_services, topic=topic, lake_root=lake_root)
    admin = KafkaAdminClient(bootstrap_servers=stack_services.kafka_bootstrap)
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()
