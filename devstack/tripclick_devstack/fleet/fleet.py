"""A simulated `terraform apply`: the environment's fleet as systemd containers on this machine.

One container per instance the compute module declares, on Docker networks that carry the
very CIDRs of the network module's subnets (the jump host, Airflow, on a public and a
private one, as on AWS), each host's security group enforced inside it as iptables rules,
an S3 endpoint (moto) holding the lake bucket, and the outputs written in the shape of
`terraform output -json` for the real terraform/scripts/write_inventory.py. Everything it
makes carries the label tripclick.fleet=<env>, and `down` removes all of it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tripclick_devstack.fleet import firewall, hcl, image, imds
from tripclick_devstack.fleet.engine import FleetError, docker, ensure_engine, output
from tripclick_devstack.fleet.topology import Host, Topology, load

LABEL = "tripclick.fleet"
SSH_USER = image.SSH_USER
# What the fleet may take of this machine; the instance types are scaled down to it.
MEMORY_BUDGET_GIB = float(os.environ.get("FLEET_MEMORY_GIB", "19"))
MEMORY_FLOOR_GIB = 1.5
S3_PORT = 4566
MOTO_ACCOUNT = "123456789012"  # moto's account: the lake bucket's name ends with it, as on AWS
REGION_DEFAULT = "ap-northeast-2"


@dataclass
class Paths:
    root: Path

    @property
    def key(self) -> Path:
        return self.root / "ssh" / "id_ed25519"

    @property
    def ssh_config(self) -> Path:
        return self.root / "ssh" / "config"

    @property
    def known_hosts(self) -> Path:
        return self.root / "ssh" / "known_hosts"

    def host_key(self, host: Host) -> Path:
        return self.root / "hostkeys" / host.key / "ssh_host_ed25519_key"

    def sg_script(self, host: Host) -> Path:
        return self.root / "security-groups" / f"{host.key}.sh"

    @property
    def outputs(self) -> Path:
        return self.root / "terraform-outputs.json"

    @property
    def converge_vars(self) -> Path:
        return self.root / "converge-vars.json"

    @property
    def moto_pid(self) -> Path:
        return self.root / "moto.pid"


class Fleet:
    def __init__(self, env: str, local: Path | None = None, log=print) -> None:
        self.env = env
        self.local = Path(local or os.environ.get("TRIPCLICK_HOME") or hcl.REPO / ".local")
        self.paths = Paths(self.local / "fleet" / env)
        self.log = log
        # The control node (this machine) is the operator: its address on the public subnet
        # is the one admin CIDR, as a terraform.tfvars would name an operator's /32.
        base = load(env)
        self.gateways = {
            cidr: str(next(ipaddress.ip_network(cidr).hosts()))
            for cidr in base.public_subnets + base.private_subnets
        }
        self.topology: Topology = load(env, [f"{self.gateways[base.public_subnets[0]]}/32"])
        self.inventory = hcl.REPO / "inventory" / "terraform" / f"fleet-{env}.yml"

    # ------------------------------------------------------------------ layout

    def networks(self) -> list[tuple[str, str, str]]:
        """(docker network, CIDR, tier) of every subnet."""
        t = self.topology
        nets = [(f"{t.name}-public-{i}", c, "public") for i, c in enumerate(t.public_subnets)]
        nets += [(f"{t.name}-private-{i}", c, "private") for i, c in enumerate(t.private_subnets)]
        return nets

    def addresses(self) -> dict[str, dict[str, str]]:
        """Each host's address on each network it is on: the first four of a subnet are
        reserved (as AWS does), hosts take the next ones in the compute module's order, and the
        jump host gets one on the private subnet too."""
        t = self.topology
        nets = {
            (tier, i): name
            for name, _, tier in self.networks()
            for i in [int(name.rsplit("-", 1)[1])]
        }
        cidrs = {name: cidr for name, cidr, _ in self.networks()}
        used: dict[str, int] = {}
        result: dict[str, dict[str, str]] = {}

        def take(net: str) -> str:
            used[net] = used.get(net, 0) + 1
            return str(ipaddress.ip_network(cidrs[net]).network_address + 3 + used[net])

        for host in t.hosts:
            net = nets[(host.tier, host.subnet)]
            result[host.key] = {net: take(net)}
        for host in t.hosts:
            if host.role == "airflow":
                net = nets[("private", 0)]
                result[host.key][net] = take(net)
        return result

    def host_ips(self) -> dict[str, list[str]]:
        return {key: list(nets.values()) for key, nets in self.addresses().items()}

    def limits(self, host: Host) -> tuple[int, float, int]:
        """(memory MiB, CPUs, CPU shares) of a host: the instance type scaled to the machine."""
        total = sum(h.memory_gib for h in self.topology.hosts)
        factor = min(1.0, MEMORY_BUDGET_GIB / total)
        memory = max(MEMORY_FLOOR_GIB, host.memory_gib * factor)
        cores = os.cpu_count() or 1
        return int(memory * 1024), float(min(host.vcpus, cores)), 512 * host.vcpus

    @property
    def s3_endpoint(self) -> str:
        return f"http://{self.gateways[self.topology.private_subnets[0]]}:{S3_PORT}"

    @property
    def lake_bucket(self) -> str:
        return f"{self.topology.name}-lake-{MOTO_ACCOUNT}"

    @property
    def region(self) -> str:
        env_vars = hcl.environment(self.env).variables
        return (env_vars.get("aws_region") or {}).get("default") or REGION_DEFAULT

    # ------------------------------------------------------------------ up

    def up(self) -> None:
        started = time.monotonic()
        ensure_engine()
        base = image.build(self.local, log=self.log)
        self._keys()
        self._networks()
        self._vpc_routing(add=True)
        self._s3()
        addresses = self.addresses()
        self._imds(addresses)
        for host in self.topology.hosts:
            self._host(host, base, addresses[host.key])
        self._wait_ssh()
        self._outputs(addresses)
        self._write_inventory()
        # What only a simulated fleet has to tell site.yml: where its S3 stand-in listens.
        self.paths.converge_vars.write_text(
            json.dumps({"tripclick_s3_endpoint": self.s3_endpoint}, indent=2) + "\n"
        )
        elapsed = time.monotonic() - started
        (self.paths.root / "up-seconds.json").write_text(json.dumps({"seconds": round(elapsed, 1)}))
        self.log(
            f"fleet {self.env} up in {elapsed:.0f} s; inventory {self.inventory.relative_to(hcl.REPO)}"
        )

    def _keys(self) -> None:
        key = self.paths.key
        key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not key.exists():
            subprocess.run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    f"tripclick-fleet-{self.env}",
                    "-f",
                    str(key),
                ],
                check=True,
            )
        ips = self.host_ips()
        known = []
        for host in self.topology.hosts:
            hk = self.paths.host_key(host)
            hk.parent.mkdir(parents=True, exist_ok=True)
            if not hk.exists():
                subprocess.run(
                    ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", host.name, "-f", str(hk)],
                    check=True,
                )
            pub = hk.with_suffix(".pub").read_text().split()[:2]
            known.append(f"{','.join([host.name, *ips[host.key]])} {' '.join(pub)}")
        self.paths.known_hosts.write_text("\n".join(known) + "\n")
        self.paths.ssh_config.write_text(
            "# SSH to the simulated fleet: ssh -F this-file -J ubuntu@<jump host> ubuntu@<host>\n"
            "Host *\n"
            f"  User {SSH_USER}\n"
            f"  IdentityFile {key}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.paths.known_hosts}\n"
            "  StrictHostKeyChecking yes\n"
            "  ConnectTimeout 10\n"
            "  ServerAliveInterval 15\n"
        )

    def _networks(self) -> None:
        existing = set(
            output(
                "network", "ls", "--filter", f"label={LABEL}={self.env}", "--format", "{{.Name}}"
            ).split()
        )
        for name, cidr, tier in self.networks():
            if name in existing:
                continue
            self.log(f"creating network {name} {cidr} ({tier} subnet)")
            docker(
                "network",
                "create",
                "--driver",
                "bridge",
                "--subnet",
                cidr,
                "--gateway",
                self.gateways[cidr],
                "--label",
                f"{LABEL}={self.env}",
                "-o",
                f"com.docker.network.bridge.name=tc-{self.env[:4]}-{tier[:3]}{name.rsplit('-', 1)[1]}",
                name,
                capture=True,
            )

    def _iptables(self, *args: str) -> bool:
        return (
            subprocess.run(["iptables", "-w", *args], capture_output=True, check=False).returncode
            == 0
        )

    @property
    def _comment(self) -> list[str]:
        return ["-m", "comment", "--comment", f"tripclick-fleet-{self.env}"]

    def _rules(self, rules: list[tuple[str, str, list[str]]], add: bool) -> None:
        for table, chain, spec in rules:
            present = self._iptables("-t", table, "-C", chain, *spec)
            if add and not present:
                self._iptables("-t", table, "-I", chain, "1", *spec)
            while not add and self._iptables("-t", table, "-C", chain, *spec):
                self._iptables("-t", table, "-D", chain, *spec)

    def _vpc_routing(self, add: bool) -> None:
        """The VPC's router: the subnets reach each other with their own addresses (Docker
        isolates bridges and masquerades what leaves one; neither happens inside a VPC)."""
        vpc = self.topology.vpc_cidr
        self._rules(
            [
                ("filter", "DOCKER-USER", ["-s", vpc, "-d", vpc, *self._comment, "-j", "ACCEPT"]),
                ("nat", "POSTROUTING", ["-s", vpc, "-d", vpc, *self._comment, "-j", "RETURN"]),
            ],
            add,
        )

    @property
    def metadata_service(self) -> imds.MetadataService:
        return imds.MetadataService(
            self.paths.root, self.local / "run" / "logs", self.env, self.log
        )

    def _imds_endpoints(
        self, addresses: dict[str, dict[str, str]]
    ) -> dict[str, tuple[list[str], str, int]]:
        """host key -> (its addresses, where its metadata service listens, port).

        Every address of the host is routed to its service: a host on two subnets (the jump
        host) reaches 169.254.169.254 from whichever its default route leaves by."""
        nets = {name: cidr for name, cidr, _ in self.networks()}
        endpoints = {}
        for position, host in enumerate(self.topology.hosts):
            net = next(iter(addresses[host.key]))
            ips = list(addresses[host.key].values())
            endpoints[host.key] = (ips, self.gateways[nets[net]], imds.FIRST_PORT + position)
        return endpoints

    def _imds(self, addresses: dict[str, dict[str, str]]) -> None:
        """Each host's instance metadata (imds.py): its identity and its role's credentials."""
        binary = imds.binary(self.local, log=self.log)
        hosts = self.outputs(addresses)["hosts"]
        service = self.metadata_service
        for host in self.topology.hosts:
            ips, listen, port = self._imds_endpoints(addresses)[host.key]
            identity = {
                **{k: str(v) for k, v in hosts[host.key].items() if isinstance(v, (str, int))},
                "region": self.region,
                # The iam module's instance profile of the host's role (name_prefix "<name>-<role>-").
                "role_name": f"{self.topology.name}-{host.access}-fleet",
            }
            conf = imds.config(identity, MOTO_ACCOUNT, imds.role_credentials())
            service.start(binary, host.key, listen, port, conf)
            for ip in ips:
                self._rules(imds.rules(ip, listen, port, self._comment), add=True)
        self.log(f"instance metadata (IMDSv2, hop limit {imds.HOP_LIMIT}) for {len(hosts)} hosts")

    def _s3(self) -> None:
        """moto on the private subnet's gateway (the S3 gateway endpoint), with the lake bucket
        made as the lake module makes it: versioned, KMS-encrypted, public access blocked."""
        pid = self._moto_pid()
        if pid is None:
            logs = self.local / "run" / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            host = self.gateways[self.topology.private_subnets[0]]
            with (logs / f"fleet-{self.env}-moto.log").open("ab") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "moto.server", "-H", host, "-p", str(S3_PORT)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.paths.moto_pid.write_text(str(proc.pid))
            self.log(f"S3 endpoint (moto) {self.s3_endpoint}, pid {proc.pid}")
        import boto3
        from botocore.config import Config

        kwargs: dict[str, Any] = dict(
            endpoint_url=self.s3_endpoint,
            region_name=self.region,
            aws_access_key_id="fleet",
            aws_secret_access_key="fleet",
            config=Config(retries={"max_attempts": 10, "mode": "standard"}),
        )
        s3 = boto3.client("s3", **kwargs)
        for _ in range(50):
            try:
                names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
                break
            except Exception:  # noqa: BLE001 - moto still starting
                time.sleep(0.2)
        else:
            raise FleetError(
                f"the S3 endpoint {self.s3_endpoint} did not answer; see .local/run/logs/fleet-{self.env}-moto.log"
            )
        if self.lake_bucket in names:
            return
        lake = hcl.module("lake")
        kms = boto3.client("kms", **kwargs)
        key = kms.create_key(Description=f"Encrypts the objects of the {self.lake_bucket} lake.")[
            "KeyMetadata"
        ]
        s3.create_bucket(
            Bucket=self.lake_bucket, CreateBucketConfiguration={"LocationConstraint": self.region}
        )
        versioning = lake.resources_of("aws_s3_bucket_versioning")["this"][
            "versioning_configuration"
        ]
        status = (versioning[0] if isinstance(versioning, list) else versioning)["status"]
        s3.put_bucket_versioning(
            Bucket=self.lake_bucket, VersioningConfiguration={"Status": status}
        )
        sse = lake.resources_of("aws_s3_bucket_server_side_encryption_configuration")["this"][
            "rule"
        ]
        sse = sse[0] if isinstance(sse, list) else sse
        default = sse["apply_server_side_encryption_by_default"]
        default = default[0] if isinstance(default, list) else default
        s3.put_bucket_encryption(
            Bucket=self.lake_bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": default["sse_algorithm"],
                            "KMSMasterKeyID": key["Arn"],
                        },
                        "BucketKeyEnabled": bool(sse.get("bucket_key_enabled", False)),
                    }
                ]
            },
        )
        block = lake.resources_of("aws_s3_bucket_public_access_block")["this"]
        s3.put_public_access_block(
            Bucket=self.lake_bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": block["block_public_acls"],
                "IgnorePublicAcls": block["ignore_public_acls"],
                "BlockPublicPolicy": block["block_public_policy"],
                "RestrictPublicBuckets": block["restrict_public_buckets"],
            },
        )
        self.log(f"lake bucket {self.lake_bucket}: versioning {status}, {default['sse_algorithm']}")

    def _moto_pid(self) -> int | None:
        try:
            pid = int(self.paths.moto_pid.read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def _host(self, host: Host, base: str, nets: dict[str, str]) -> None:
        rules = firewall.ingress_rules(self.topology, host, self.host_ips())
        sg = self.paths.sg_script(host)
        sg.parent.mkdir(parents=True, exist_ok=True)
        sg_text = firewall.script(host, rules)
        sg_changed = not sg.exists() or sg.read_text() != sg_text
        sg.write_text(sg_text)
        (sg.with_suffix(".json")).write_text(json.dumps(rules, indent=2))
        memory, cpus, shares = self.limits(host)
        runs_docker = host.role == "web"
        first_net, *other_nets = nets.items()
        args = [
            "--name",
            host.name,
            "--hostname",
            host.name,
            "--label",
            f"{LABEL}={self.env}",
            "--label",
            f"{LABEL}.host={host.key}",
            "--network",
            first_net[0],
            "--ip",
            first_net[1],
            "--cgroupns=host",
            "-v",
            "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            "--tmpfs",
            "/run",
            "--tmpfs",
            "/run/lock",
            "--stop-signal",
            "SIGRTMIN+3",
            "--cap-add",
            "ALL",
            "--cap-drop",
            "SYS_RESOURCE",
            "--memory",
            f"{memory}m",
            "--memory-swap",
            f"{memory}m",
            "--cpus",
            f"{cpus:g}",
            "--cpu-shares",
            str(shares),
            "-v",
            f"{self.paths.key}.pub:/home/{SSH_USER}/.ssh/authorized_keys:ro",
            "-v",
            f"{self.paths.host_key(host)}:/etc/ssh/ssh_host_ed25519_key:ro",
            "-v",
            f"{self.paths.host_key(host)}.pub:/etc/ssh/ssh_host_ed25519_key.pub:ro",
            "-v",
            f"{sg}:{image.SG_SCRIPT}:ro",
        ]
        if runs_docker:
            # The web hosts run their own dockerd (the producer image): no seccomp/AppArmor
            # filter in its way, and a volume for its images (overlay2 cannot nest on overlay).
            volume = f"{host.name}-docker"
            args += [
                "--security-opt",
                "seccomp=unconfined",
                "--security-opt",
                "apparmor=unconfined",
                "-v",
                f"{volume}:/var/lib/docker",
            ]
        config = hashlib.sha256(json.dumps([base, args, other_nets]).encode()).hexdigest()[:12]
        args += ["--label", f"{LABEL}.config={config}"]
        state = docker(
            "inspect",
            "--format",
            '{{.State.Running}} {{index .Config.Labels "' + LABEL + '.config"}}',
            host.name,
            check=False,
            capture=True,
        )
        if state.returncode == 0:
            running, current = state.stdout.split()
            if current == config:
                if running != "true":
                    docker("start", host.name, capture=True)
                if sg_changed:
                    docker(
                        "exec",
                        host.name,
                        "systemctl",
                        "restart",
                        "tripclick-fleet-sg.service",
                        check=False,
                        capture=True,
                    )
                return
            self.log(f"replacing {host.name} (its configuration changed)")
            docker("rm", "-f", host.name, capture=True)
        if runs_docker:
            docker(
                "volume",
                "create",
                "--label",
                f"{LABEL}={self.env}",
                f"{host.name}-docker",
                capture=True,
            )
        self.log(
            f"starting {host.name} ({host.instance_type} as {memory} MiB, {cpus:g} CPUs) at {', '.join(nets.values())}"
        )
        docker("create", *args, base, capture=True)
        for net, ip in other_nets:
            docker("network", "connect", "--ip", ip, net, host.name, capture=True)
        docker("start", host.name, capture=True)

    def ssh_command(self, host: Host, *command: str, timeout: int = 10) -> list[str]:
        """ssh to a host the way Ansible does: the jump host directly, the others through it."""
        ips = self.host_ips()
        jump = self.topology.hosts[[h.role for h in self.topology.hosts].index("airflow")]
        args = [
            "ssh",
            "-F",
            str(self.paths.ssh_config),
            "-o",
            f"ConnectTimeout={timeout}",
            "-o",
            "BatchMode=yes",
        ]
        if host.key != jump.key:
            args += ["-J", f"{SSH_USER}@{ips[jump.key][0]}"]
        return [*args, f"{SSH_USER}@{ips[host.key][0]}", *command]

    def _wait_ssh(self, timeout: float = 300) -> None:
        # Generous: on two busy cores six systemd hosts boot side by side.
        deadline = time.monotonic() + timeout
        jump = next(h for h in self.topology.hosts if h.role == "airflow")
        jump_ip = self.host_ips()[jump.key][0]
        # The jump host first: the others are reached through it.
        pending = sorted(self.topology.hosts, key=lambda h: h != jump)
        restarted = False
        while pending:
            host = pending[0]
            result = subprocess.run(
                self.ssh_command(host, "true", timeout=5),
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode == 0:
                pending.pop(0)
                continue
            jump_refused = f"connect to host {jump_ip} port 22" in result.stderr
            if jump_refused and jump not in pending:
                # The jump host answered once and has stopped: say what it reports, and
                # start its sshd again once, as an operator would, rather than wait it out.
                self.log(f"{jump.name} stopped answering SSH; on the host: {self.diagnose(jump)}")
                if not restarted:
                    docker(
                        "exec", jump.name, "systemctl", "start", "ssh", check=False, capture=True
                    )
                    restarted = True
                pending.insert(0, jump)
                continue
            if time.monotonic() > deadline:
                ssh_said = " / ".join(result.stderr.strip().splitlines()[-4:])
                reports = [f"on the host: {self.diagnose(host)}"]
                if jump_refused and host != jump:
                    reports.append(f"on the jump host {jump.name}: {self.diagnose(jump)}")
                raise FleetError(
                    f"{host.name} does not answer SSH after {timeout:.0f} s ({ssh_said}); "
                    + "; ".join(reports)
                )
            time.sleep(1)

    def diagnose(self, host: Host) -> str:
        """What a host says about itself from the inside (for a host that does not answer)."""
        probes = {
            "systemd": ["systemctl", "is-system-running"],
            "failed units": ["systemctl", "--failed", "--no-legend", "--plain"],
            "listening": ["ss", "-Hltn"],
            "ssh log": [
                "journalctl",
                "-b",
                "-u",
                "ssh",
                "-u",
                "tripclick-fleet-sg",
                "-n",
                "8",
                "-q",
                "--no-pager",
            ],
        }
        said = []
        for name, command in probes.items():
            result = docker("exec", host.name, *command, check=False, capture=True)
            text = " | ".join((result.stdout + result.stderr).strip().splitlines()) or "-"
            said.append(f"{name}: {text}")
        return "; ".join(said)

    # ------------------------------------------------------------------ outputs

    def outputs(self, addresses: dict[str, dict[str, str]]) -> dict[str, Any]:
        """The values of the environment's outputs (terraform/envs/<env>/outputs.tf)."""
        t = self.topology
        ips = {k: list(v.values()) for k, v in addresses.items()}
        ids = {
            h.key: "i-" + hashlib.sha256(f"{t.name}/{h.key}".encode()).hexdigest()[:17]
            for h in t.hosts
        }
        jump = next(h for h in t.hosts if h.role == "airflow")
        jump_ip = ips[jump.key][0]
        zones = "abcdef"
        hosts = {}
        for h in t.hosts:
            hosts[h.key] = {
                "availability_zone": f"{self.region}{zones[h.subnet]}",
                "groups": list(h.groups),
                "index": h.index,
                "instance_id": ids[h.key],
                "instance_type": h.instance_type,
                "kafka_node_ids": list(h.kafka_node_ids),
                "name": h.name,
                "private_ip": ips[h.key][0],
                # Web servers have their own public address and the jump host its Elastic IP;
                # here that is their address on the public subnet, which the control node reaches.
                "public_ip": ips[h.key][0] if h.role in ("web", "airflow") else "",
                "role": h.role,
                "spark_worker_instances": h.spark_workers,
            }
        brokers = []
        for h in t.hosts:
            for position, node_id in enumerate(h.kafka_node_ids):
                brokers.append(
                    {
                        "broker_port": t.kafka_broker_port + position * t.kafka_port_step,
                        "controller_port": t.kafka_controller_port + position * t.kafka_port_step,
                        "host": h.key,
                        "node_id": node_id,
                        "private_ip": ips[h.key][0],
                    }
                )
        gold = hosts["gold-0"]["private_ip"]
        master = hosts["spark-master-0"]["private_ip"]
        return {
            "aws_region": self.region,
            "environment": t.environment,
            "hosts": hosts,
            "jump_host_public_ip": jump_ip,
            "kafka_brokers": brokers,
            "lake_bucket_name": self.lake_bucket,
            "lake_url": f"s3a://{self.lake_bucket}/",
            "ports": dict(t.ports),
            "ssm_parameter_prefix": t.ssm_parameter_prefix,
            "ui_addresses": {
                "airflow": f"ssh -N -L 8080:127.0.0.1:{t.ports['airflow_ui']} {SSH_USER}@{jump_ip}, then http://localhost:8080",
                "spark_master": f"ssh -N -L 18080:{master}:{t.ports['spark_master_ui']} {SSH_USER}@{jump_ip}, then http://localhost:18080",
                "superset": f"ssh -N -L 8088:{gold}:{t.ports['superset']} {SSH_USER}@{jump_ip}, then http://localhost:8088",
                # On the jump host's loopback (ansible/roles/monitoring), as terraform/modules/platform has them.
                "prometheus": f"ssh -N -L 9090:127.0.0.1:9090 {SSH_USER}@{jump_ip}, then http://localhost:9090",
                "alertmanager": f"ssh -N -L 9093:127.0.0.1:9093 {SSH_USER}@{jump_ip}, then http://localhost:9093",
            },
        }

    def _outputs(self, addresses: dict[str, dict[str, str]]) -> None:
        values = self.outputs(addresses)
        wrapped = {
            name: {"sensitive": False, "type": tf_type(value, name), "value": value}
            for name, value in sorted(values.items())
        }
        self.paths.outputs.write_text(json.dumps(wrapped, indent=2, sort_keys=True) + "\n")

    def _write_inventory(self) -> None:
        script = hcl.TERRAFORM / "scripts" / "write_inventory.py"
        result = subprocess.run(
            [sys.executable, str(script), str(self.paths.outputs), "--out", str(self.inventory)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise FleetError(f"write_inventory.py refused the outputs: {result.stderr.strip()}")

    # ------------------------------------------------------------------ status, down

    def containers(self) -> list[dict[str, Any]]:
        ids = output("ps", "-aq", "--filter", f"label={LABEL}={self.env}").split()
        return json.loads(output("inspect", *ids)) if ids else []

    def status(self) -> list[dict[str, str]]:
        rows = []
        by_name = {c["Name"].lstrip("/"): c for c in self.containers()}
        ips = self.host_ips()
        for host in self.topology.hosts:
            c = by_name.get(host.name)
            if c is None:
                rows.append({"host": host.name, "state": "absent", "addresses": "", "health": "-"})
                continue
            state = c["State"]["Status"]
            health = "-"
            if state == "running":
                systemd = docker(
                    "exec", host.name, "systemctl", "is-system-running", check=False, capture=True
                ).stdout.strip()
                ssh = (
                    subprocess.run(
                        self.ssh_command(host, "true", timeout=5), capture_output=True, check=False
                    ).returncode
                    == 0
                )
                health = f"systemd {systemd or 'unknown'}, ssh {'ok' if ssh else 'refused'}"
            rows.append(
                {
                    "host": host.name,
                    "state": state,
                    "addresses": ", ".join(ips[host.key]),
                    "health": health,
                }
            )
        return rows

    def down(self) -> None:
        if (
            shutil.which("docker") is None
            or docker("version", check=False, capture=True).returncode != 0
        ):
            self.log("no Docker engine answering: no container to remove")
        else:
            for c in self.containers():
                self.log(f"removing {c['Name'].lstrip('/')}")
                docker("rm", "-f", "-v", c["Id"], capture=True)
            for net in output(
                "network", "ls", "-q", "--filter", f"label={LABEL}={self.env}"
            ).split():
                docker("network", "rm", net, capture=True)
            for vol in output(
                "volume", "ls", "-q", "--filter", f"label={LABEL}={self.env}"
            ).split():
                docker("volume", "rm", "-f", vol, capture=True)
        self._vpc_routing(add=False)
        for ips, listen, port in self._imds_endpoints(self.addresses()).values():
            for ip in ips:
                self._rules(imds.rules(ip, listen, port, self._comment), add=False)
        self.metadata_service.stop_all()
        pid = self._moto_pid()
        if pid is not None:
            self.log(f"stopping the S3 endpoint (moto, pid {pid})")
            os.killpg(pid, signal.SIGTERM)
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.1)
        self.paths.moto_pid.unlink(missing_ok=True)
        self.paths.outputs.unlink(missing_ok=True)
        self.paths.converge_vars.unlink(missing_ok=True)
        self.inventory.unlink(missing_ok=True)


def tf_type(value: Any, name: str = "") -> Any:
    """Terraform's type of an output value as `terraform output -json` prints it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        if name == "hosts":
            return ["object", {k: _host_type(v) for k, v in value.items()}]
        return ["object", {k: tf_type(v) for k, v in value.items()}]
    if isinstance(value, list):
        return ["tuple", [tf_type(v) for v in value]]
    raise TypeError(f"no Terraform type for {value!r}")


def _host_type(host: dict[str, Any]) -> Any:
    # The compute module's groups and kafka_node_ids are lists (compact(), a for over a list).
    types = {k: tf_type(v) for k, v in host.items()}
    types["groups"] = ["list", "string"]
    types["kafka_node_ids"] = ["list", "number"]
    return ["object", types]
