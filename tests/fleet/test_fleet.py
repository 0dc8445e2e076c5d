"""The simulated fleet against what Terraform declares: hosts, SSH through the jump host,
security groups enforced, the lake bucket, the outputs, and a clean fleet-down.

The tests run in file order; the last one takes the fleet down.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
import yaml
from fleet_tools import docker_ids, on, run

from tripclick_devstack.fleet import hcl
from tripclick_devstack.fleet.topology import load

pytestmark = pytest.mark.slow

FIXTURE = hcl.REPO / "tests" / "terraform" / "fixtures" / "dev-outputs.json"


def test_one_running_host_per_terraform_instance(fleet):
    expected = {h.name for h in load("dev").hosts}
    rows = {row["host"]: row for row in fleet.status()}
    assert set(rows) == expected
    assert len(expected) == 6  # web x2, kafka, spark master, airflow, gold (ARCHITECTURE 5)
    for name, row in rows.items():
        assert row["state"] == "running", name
        assert "ssh ok" in row["health"], row


def test_hosts_answer_ssh_through_the_jump_host(fleet):
    for host in fleet.topology.hosts:
        result = on(fleet, host.key, "hostname; sudo -n id -u; systemctl is-system-running || true")
        assert result.returncode == 0, (host.name, result.stderr)
        name, uid, systemd = result.stdout.split()
        assert name == host.name
        assert uid == "0"  # passwordless sudo for the image's default user
        assert systemd in ("running", "degraded"), systemd


def test_private_hosts_refuse_ssh_that_skips_the_jump_host(fleet):
    kafka = fleet.host_ips()["kafka-0"][0]
    direct = [
        "ssh",
        "-F",
        str(fleet.paths.ssh_config),
        "-o",
        "ConnectTimeout=3",
        "-o",
        "BatchMode=yes",
    ]
    result = run([*direct, f"ubuntu@{kafka}", "true"], timeout=30)
    assert result.returncode == 255
    assert "timed out" in result.stderr


def test_security_group_rules_come_from_the_security_module(fleet):
    rules = json.loads(
        fleet.paths.sg_script(fleet.topology.host("gold-0")).with_suffix(".json").read_text()
    )
    by_port = {(r["from_port"], r["source"]): r["sources"] for r in rules}
    ips = fleet.host_ips()
    assert by_port[(5432, "spark")] == [f"{ips['spark-master-0'][0]}/32"]
    assert sorted(by_port[(22, "airflow")]) == sorted(f"{ip}/32" for ip in ips["airflow-0"])
    assert not any(r["source"] == "web" for r in rules)


LISTEN = (
    'sudo -n sh -c \'ss -ltn | grep -q ":{port} " || '
    '(nohup python3 -c "import socket,time;s=socket.socket();'
    's.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind((\\"0.0.0.0\\",{port}));'
    's.listen();time.sleep(20)" >/dev/null 2>&1 &); sleep 1; ss -ltn | grep -q ":{port} "\''
)
PROBE = "timeout 4 bash -c '</dev/tcp/{ip}/{port}' && echo open || echo closed"


def test_a_flow_in_the_matrix_passes_and_one_outside_it_is_refused(fleet):
    port = fleet.topology.ports["postgres"]
    gold = fleet.host_ips()["gold-0"][0]
    listening = on(fleet, "gold-0", LISTEN.format(port=port))
    assert listening.returncode == 0, listening.stderr
    # spark -> gold:5432 is the gold ETL's flow; web -> gold:5432 is in no rule.
    assert on(fleet, "spark-master-0", PROBE.format(ip=gold, port=port)).stdout.strip() == "open"
    assert on(fleet, "web-0", PROBE.format(ip=gold, port=port)).stdout.strip() == "closed"


def test_lake_bucket_has_the_lake_modules_settings_and_hosts_reach_it(fleet):
    s3 = boto3.client(
        "s3",
        endpoint_url=fleet.s3_endpoint,
        region_name=fleet.region,
        aws_access_key_id="fleet",
        aws_secret_access_key="fleet",
    )
    assert s3.get_bucket_versioning(Bucket=fleet.lake_bucket)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=fleet.lake_bucket)["ServerSideEncryptionConfiguration"][
        "Rules"
    ][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    reply = on(
        fleet,
        "spark-master-0",
        f"curl -s -o /dev/null -w '%{{http_code}}' {fleet.s3_endpoint}/{fleet.lake_bucket}",
    )
    assert reply.stdout.strip() in ("200", "403"), reply


def test_outputs_have_the_shape_of_terraform_output_json(fleet):
    ours = json.loads(fleet.paths.outputs.read_text())
    theirs = json.loads(FIXTURE.read_text())
    assert set(ours) == set(theirs)
    for name in theirs:
        assert set(ours[name]) == {"sensitive", "type", "value"}
        if isinstance(theirs[name]["value"], dict):
            assert set(ours[name]["value"]) == set(theirs[name]["value"]), name
    host_keys = set(theirs["hosts"]["value"]["web-0"])
    assert all(set(h) == host_keys for h in ours["hosts"]["value"].values())
    assert ours["hosts"]["type"][1]["web-0"] == theirs["hosts"]["type"][1]["web-0"]
    assert ours["ports"] == theirs["ports"]


def test_inventory_is_written_by_write_inventory(fleet):
    inventory = yaml.safe_load(Path(fleet.inventory).read_text())
    groups = inventory["all"]["children"]
    assert set(groups["web"]["hosts"]) == {"tripclick-dev-web-0", "tripclick-dev-web-1"}
    assert set(groups["spark_worker"]["hosts"]) == {"tripclick-dev-spark-master-0"}
    jump = inventory["all"]["vars"]["jump_host"]
    kafka = groups["kafka"]["hosts"]["tripclick-dev-kafka-0"]
    assert kafka["ansible_ssh_common_args"] == f"-o ProxyJump=ubuntu@{jump}"
    assert kafka["kafka_node_ids"] == [1, 2, 3]


def test_fleet_up_again_changes_nothing(fleet):
    before = sorted(docker_ids("container", "dev"))
    fleet.up()
    assert sorted(docker_ids("container", "dev")) == before


def test_fleet_down_leaves_nothing_behind(fleet):
    if fleet.was_up:
        pytest.skip("a fleet was up before the tests; it is left as found")
    fleet.down()
    for kind in ("container", "network", "volume"):
        assert docker_ids(kind, "dev") == [], kind
    rules = (
        run(["iptables", "-w", "-S", "DOCKER-USER"]).stdout
        + run(["iptables", "-w", "-t", "nat", "-S"]).stdout
    )
    assert "tripclick-fleet-dev" not in rules
    assert fleet._moto_pid() is None
    assert not fleet.paths.outputs.exists() and not fleet.inventory.exists()
    # Nothing of ours listens on the endpoint's port. (A connection test cannot tell: with the
    # subnet gone, the address routes out to the network, where a proxy may accept anything.)
    port = fleet.s3_endpoint.rsplit(":", 1)[1]
    assert run(["ss", "-Hltn", f"sport = :{port}"]).stdout.strip() == ""
