"""``check_bronze`` on an S3 lake goes through the amazon provider's S3Hook (moto here)."""

from __future__ import annotations

import json

import boto3
import pytest
from airflow_run import DAGS, run_airflow

pytestmark = pytest.mark.stack

LIST = f"""
import json, sys
sys.path.insert(0, {str(DAGS)!r})
from tripclick_dags import lake, settings
print("FILES " + json.dumps(lake.data_files(settings.load(settings.env_lookup), lake.BRONZE, sys.argv[1])))
"""


def test_bronze_partition_is_listed_through_s3hook(stack_services, airflow_env, airflow_bin):
    settings = stack_services
    s3 = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        region_name="us-east-1",
    )
    bucket = "tripclick-dags-lake-check"
    s3.create_bucket(Bucket=bucket)
    prefix = "bronze/tripclick_raw_logs/event_date=2016-03-02/"
    for name in ("part-00000.snappy.parquet", "part-00001.snappy.parquet", "_SUCCESS"):
        s3.put_object(Bucket=bucket, Key=prefix + name, Body=b"x")

    env = {**airflow_env, "TRIPCLICK_LAKE_ROOT": f"s3a://{bucket}"}
    found = {}
    for date in ("2016-03-02", "2016-03-03"):
        done = run_airflow(env, [str(airflow_bin / "python"), "-c", LIST, date], 120)
        assert done.returncode == 0, done.stderr[-3000:]
        line = next(x for x in done.stdout.splitlines() if x.startswith("FILES "))
        found[date] = json.loads(line.removeprefix("FILES "))
    assert found["2016-03-02"] == [
        prefix + "part-00000.snappy.parquet",
        prefix + "part-00001.snappy.parquet",
    ]
    assert found["2016-03-03"] == []
