"""The one place a SparkSession is built, for every job and every test.

Connector jars come from the project cache (pom.xml, profile ``spark``) locally; on
the cluster ``spark-defaults.conf`` (ansible role ``spark``) supplies them and s3a
uses the instance profile. Locally s3a points at the moto endpoint.
"""

from __future__ import annotations

import os
from pathlib import Path

from tripclick.config import Settings
from tripclick.errors import UserError


def connector_jars(settings: Settings) -> list[str]:
    """The connectors (pom.xml, profile ``spark``) and our own value check (``spark/jvm``)."""
    jars = sorted(str(p) for p in (settings.jars_dir / "spark").glob("*.jar"))
    jars += sorted(str(p) for p in (settings.jars_dir / "udf").glob("*.jar"))
    if not jars:
        raise UserError(
            f"Spark connector jars not found in {settings.jars_dir / 'spark'}; run make setup"
        )
    return jars


def local_conf(settings: Settings, shuffle_partitions: int = 4) -> dict[str, str]:
    """Spark settings for the ``local`` runtime (one machine, moto S3)."""
    conf = {
        "spark.jars": ",".join(connector_jars(settings)),
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # Pools for jobs run side by side (run-day's bronze); one thread's jobs stay FIFO.
        "spark.scheduler.mode": "FAIR",
        "spark.scheduler.allocation.file": str(Path(__file__).with_name("fairscheduler.xml")),
        "spark.hadoop.fs.s3a.endpoint": settings.s3_endpoint,
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": str(
            settings.s3_endpoint.startswith("https")
        ).lower(),
        "spark.hadoop.fs.s3a.endpoint.region": "us-east-1",
        "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        # moto accepts any key; these never reach AWS.
        "spark.hadoop.fs.s3a.access.key": "local",
        "spark.hadoop.fs.s3a.secret.key": "local",
        "spark.hadoop.fs.s3a.change.detection.mode": "none",
        **S3A_COMMITTER,
    }
    return conf


# Writes to s3a commit through the S3A magic committer, as on the cluster (spark-defaults.conf
# of the ansible role spark): each task's files are multipart uploads that only the job's
# commit completes, so a failed job leaves no file and a commit renames nothing. Other file
# systems keep their own committer (the binding picks FileOutputCommitter for them).
S3A_COMMITTER = {
    "spark.sql.sources.commitProtocolClass": (
        "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol"
    ),
    "spark.sql.parquet.output.committer.class": (
        "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter"
    ),
    "spark.hadoop.mapreduce.outputcommitter.factory.scheme.s3a": (
        "org.apache.hadoop.fs.s3a.commit.S3ACommitterFactory"
    ),
    "spark.hadoop.fs.s3a.committer.name": "magic",
    "spark.hadoop.fs.s3a.committer.magic.enabled": "true",
}


def aws_conf() -> dict[str, str]:
    """Spark settings for the ``aws`` runtime. s3a's credentials (the SDK's default chain,
    ending at the instance profile) and endpoint are the cluster's spark-defaults.conf."""
    return {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
    }


def build(settings: Settings, app_name: str, master: str | None = None, **overrides: str):
    """A SparkSession configured for the settings' runtime."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", _python())
    builder = SparkSession.builder.appName(app_name)
    conf = local_conf(settings) if settings.runtime == "local" else aws_conf()
    conf.update(overrides)
    for key, value in conf.items():
        builder = builder.config(key, value)
    if master or settings.runtime == "local":
        builder = builder.master(master or os.environ.get("TRIPCLICK_SPARK_MASTER", "local[2]"))
    return builder.getOrCreate()


def _python() -> str:
    import sys

    return str(Path(sys.executable))
