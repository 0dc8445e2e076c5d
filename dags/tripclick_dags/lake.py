"""Checks on the lake after a stage: S3 through the amazon provider, or a local folder."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from tripclick_dags import contract
from tripclick_dags.contract import BRONZE, REPORTS, SILVER
from tripclick_dags.settings import Settings

__all__ = ["BRONZE", "REPORTS", "SILVER", "data_files", "partition_uri"]


def partition_uri(settings: Settings, table: str, date: str) -> str:
    return contract.partition_uri(settings.lake_root, table, date) + "/"


def data_files(settings: Settings, table: str, date: str) -> list[str]:
    """The parquet files of one date's partition (empty when the stage wrote nothing)."""
    uri = partition_uri(settings, table, date)
    parsed = urlparse(uri)
    if parsed.scheme in ("s3", "s3a"):
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        keys = S3Hook(aws_conn_id=settings.aws_conn_id).list_keys(
            bucket_name=parsed.netloc, prefix=parsed.path.lstrip("/")
        )
        return sorted(k for k in keys or [] if k.endswith(".parquet"))
    return sorted(str(p) for p in Path(uri).rglob("*.parquet"))
