"""Each host's instance metadata service, as EC2 serves it at 169.254.169.254.

The hosts get their AWS credentials the way EC2 instances do: the SDKs' default chains ask
the metadata service for the instance profile's role credentials (IMDSv2: a session token
first). AWS's own mock of that service (amazon-ec2-metadata-mock, built from the Go module
proxy) runs once per host on the host's subnet gateway, with the host's identity (instance id,
address, type, zone) and a role named as the iam module names it; a DNAT rule sends the host's
traffic to 169.254.169.254:80 there. Its answers leave with an IP TTL of 1, the compute
module's `http_put_response_hop_limit = 1`: a container on a Docker bridge inside a host is
one hop further and never gets them, so only `network_mode=host` could read the credentials.

The credentials are random per fleet (the S3 endpoint, moto, accepts any); nothing of them is
in the repository.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

from tripclick_devstack.fleet.engine import FleetError

MODULE = "github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock"
VERSION = "v1.13.0"
ADDRESS = "169.254.169.254"
FIRST_PORT = 1338  # the mock's own default port, then one more per host
# The compute module's metadata_options: IMDSv2 only, hop limit 1.
HOP_LIMIT = 1


def binary(local: Path, log=print) -> Path:
    """The mock's binary under .local/tools, built once with `go install`."""
    bin_dir = local / "tools" / "go" / VERSION / "bin"
    path = bin_dir / "ec2-metadata-mock"
    if path.exists():
        return path
    if subprocess.run(["go", "version"], capture_output=True, check=False).returncode != 0:
        raise FleetError("the fleet's metadata service needs Go to build; install Go 1.22 or newer")
    log(f"building the instance metadata service ({MODULE}@{VERSION}) with go install")
    env = {**os.environ, "GOBIN": str(bin_dir), "CGO_ENABLED": "0"}
    result = subprocess.run(
        ["go", "install", f"{MODULE}@{VERSION}"], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        said = " / ".join(result.stderr.strip().splitlines()[-3:])
        raise FleetError(f"go install {MODULE}@{VERSION} failed: {said}")
    return path


def config(identity: dict[str, str], account: str, credentials: dict[str, str]) -> dict:
    """The mock's configuration for one host: what its metadata paths answer."""
    role = identity["role_name"]
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    region, zone = identity["region"], identity["availability_zone"]
    return {
        "metadata": {
            "paths": {
                "iam-security-credentials": f"/latest/meta-data/iam/security-credentials/{role}"
            },
            "values": {
                "instance-id": identity["instance_id"],
                "instance-type": identity["instance_type"],
                "local-ipv4": identity["private_ip"],
                "local-hostname": identity["name"],
                "hostname": identity["name"],
                "placement-region": region,
                "placement-availability-zone": zone,
                "tags-instance-name": identity["name"],
                "iam-security-credentials-role": role,
                "iam-info": {
                    "Code": "Success",
                    "LastUpdated": now,
                    "InstanceProfileArn": f"arn:aws:iam::{account}:instance-profile/{role}",
                    "InstanceProfileId": "AIPA" + identity["instance_id"][2:18].upper(),
                },
                "iam-security-credentials": {
                    "Code": "Success",
                    "LastUpdated": now,
                    "Type": "AWS-HMAC",
                    **credentials,
                    "Expiration": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                },
            },
        },
        "dynamic": {
            "values": {
                "instance-identity-document": {
                    "accountId": account,
                    "availabilityZone": zone,
                    "instanceId": identity["instance_id"],
                    "instanceType": identity["instance_type"],
                    "privateIp": identity["private_ip"],
                    "region": region,
                    "version": "2017-09-30",
                    "architecture": "x86_64",
                }
            }
        },
    }


def role_credentials() -> dict[str, str]:
    return {
        "AccessKeyId": "ASIA" + secrets.token_hex(8).upper(),
        "SecretAccessKey": secrets.token_urlsafe(30),
        "Token": secrets.token_urlsafe(48),
    }


class MetadataService:
    """One mock per host: started, routed and stopped with the fleet."""

    def __init__(self, root: Path, logs: Path, env: str, log=print) -> None:
        self.root = root / "imds"
        self.logs = logs
        self.env = env
        self.log = log

    def pid_file(self, key: str) -> Path:
        return self.root / f"{key}.pid"

    def start(self, binary_path: Path, host_key: str, listen: str, port: int, conf: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        conf_file = self.root / f"{host_key}.json"
        if self._pid(host_key) is not None and conf_file.exists():
            return
        conf_file.write_text(json.dumps(conf, indent=2))
        conf_file.chmod(0o600)
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"fleet-{self.env}-imds-{host_key}.log").open("ab") as out:
            proc = subprocess.Popen(
                [str(binary_path), "-n", listen, "-p", str(port), "-I", "-c", str(conf_file)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.root,
            )
        self.pid_file(host_key).write_text(str(proc.pid))
        for _ in range(50):
            if proc.poll() is not None:
                raise FleetError(
                    f"the metadata service of {host_key} exited; see "
                    f".local/run/logs/fleet-{self.env}-imds-{host_key}.log"
                )
            if _listening(listen, port):
                return
            time.sleep(0.1)
        raise FleetError(f"the metadata service of {host_key} does not listen on {listen}:{port}")

    def _pid(self, key: str) -> int | None:
        try:
            pid = int(self.pid_file(key).read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def stop_all(self) -> None:
        if not self.root.is_dir():
            return
        for pid_file in self.root.glob("*.pid"):
            pid = self._pid(pid_file.stem)
            if pid is not None:
                os.killpg(pid, signal.SIGTERM)
            pid_file.unlink(missing_ok=True)
        for conf in self.root.glob("*.json"):
            conf.unlink()


def rules(
    host_ip: str, listen: str, port: int, comment: list[str]
) -> list[tuple[str, str, list[str]]]:
    """(table, chain, rule) that route a host to its mock and give the answers hop limit 1."""
    return [
        (
            "nat",
            "PREROUTING",
            [
                "-s", f"{host_ip}/32", "-d", f"{ADDRESS}/32", "-p", "tcp", "--dport", "80",
                *comment, "-j", "DNAT", "--to-destination", f"{listen}:{port}",
            ],
        ),
        (
            "mangle",
            "OUTPUT",
            [
                "-s", f"{listen}/32", "-p", "tcp", "--sport", str(port),
                *comment, "-j", "TTL", "--ttl-set", str(HOP_LIMIT),
            ],
        ),
    ]  # fmt: skip


def _listening(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
