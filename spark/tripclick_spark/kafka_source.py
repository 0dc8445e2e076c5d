"""Reading topic ``tripclick_raw_logs`` from Kafka, as a stream or as a batch."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from tripclick import kafka_security
from tripclick.config import Settings


def _options(settings: Settings) -> dict[str, str]:
    return {
        "kafka.bootstrap.servers": settings.kafka_bootstrap,
        "subscribe": settings.topic,
        "startingOffsets": "earliest",
        "includeHeaders": "true",
        # Records removed by retention are gone either way; the reconciliation reports it.
        "failOnDataLoss": "false",
        # Plain text locally; TLS trusting the platform CA on the aws cluster.
        **kafka_security.spark_options(settings),
    }


def stream(
    spark: SparkSession, settings: Settings, max_offsets_per_trigger: int | None = None
) -> DataFrame:
    reader = spark.readStream.format("kafka").options(**_options(settings))
    if max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(max_offsets_per_trigger))
    return reader.load()


def batch(spark: SparkSession, settings: Settings) -> DataFrame:
    """Every record in the topic now, earliest → latest offsets."""
    return (
        spark.read.format("kafka")
        .options(**_options(settings))
        .option("endingOffsets", "latest")
        .load()
    )
