"""A fresh topic and lake for one benchmark run, so nothing of an earlier run is counted."""

from __future__ import annotations

import dataclasses
import shutil
import time

from tripclick import config


def fresh_settings(base: config.Settings, label: str) -> config.Settings:
    """``base`` on a new topic ``bench_<label>_<unix time>`` and an emptied lake
    ``<home>/bench/lake-<label>``."""
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = f"bench_{label}_{int(time.time())}"
    admin = KafkaAdminClient(bootstrap_servers=base.kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, base.topic_partitions, replication_factor=1)])
    finally:
        admin.close()
    lake = base.home / "bench" / f"lake-{label}"
    shutil.rmtree(lake, ignore_errors=True)
    return dataclasses.replace(base, topic=topic, lake_root=str(lake))


def drop_topic(settings: config.Settings) -> None:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        admin.delete_topics([settings.topic])
    finally:
        admin.close()
