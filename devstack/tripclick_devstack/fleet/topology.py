"""What `terraform apply` would build for an environment, read from terraform/ itself.

The hosts (name, role, inventory groups, subnet tier, instance type, Kafka node IDs, Spark
workers), the subnets, the service ports and every security group ingress rule come from
the environment's call of the platform module, the modules' variable defaults and the
compute and security modules' locals: the same configuration the AWS apply uses, not a
second hand-kept list. Where a local is an expression this reader cannot evaluate, the
code below follows it line by line and names it.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from typing import Any

from tripclick_devstack.fleet import hcl

# vCPUs and GiB of the instance types the variables' validations accept and the
# environments use; an unknown type is an error rather than a guess.
INSTANCE_TYPES: dict[str, tuple[int, float]] = {
    "t3.micro": (2, 1),
    "t3.small": (2, 2),
    "t3.medium": (2, 4),
    "t3.large": (2, 8),
    "t3.xlarge": (4, 16),
    "t3.2xlarge": (8, 32),
    "m5.large": (2, 8),
    "m5.xlarge": (4, 16),
    "m5.2xlarge": (8, 32),
    "r5.large": (2, 16),
    "r5.xlarge": (4, 32),
    "c5.large": (2, 4),
    "c5.xlarge": (4, 8),
}

# The compute module's variables that the platform module fills from var.fleet.
_FLEET_KEYS = (
    "web_instance_count",
    "web_instance_type",
    "kafka_instance_count",
    "kafka_broker_count",
    "kafka_instance_type",
    "spark_master_instance_type",
    "spark_master_runs_workers",
    "spark_workers_per_instance",
    "spark_worker_instance_count",
    "spark_worker_instance_type",
    "airflow_instance_type",
    "gold_instance_type",
)


@dataclass(frozen=True)
class Host:
    """One aws_instance of the compute module."""

    key: str  # web-0, spark-master-0 (the compute module's instance key)
    name: str  # tripclick-dev-web-0 (its Name tag)
    role: str  # web, kafka, spark_master, spark_worker, airflow, gold
    index: int
    groups: tuple[str, ...]
    tier: str  # public or private
    subnet: int  # which subnet of its tier (index into the tier's subnet list)
    access: str  # security group and instance profile: web, kafka, spark, airflow, gold
    instance_type: str
    kafka_node_ids: tuple[int, ...] = ()
    spark_workers: int = 0

    @property
    def vcpus(self) -> int:
        return INSTANCE_TYPES[self.instance_type][0]

    @property
    def memory_gib(self) -> float:
        return INSTANCE_TYPES[self.instance_type][1]


@dataclass(frozen=True)
class Ingress:
    """One ingress rule of a security group: TCP from_port..to_port from a group or a CIDR."""

    target: str  # the security group (role access) it belongs to
    from_port: int
    to_port: int
    description: str
    source_group: str | None = None
    cidr: str | None = None


@dataclass
class Topology:
    environment: str
    name: str  # the resource name prefix, tripclick-dev
    project: str
    vpc_cidr: str
    public_subnets: list[str]
    private_subnets: list[str]
    hosts: list[Host]
    ports: dict[str, int]
    ingress: list[Ingress]
    kafka_broker_port: int
    kafka_controller_port: int
    kafka_port_step: int
    lake_bucket_suffix: str = "lake"
    ssm_parameter_prefix: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def host(self, key: str) -> Host:
        return next(h for h in self.hosts if h.key == key)

    def of_access(self, access: str) -> list[Host]:
        return [h for h in self.hosts if h.access == access]

    def rules_for(self, access: str) -> list[Ingress]:
        return [rule for rule in self.ingress if rule.target == access]


def _literal_args(call: dict[str, Any]) -> dict[str, Any]:
    """The environment's arguments to the platform module that are values, not var. references."""
    return {k: v for k, v in call.items() if not (isinstance(v, str) and v.startswith("${"))}


