"""The amazon.aws.aws_ec2 inventories group tagged instances as the playbooks expect.

Instances are launched with boto3 in a moto server, tagged the way the compute module tags
them; the real plugin lists them through its endpoint (AWS_URL).
"""

from __future__ import annotations

import re
import subprocess
import sys

import boto3
import pytest
from ansible_listing import REPO, group_hosts

INVENTORIES = REPO / "inventory" / "aws_ec2"
COMPUTE_MAIN = REPO / "terraform" / "modules" / "compute" / "main.tf"
REGION = "ap-northeast-2"
LAKE = "tripclick-dev-lake-123456789012"
WRITER = REPO / "terraform" / "scripts" / "write_inventory.py"
FIXTURE = REPO / "tests" / "terraform" / "fixtures" / "dev-outputs.json"


def instance_tags(
    env: str, role: str, index: int, jump_ip: str, *, workers=0, nodes=()
) -> dict[str, str]:
    """The tags terraform/modules/compute puts on an instance (plus the provider's default tags)."""
    return {
        "Project": "tripclick",
        "Environment": env,
        "ManagedBy": "terraform",
        "Name": f"tripclick-{env}-{role.replace('_', '-')}-{index}",
        "Role": role,
        "RoleIndex": str(index),
        "SparkWorkers": str(workers),
        "KafkaNodeIds": " ".join(str(n) for n in nodes),
        "LakeBucket": LAKE,
        "JumpHost": "" if role == "airflow" else jump_ip,
    }


def test_fleet_tags_match_the_compute_module() -> None:
    text = COMPUTE_MAIN.read_text()
    block = text[text.index("  tags = merge(local.tags, {\n    Name") :]
    block = block[block.index("\n") : block.index("})")]
    keys = set(re.findall(r"^\s+(\w+)\s+=", block, re.MULTILINE))
    assert keys == set(instance_tags("dev", "web", 0, "x")) - {
        "Project",
        "Environment",
        "ManagedBy",
    }


class Fleet:
    """Launches tagged instances in moto and remembers what it launched."""

    def __init__(self, url: str) -> None:
        self.ec2 = boto3.client(
            "ec2",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        vpc = self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        self.subnets = {
            "public": self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"][
                "SubnetId"
            ],
            "private": self.ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24")["Subnet"][
                "SubnetId"
            ],
        }
        self.ami = self.ec2.describe_images()["Images"][0]["ImageId"]
        self.launched: dict[str, dict] = {}

    def launch(self, tags: dict[str, str], tier: str, *, public: bool = False) -> dict:
        instance = self.ec2.run_instances(
            ImageId=self.ami,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.small",
            NetworkInterfaces=[
                {
                    "DeviceIndex": 0,
                    "SubnetId": self.subnets[tier],
                    "AssociatePublicIpAddress": public,
                }
            ],
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                }
            ],
        )["Instances"][0]
        self.launched[tags["Name"]] = instance
        return instance

    def launch_env(self, env: str, *, kafka_hosts: int, worker_hosts: int) -> str:
        """The fleet of one environment; returns the jump host's Elastic IP."""
        eip = self.ec2.allocate_address(Domain="vpc")
        jump_ip = eip["PublicIp"]
        airflow = self.launch(instance_tags(env, "airflow", 0, jump_ip), "public")
        self.ec2.associate_address(
            InstanceId=airflow["InstanceId"], AllocationId=eip["AllocationId"]
        )
        for i in range(2):
            self.launch(instance_tags(env, "web", i, jump_ip), "public", public=True)
        brokers = 3
        for i in range(kafka_hosts):
            nodes = [n + 1 for n in range(brokers) if n % kafka_hosts == i]
            self.launch(instance_tags(env, "kafka", i, jump_ip, nodes=nodes), "private")
        master_workers = 0 if worker_hosts else 2
        self.launch(
            instance_tags(env, "spark_master", 0, jump_ip, workers=master_workers), "private"
        )
        for i in range(worker_hosts):
            self.launch(instance_tags(env, "spark_worker", i, jump_ip, workers=2), "private")
        self.launch(instance_tags(env, "gold", 0, jump_ip), "private")
        return jump_ip


@pytest.fixture(scope="module")
def fleet(aws_endpoint) -> tuple[Fleet, dict[str, str]]:
    fleet = Fleet(aws_endpoint["url"])
    jump = {
        "dev": fleet.launch_env("dev", kafka_hosts=1, worker_hosts=0),
        "prod": fleet.launch_env("prod", kafka_hosts=3, worker_hosts=2),
    }
    # Neither of these may show up: a stopped dev host and another project's instance.
    stopped = fleet.launch(instance_tags("dev", "web", 9, jump["dev"]), "public")
    fleet.ec2.stop_instances(InstanceIds=[stopped["InstanceId"]])
    fleet.launch(instance_tags("dev", "web", 8, jump["dev"]) | {"Project": "other"}, "public")
    return fleet, jump


