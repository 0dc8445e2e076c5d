"""The inventory `make apply` writes from `terraform output -json` is one Ansible reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_listing import REPO, group_hosts

WRITER = REPO / "terraform" / "scripts" / "write_inventory.py"
# `terraform output -json` of envs/dev and envs/prod, captured after a `terraform apply`
# against a moto server (hence the 127.x public addresses).
FIXTURES = REPO / "tests" / "terraform" / "fixtures"
FIXTURE = FIXTURES / "dev-outputs.json"


def write(outputs: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(WRITER), str(outputs), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def dev_outputs() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def dev_listing(tmp_path_factory, ansible_inventory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("inventory") / "dev.yml"
    run = write(FIXTURE, out)
    assert run.returncode == 0, run.stderr
    return ansible_inventory(out), run.stdout


def test_groups_are_the_ones_the_playbooks_target(dev_listing) -> None:
    listing, _ = dev_listing
    assert group_hosts(listing) == {
        "web": ["tripclick-dev-web-0", "tripclick-dev-web-1"],
        "kafka": ["tripclick-dev-kafka-0"],
        "spark_master": ["tripclick-dev-spark-master-0"],
        # The default fleet: the master host runs the two workers too.
        "spark_worker": ["tripclick-dev-spark-master-0"],
        "airflow": ["tripclick-dev-airflow-0"],
        "gold": ["tripclick-dev-gold-0"],
    }


def test_host_vars_come_from_the_outputs(dev_listing, dev_outputs) -> None:
    listing, _ = dev_listing
    hostvars = listing["_meta"]["hostvars"]
    jump = dev_outputs["jump_host_public_ip"]["value"]
    for host in dev_outputs["hosts"]["value"].values():
        got = hostvars[host["name"]]
        assert got["private_ip"] == host["private_ip"]
        assert got["instance_id"] == host["instance_id"]
        assert got["platform_role"] == host["role"]
        assert got["role_index"] == host["index"]
        assert got["ansible_user"] == "ubuntu"
        if host["role"] == "airflow":
            assert got["ansible_host"] == jump
            assert "ansible_ssh_common_args" not in got
        else:
            assert got["ansible_host"] == host["private_ip"]
            assert got["ansible_ssh_common_args"] == f"-o ProxyJump=ubuntu@{jump}"
    kafka = hostvars["tripclick-dev-kafka-0"]
    assert kafka["kafka_node_ids"] == [1, 2, 3]
    assert hostvars["tripclick-dev-spark-master-0"]["spark_worker_instances"] == 2


def test_environment_facts_reach_every_host(dev_listing, dev_outputs) -> None:
    listing, _ = dev_listing
    hosts = dev_outputs["hosts"]["value"]
    kafka = hosts["kafka-0"]
    for got in listing["_meta"]["hostvars"].values():
        assert got["tripclick_environment"] == "dev"
        assert got["aws_region"] == dev_outputs["aws_region"]["value"]
        assert got["lake_bucket_name"] == dev_outputs["lake_bucket_name"]["value"]
        assert got["ssm_parameter_prefix"] == "/tripclick/dev"
        assert got["terraform_ports"]["docker_tls"] == 2376
        # Three brokers on the one Kafka host, 10 ports apart, as the security group opens them.
        assert got["terraform_kafka_brokers"] == [
            {
                "node_id": n + 1,
                "host": kafka["name"],
                "address": kafka["private_ip"],
                "port": 9093 + 10 * n,
                "controller_port": 9094 + 10 * n,
            }
            for n in range(3)
        ]


def test_no_variable_shadows_a_role_default(dev_listing) -> None:
    """Inventory variables outrank role defaults: none may reuse a role's prefix."""
    listing, _ = dev_listing
    prefixes = ("kafka_", "spark_", "airflow_", "superset_", "postgresql_", "docker_", "producer_")
    allowed = {"kafka_node_ids", "spark_worker_instances"}
    for got in listing["_meta"]["hostvars"].values():
        clashes = [name for name in got if name.startswith(prefixes) and name not in allowed]
        assert clashes == []


def test_apply_prints_the_ui_addresses(dev_listing, dev_outputs) -> None:
    _, stdout = dev_listing
    jump = dev_outputs["jump_host_public_ip"]["value"]
    assert f"Airflow: ssh -N -L 8080:127.0.0.1:8080 ubuntu@{jump}" in stdout
    assert "Superset: ssh -N -L 8088:" in stdout
    assert "Spark master: ssh -N -L 18080:" in stdout
    assert f"Prometheus: ssh -N -L 9090:127.0.0.1:9090 ubuntu@{jump}" in stdout
    assert f"Alertmanager: ssh -N -L 9093:127.0.0.1:9093 ubuntu@{jump}" in stdout


def test_prod_spreads_brokers_and_worker_hosts(tmp_path, ansible_inventory) -> None:
    out = tmp_path / "prod.yml"
    assert write(FIXTURES / "prod-outputs.json", out).returncode == 0
    listing = ansible_inventory(out)
    groups = group_hosts(listing)
    assert groups["kafka"] == [f"tripclick-prod-kafka-{i}" for i in range(3)]
    assert groups["spark_master"] == ["tripclick-prod-spark-master-0"]
    # prod gives the workers hosts of their own: the master is not one of them.
    assert groups["spark_worker"] == [
        "tripclick-prod-spark-worker-0",
        "tripclick-prod-spark-worker-1",
    ]
    hostvars = listing["_meta"]["hostvars"]
    assert [hostvars[f"tripclick-prod-kafka-{i}"]["kafka_node_ids"] for i in range(3)] == [
        [1],
        [2],
        [3],
    ]
    brokers = hostvars["tripclick-prod-gold-0"]["terraform_kafka_brokers"]
    assert [(b["host"], b["port"], b["controller_port"]) for b in brokers] == [
        (f"tripclick-prod-kafka-{i}", 9093, 9094) for i in range(3)
    ]
    assert hostvars["tripclick-prod-spark-worker-1"]["spark_worker_instances"] == 2
    assert "spark_worker_instances" not in hostvars["tripclick-prod-spark-master-0"]
    # Two zones: the brokers do not all share one.
    assert len({hostvars[f"tripclick-prod-kafka-{i}"]["availability_zone"] for i in range(3)}) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "{}",
            "error: the Terraform outputs are empty: has this environment been applied? run make apply",
        ),
        ("not json", "error: the Terraform outputs are not JSON"),
        ('{"environment": {"value": "dev"}}', "error: the Terraform outputs lack aws_region, "),
    ],
)
def test_bad_outputs_give_one_line(tmp_path, content: str, message: str) -> None:
    source = tmp_path / "outputs.json"
    source.write_text(content)
    run = write(source, tmp_path / "out.yml")
    assert run.returncode == 2
    [line] = run.stderr.strip().splitlines()
    assert line.startswith(message)
    assert not (tmp_path / "out.yml").exists()