def load(env: str, admin_cidr_blocks: list[str] | None = None) -> Topology:
    """The fleet of terraform/envs/<env>, with admin_cidr_blocks as a tfvars file would set them."""
    env_module = hcl.environment(env)
    call = _literal_args(env_module.module_calls["platform"])
    platform = hcl.module("platform")

    def platform_var(name: str) -> Any:
        return call[name] if name in call else platform.default(name)

    project = platform_var("project")
    environment = platform_var("environment")
    name = f"{project}-{environment}"
    fleet_args: dict[str, Any] = dict(platform_var("fleet") or {})
    admin = list(admin_cidr_blocks or [])

    # network: the subnet pairs of local.public_subnet_cidrs / private_subnet_cidrs.
    network = hcl.module("network")
    net_vars = {"vpc_cidr": platform_var("vpc_cidr"), "az_count": platform_var("az_count")}
    azs = [f"zone-{i}" for i in range(net_vars["az_count"])]
    public = hcl.evaluate(network.locals["public_subnet_cidrs"], network, net_vars, {"azs": azs})
    private = hcl.evaluate(network.locals["private_subnet_cidrs"], network, net_vars, {"azs": azs})

    # compute: local.fleet, evaluated over the variables the platform passes from var.fleet.
    compute = hcl.module("compute")
    compute_vars = {k: fleet_args.get(k) for k in _FLEET_KEYS}
    kafka_ports = {
        k: platform_var(k)
        for k in ("kafka_broker_port", "kafka_controller_port", "kafka_port_step")
    }
    compute_vars.update(kafka_ports)

    def cvar(key: str) -> Any:
        value = compute_vars.get(key)
        return compute.default(key) if value is None else value

    fleet = hcl.evaluate(compute.locals["fleet"], compute, compute_vars)
    kafka_count, broker_count = cvar("kafka_instance_count"), cvar("kafka_broker_count")
    # local.kafka_node_ids: broker n (0-based) on Kafka host n mod kafka_instance_count.
    node_ids = {
        i: tuple(n + 1 for n in range(broker_count) if n % kafka_count == i)
        for i in range(kafka_count)
    }
    # local.spark_workers
    spark_workers = {
        "spark_master": cvar("spark_workers_per_instance")
        if cvar("spark_master_runs_workers")
        else 0,
        "spark_worker": cvar("spark_workers_per_instance"),
    }
    hosts: list[Host] = []
    for role, spec in fleet.items():
        for i in range(spec["count"]):
            groups = [role]
            if role == "spark_master" and spark_workers["spark_master"] > 0:
                groups.append("spark_worker")
            subnets = public if spec["tier"] == "public" else private
            if spec["instance_type"] not in INSTANCE_TYPES:
                raise ValueError(
                    f"instance type {spec['instance_type']} of {role} is not in the fleet's size table; "
                    "add it to tripclick_devstack/fleet/topology.py INSTANCE_TYPES"
                )
            key = f"{role.replace('_', '-')}-{i}"
            hosts.append(
                Host(
                    key=key,
                    name=f"{name}-{key}",
                    role=role,
                    index=i,
                    groups=tuple(groups),
                    tier=spec["tier"],
                    subnet=i % len(subnets),
                    access=spec["access"],
                    instance_type=spec["instance_type"],
                    kafka_node_ids=node_ids[i] if role == "kafka" else (),
                    spark_workers=spark_workers.get(role, 0),
                )
            )

    # security: local.group_rules and local.admin_rules over the platform's arguments.
    security = hcl.module("security")
    sec_vars = dict(kafka_ports)
    sec_vars["admin_cidr_blocks"] = admin
    # platform's local.kafka_brokers_per_instance
    sec_vars["kafka_brokers_per_instance"] = math.ceil(
        (fleet_args.get("kafka_broker_count") or 3) / (fleet_args.get("kafka_instance_count") or 1)
    )
    ingress: list[Ingress] = []
    for flow in hcl.evaluate(security.locals["group_flows"], security, sec_vars).values():
        for first, last in flow["port_ranges"]:
            ingress.append(
                Ingress(
                    flow["target"], first, last, flow["description"], source_group=flow["source"]
                )
            )
    for flow in hcl.evaluate(security.locals["admin_flows"], security, sec_vars).values():
        for cidr in admin:
            ingress.append(
                Ingress(
                    flow["target"],
                    flow["from_port"],
                    flow["to_port"],
                    flow["description"],
                    cidr=cidr,
                )
            )
    ports_expr = security.outputs["ports"]["value"]
    ports = {k: int(v) for k, v in hcl.evaluate(ports_expr, security, sec_vars).items()}

    return Topology(
        environment=environment,
        name=name,
        project=project,
        vpc_cidr=str(ipaddress.ip_network(net_vars["vpc_cidr"])),
        public_subnets=public,
        private_subnets=private,
        hosts=hosts,
        ports=ports,
        ingress=ingress,
        kafka_broker_port=int(cvar("kafka_broker_port")),
        kafka_controller_port=int(cvar("kafka_controller_port")),
        kafka_port_step=int(cvar("kafka_port_step")),
        ssm_parameter_prefix=f"/{project}/{environment}",
    )
