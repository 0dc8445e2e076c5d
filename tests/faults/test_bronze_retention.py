"""Bronze re-run after Kafka's retention removed the date: the archive is kept, whole.

Before, bronze overwrote the date in place from whatever the topic still held (with
``failOnDataLoss=false``), so a re-run a week later replaced the archive with nothing. Now a
run writes to a staging folder first and refuses, in one line, to replace an archive with
fewer records; a re-run while Kafka still holds the date gives the same archive again.
"""

from __future__ import annotations

import datetime as dt

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient

from tripclick.errors import UserError
from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import run_day
from tripclick_spark import lake
from tripclick_spark.jobs import bronze

pytestmark = [pytest.mark.stack, pytest.mark.slow]

DATE = "2099-07-03"


def _expire_everything(settings) -> None:
    """What retention does to old segments: the topic's records removed up to its end."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    metadata = admin.list_topics(settings.topic, timeout=30).topics[settings.topic]
    everything = [
        TopicPartition(settings.topic, p, -1)  # -1: up to the high watermark
        for p in metadata.partitions
    ]
    for future in admin.delete_records(everything).values():
        future.result(timeout=30)


def test_a_rerun_after_retention_keeps_the_archive(spark, pipeline, tmp_path):
    spec = DaySpec(dt.date.fromisoformat(DATE), 300, seed=73, duplicate_rate=0.05,
                   malformed_rate=0.02)  # fmt: skip
    day = generate_day(spec, tmp_path / "day")
    run_day.produce(pipeline, day.files, DATE)
    archived = bronze.run(spark, pipeline, DATE)
    assert archived >= day.valid + day.duplicates

    # While Kafka holds the date, a re-run gives the same archive; no staging is left.
    assert bronze.run(spark, pipeline, DATE) == archived
    assert not lake.exists(spark, bronze.staging(pipeline, DATE))

    _expire_everything(pipeline)
    with pytest.raises(UserError) as refused:
        bronze.run(spark, pipeline, DATE)
    message = str(refused.value)
    assert "\n" not in message
    assert f"bronze for {DATE} holds {archived} records but Kafka now holds 0" in message
    assert "the archive is kept" in message
    assert bronze.read(spark, pipeline, DATE).count() == archived
    assert not lake.exists(spark, bronze.staging(pipeline, DATE))
