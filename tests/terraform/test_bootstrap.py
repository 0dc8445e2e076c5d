"""make bootstrap's state bucket, created against a moto server standing in for AWS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from tfcode import TERRAFORM

SCRIPT = TERRAFORM / "bootstrap" / "state_bucket.py"
MOTO_ACCOUNT = "123456789012"


def bootstrap(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def state_bucket(aws_endpoint, tmp_path_factory) -> tuple[str, Path, subprocess.CompletedProcess]:
    backend = tmp_path_factory.mktemp("tfstate") / "backend.hcl"
    run = bootstrap(aws_endpoint["env"], "--backend-config", str(backend))
    assert run.returncode == 0, run.stderr
    bucket = f"tripclick-tfstate-{MOTO_ACCOUNT}-ap-northeast-2"
    return bucket, backend, run


@pytest.fixture(scope="module")
def s3(aws_endpoint):
    return boto3.client(
        "s3",
        endpoint_url=aws_endpoint["url"],
        region_name="ap-northeast-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_bucket_is_versioned_encrypted_and_private(state_bucket, s3) -> None:
    bucket, _, run = state_bucket
    assert f"state bucket {bucket} (ap-northeast-2): created" in run.stdout
    location = s3.get_bucket_location(Bucket=bucket)["LocationConstraint"]
    assert location == "ap-northeast-2"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    [statement] = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_backend_config_points_the_environments_at_it(state_bucket) -> None:
    bucket, backend, _ = state_bucket
    text = backend.read_text()
    assert f'bucket = "{bucket}"' in text
    assert 'region = "ap-northeast-2"' in text


def test_plain_http_is_refused(state_bucket, s3) -> None:
    """moto evaluates the bucket policy: its endpoint is plain HTTP, so the TLS-only rule bites."""
    bucket, _, _ = state_bucket
    with pytest.raises(ClientError) as refused:
        s3.put_object(Bucket=bucket, Key="tripclick/dev/terraform.tfstate", Body=b"{}")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_rerun_changes_nothing(state_bucket, aws_endpoint, s3) -> None:
    bucket, backend, _ = state_bucket
    again = bootstrap(aws_endpoint["env"], "--backend-config", str(backend))
    assert again.returncode == 0, again.stderr
    assert "already there, settings re-applied" in again.stdout
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    ours = [n for n in names if n.startswith("tripclick-tfstate-") and n.endswith("ap-northeast-2")]
    assert ours == [bucket]


def test_missing_credentials_give_one_line(aws_endpoint, tmp_path) -> None:
    env = {
        k: v
        for k, v in aws_endpoint["env"].items()
        if k not in {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    }
    env |= {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    run = bootstrap(env, "--backend-config", str(tmp_path / "backend.hcl"))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "error: no AWS credentials found: run `aws configure` or export AWS_PROFILE, then retry"
    ]
    assert not (tmp_path / "backend.hcl").exists()
