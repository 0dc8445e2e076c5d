"""An S3 endpoint on 127.0.0.1 served by moto, standing in for AWS S3 (the s3a lake path)."""

from __future__ import annotations

import sys

from tripclick.config import Settings
from tripclick_devstack.stack import process
from tripclick_devstack.stack.service import Service


def client(settings: Settings):
    """A boto3 S3 client for the configured endpoint (moto locally, AWS when unset)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name="us-east-1",
        # moto accepts any credentials; these never reach AWS.
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


class MotoS3(Service):
    name = "s3"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.port = settings.s3_port

    def start(self) -> None:
        proc = process.spawn(
            self.name,
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            self.log_file,
            self.pid_file,
        )
        self.started_in = process.wait_healthy(self.name, self.healthy, self.log_file, proc, 30)
        self.ensure_bucket()

    def healthy(self) -> bool:
        if not process.port_open(self.port):
            return False
        client(self.settings).list_buckets()
        return True

    def ensure_bucket(self) -> None:
        """Create the lake bucket as the AWS one is: private, encrypted, versioned."""
        s3 = client(self.settings)
        bucket = self.settings.s3_bucket
        if bucket in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            return
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