@pytest.fixture(scope="module")
def dev_listing(fleet, aws_endpoint, ansible_inventory) -> dict:
    return ansible_inventory(INVENTORIES / "dev.aws_ec2.yml", aws_endpoint["env"])


def test_dev_groups_by_role_tag(dev_listing) -> None:
    assert group_hosts(dev_listing) == {
        "web": ["tripclick-dev-web-0", "tripclick-dev-web-1"],
        "kafka": ["tripclick-dev-kafka-0"],
        "spark_master": ["tripclick-dev-spark-master-0"],
        "spark_worker": ["tripclick-dev-spark-master-0"],
        "airflow": ["tripclick-dev-airflow-0"],
        "gold": ["tripclick-dev-gold-0"],
    }


def test_dev_host_vars_match_the_written_inventory(fleet, aws_endpoint, ansible_inventory) -> None:
    launched, jump = fleet[0].launched, fleet[1]["dev"]
    hostvars = ansible_inventory(INVENTORIES / "dev.aws_ec2.yml", aws_endpoint["env"])["_meta"][
        "hostvars"
    ]
    # Running dev instances of this project only: no prod host, no stopped one, no stranger.
    assert sorted(hostvars) == sorted(
        name for name in launched if name.startswith("tripclick-dev-") and name[-1] in "01"
    )
    for name, got in hostvars.items():
        instance = launched[name]
        assert got["private_ip"] == instance["PrivateIpAddress"]
        assert got["instance_id"] == instance["InstanceId"]
        assert got["tripclick_environment"] == "dev"
        assert got["aws_region"] == REGION
        assert got["lake_bucket_name"] == LAKE
        assert got["ansible_user"] == "ubuntu"
        if got["platform_role"] == "airflow":
            assert got["ansible_host"] == jump == got["public_ip"]
        else:
            assert got["ansible_host"] == instance["PrivateIpAddress"]
            assert got["ansible_ssh_common_args"] == f"-o ProxyJump=ubuntu@{jump}"
    assert hostvars["tripclick-dev-kafka-0"]["kafka_node_ids"] == [1, 2, 3]
    assert hostvars["tripclick-dev-spark-master-0"]["spark_worker_instances"] == 2
    assert [hostvars[f"tripclick-dev-web-{i}"]["role_index"] for i in range(2)] == [0, 1]


def test_prod_spreads_brokers_and_workers(fleet, aws_endpoint, ansible_inventory) -> None:
    listing = ansible_inventory(INVENTORIES / "prod.aws_ec2.yml", aws_endpoint["env"])
    groups = group_hosts(listing)
    assert groups["kafka"] == [f"tripclick-prod-kafka-{i}" for i in range(3)]
    assert groups["spark_master"] == ["tripclick-prod-spark-master-0"]
    assert groups["spark_worker"] == [
        "tripclick-prod-spark-worker-0",
        "tripclick-prod-spark-worker-1",
    ]
    assert all(name.startswith("tripclick-prod-") for hosts in groups.values() for name in hosts)
    hostvars = listing["_meta"]["hostvars"]
    assert [hostvars[f"tripclick-prod-kafka-{i}"]["kafka_node_ids"] for i in range(3)] == [
        [1],
        [2],
        [3],
    ]


def test_both_inventories_give_a_role_the_same_host_vars(
    dev_listing, tmp_path, ansible_inventory
) -> None:
    """A playbook may run from either source: every host var the written inventory sets, the
    dynamic one sets too (it adds the raw ec2_* fields and the environment's all-vars lack)."""
    written = tmp_path / "dev.yml"
    subprocess.run(
        [sys.executable, str(WRITER), str(FIXTURE), "--out", str(written)],
        check=True,
        capture_output=True,
    )
    from_terraform = ansible_inventory(written)
    only_written = {
        "lake_url",
        "ssm_parameter_prefix",
        "jump_host",
        "terraform_ports",
        "terraform_kafka_brokers",
    }

    def keys_by_role(listing: dict) -> dict[str, set[str]]:
        by_role: dict[str, set[str]] = {}
        for got in listing["_meta"]["hostvars"].values():
            by_role.setdefault(got["platform_role"], set()).update(
                k for k in got if not k.startswith("ec2_")
            )
        return by_role

    dynamic, static = keys_by_role(dev_listing), keys_by_role(from_terraform)
    assert set(dynamic) == set(static)
    for role, keys in static.items():
        assert keys - only_written <= dynamic[role], role
