"""Create the S3 bucket that holds the Terraform state, and point the environments at it.

Terraform cannot keep its own state bucket in that state, so this small script makes it:
versioned (a bad apply can be rolled back), encrypted, private, TLS-only. Locking needs no
table: the environments' backends set ``use_lockfile`` (Terraform 1.10+), which keeps the
lock as an object next to the state. Re-running it re-applies the settings and changes
nothing else.

    .venv/bin/python terraform/bootstrap/state_bucket.py [--region R] [--bucket NAME]

It writes the backend settings (bucket, region) to ``.local/terraform/backend.hcl``,
which ``make plan|apply|destroy`` pass to ``terraform init``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

REPO = Path(__file__).resolve().parents[2]
DEFAULT_REGION = "ap-northeast-2"
DEFAULT_BACKEND_CONFIG = REPO / ".local" / "terraform" / "backend.hcl"
# Old state versions are the undo history of applies; a year of it is plenty.
NONCURRENT_STATE_DAYS = 365


class BootstrapError(Exception):
    """A problem the user can fix; printed as one line."""


def default_bucket_name(account_id: str, region: str) -> str:
    return f"tripclick-tfstate-{account_id}-{region}"


def ensure_state_bucket(s3, bucket: str, region: str) -> bool:
    """Create ``bucket`` if missing and apply the settings; True when it was created."""
    created = False
    try:
        kwargs: dict = {"Bucket": bucket}
        # us-east-1 is the one region that refuses an explicit location constraint.
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        created = True
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code == "BucketAlreadyExists":
            raise BootstrapError(
                f"bucket {bucket} belongs to another AWS account: pick another name with --bucket"
            ) from err
        if code != "BucketAlreadyOwnedByYou":
            raise

    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        Bucket=bucket,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_only_policy(bucket)))
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "expire-old-state-versions",
                    "Status": "Enabled",
                    "Filter": {},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": NONCURRENT_STATE_DAYS},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                }
            ]
        },
    )
    return created


def tls_only_policy(bucket: str) -> dict:
    arn = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, f"{arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def write_backend_config(path: Path, bucket: str, region: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by make bootstrap: the S3 backend of every environment (terraform init -backend-config).\n"
        f'bucket = "{bucket}"\n'
        f'region = "{region}"\n'
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or DEFAULT_REGION,
        help=f"region of the state bucket (default: AWS_REGION, else {DEFAULT_REGION})",
    )
    parser.add_argument(
        "--bucket", help="bucket name (default: tripclick-tfstate-<account id>-<region>)"
    )
    parser.add_argument(
        "--backend-config",
        type=Path,
        default=DEFAULT_BACKEND_CONFIG,
        help="where to write the backend settings (default: .local/terraform/backend.hcl)",
    )
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> str:
    """Bootstrap the state bucket; returns its name."""
    args = parse_args(argv)
    # boto3 honours AWS_ENDPOINT_URL itself, which is how tests point it at moto.
    session = boto3.session.Session(region_name=args.region)
    try:
        bucket = args.bucket
        if not bucket:
            account_id = session.client("sts").get_caller_identity()["Account"]
            bucket = default_bucket_name(account_id, args.region)
        created = ensure_state_bucket(session.client("s3"), bucket, args.region)
    except NoCredentialsError as err:
        raise BootstrapError(
            "no AWS credentials found: run `aws configure` or export AWS_PROFILE, then retry"
        ) from err
    except ClientError as err:
        error = err.response.get("Error", {})
        raise BootstrapError(
            f"AWS refused {err.operation_name}: {error.get('Code')}: {error.get('Message')}"
        ) from err
    except BotoCoreError as err:
        raise BootstrapError(f"cannot reach AWS: {err}") from err
    write_backend_config(args.backend_config, bucket, args.region)
    state = "created" if created else "already there, settings re-applied"
    print(f"state bucket {bucket} ({args.region}): {state}")
    print(f"backend settings written to {args.backend_config}")
    return bucket


def main(argv: list[str] | None = None) -> int:
    try:
        run(argv)
    except BootstrapError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
