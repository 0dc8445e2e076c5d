"""Writes to the s3a lake commit through the S3A magic committer, on the moto lake.

S3A's committers leave a JSON ``_SUCCESS`` naming the committer and the files it
committed; the classic rename-based commit leaves an empty one. (Before, the cluster set
``fs.s3a.committer.name=magic`` without the binding that makes Spark use it.)
"""

from __future__ import annotations

import json
import uuid

import pytest

from tripclick_spark import lake

pytestmark = pytest.mark.stack


def test_a_parquet_write_to_s3a_commits_through_the_magic_committer(spark, pipeline):
    path = f"s3a://{pipeline.s3_bucket}/test-committer-{uuid.uuid4().hex[:8]}/clicks"
    spark.range(1000).repartition(3).write.mode("overwrite").parquet(path)

    manifest = json.loads(lake.read_text(spark, f"{path}/_SUCCESS"))
    assert manifest["committer"] == "magic", manifest
    written = [name for name in lake.names(spark, path) if name.endswith(".parquet")]
    assert len(written) == 3
    assert sorted(f.rsplit("/", 1)[-1] for f in manifest["filenames"]) == sorted(written)
    # The tasks' pending uploads lived under __magic; the job's commit leaves none of it.
    assert not any(name.startswith("__magic") for name in lake.names(spark, path.rsplit("/", 1)[0]))
    assert spark.read.parquet(path).count() == 1000
