"""The security groups allow exactly the flows the platform needs (issue: Terraform, tests)."""

from __future__ import annotations

import re

import pytest
from tfcode import MODULES, all_envs, all_modules, evaluate, load_module, tf_files

SECURITY = load_module(MODULES / "security")
ROLES = {"web", "kafka", "spark", "airflow", "gold"}

# (source, target, first port, last port), all TCP. "admin" is admin_cidr_blocks.
# Between roles: what the daily flow and provisioning need (ARCHITECTURE sections 1, 4, 5):
EXPECTED_INGRESS = {
    ("airflow", "web", 2376, 2376),  # DockerOperator -> Docker API over TLS
    ("airflow", "spark", 22, 22),  # SSHOperator spark-submit; Ansible through the jump host
    ("airflow", "web", 22, 22),  # Ansible through the jump host
    ("airflow", "kafka", 22, 22),
    ("airflow", "gold", 22, 22),
    ("airflow", "spark", 8080, 8080),  # Spark master UI through an SSH tunnel
    ("airflow", "gold", 8088, 8088),  # Superset through an SSH tunnel
    # Producers and Spark -> the brokers' TLS listeners, replication, and the KRaft controllers:
    # three brokers share the default Kafka host, 10 ports apart.
    *(
        (source, "kafka", port, port)
        for source in ("web", "spark", "kafka")
        for port in (9093, 9103, 9113)
    ),
    *(("kafka", "kafka", port, port) for port in (9094, 9104, 9114)),
    ("spark", "spark", 1024, 65535),  # standalone cluster: master RPC, workers, driver/executors
    ("spark", "gold", 5432, 5432),  # gold ETL -> PostgreSQL
    ("admin", "airflow", 22, 22),  # operators' SSH to the jump host: every UI is tunnelled
    # Prometheus on the airflow host scrapes the node exporter of every other group, the
    # PostgreSQL exporter and each broker's JMX exporter agent (the Spark master's metrics
    # are on its UI port, open above):
    *(("airflow", target, 9100, 9100) for target in ("web", "kafka", "spark", "gold")),
    ("airflow", "gold", 9187, 9187),
    *(("airflow", "kafka", port, port) for port in (9095, 9105, 9115)),
    ("spark", "airflow", 9091, 9091),  # the Spark jobs push the pipeline's figures
}


def resolved_flows(overrides: dict | None = None) -> set[tuple[str, str, int, int]]:
    flows = set()
    for flow in SECURITY.locals["group_flows"].values():
        for first, last in evaluate(flow["port_ranges"], SECURITY, overrides):
            flows.add((flow["source"], flow["target"], first, last))
    for flow in SECURITY.locals["admin_flows"].values():
        flows.add(
            (
                "admin",
                flow["target"],
                evaluate(flow["from_port"], SECURITY, overrides),
                evaluate(flow["to_port"], SECURITY, overrides),
            )
        )
    return flows


def test_rule_matrix_is_exactly_the_platform_flows() -> None:
    flows = resolved_flows()
    assert flows - EXPECTED_INGRESS == set(), "flows nobody asked for"
    assert EXPECTED_INGRESS - flows == set(), "flows the platform needs are missing"
    assert set(SECURITY.locals["roles"]) == ROLES


def test_kafka_port_ranges_follow_the_brokers_per_host() -> None:
    one_per_host = resolved_flows({"kafka_brokers_per_instance": 1})
    kafka = {flow for flow in one_per_host if flow[1] == "kafka" and flow[2] not in (22, 9100)}
    assert kafka == {
        ("airflow", "kafka", 9095, 9095),
        ("web", "kafka", 9093, 9093),
        ("spark", "kafka", 9093, 9093),
        ("kafka", "kafka", 9093, 9093),
        ("kafka", "kafka", 9094, 9094),
    }


def test_ingress_rules_come_only_from_the_flow_tables() -> None:
    ingress = {
        name: body
        for module in all_modules() + all_envs()
        for rtype, name, body in module.resources
        if rtype in {"aws_vpc_security_group_ingress_rule", "aws_security_group_rule"}
    }
    assert set(ingress) == {"from_group", "from_admin"}
    group, admin = ingress["from_group"], ingress["from_admin"]
    assert group["for_each"] == "${local.group_rules}"
    assert (
        group["referenced_security_group_id"] == "${aws_security_group.this[each.value.source].id}"
    )
    assert group["security_group_id"] == "${aws_security_group.this[each.value.target].id}"
    assert admin["for_each"] == "${local.admin_rules}"
    assert admin["cidr_ipv4"] == "${each.value.cidr}"
    # Each rule is one [first, last] range of one flow, copied as it is.
    rules = SECURITY.locals["group_rules"]
    for fragment in (
        "for name, flow in local.group_flows",
        "for span in flow.port_ranges",
        "from_port = span[0]",
        "to_port = span[1]",
        "source = flow.source",
        "target = flow.target",
    ):
        assert fragment in re.sub(r"\s+", " ", rules), fragment
    for rule in (group, admin):
        assert rule["ip_protocol"] == "tcp"
        assert rule["from_port"] == "${each.value.from_port}"
        assert rule["to_port"] == "${each.value.to_port}"
        assert rule["description"] == "${each.value.description}"
    # The admin rules are the admin flows crossed with admin_cidr_blocks, nothing wider.
    assert (
        "setproduct(keys(local.admin_flows), var.admin_cidr_blocks)"
        in SECURITY.locals["admin_rules"]
    )


def test_no_inline_rules_and_every_flow_is_described() -> None:
    for module in all_modules():
        for body in module.resources_of("aws_security_group").values():
            assert "ingress" not in body and "egress" not in body, module.name
    for flow in [
        *SECURITY.locals["group_flows"].values(),
        *SECURITY.locals["admin_flows"].values(),
    ]:
        assert len(flow["description"]) > 10


def test_no_internet_ingress_and_no_plain_docker_port() -> None:
    for path in tf_files():
        text = path.read_text()
        assert "2375" not in re.sub(
            r"(?m)^.*(validation|condition|error_message|description).*$", "", text
        ), path
    assert SECURITY.default("admin_cidr_blocks") == []
    validations = SECURITY.variables["admin_cidr_blocks"]["validation"]
    assert any(">= 8" in v["condition"] and "0.0.0.0/0" in v["error_message"] for v in validations)
    docker = SECURITY.variables["docker_tls_port"]["validation"][0]
    assert "var.docker_tls_port != 2375" in docker["condition"]
    for flow in SECURITY.locals["group_flows"].values():
        assert flow["source"] in ROLES and flow["target"] in ROLES


def test_egress_is_vpc_plus_http_and_https_only() -> None:
    egress = {
        (flow["cidr"], flow["from_port"], flow["to_port"])
        for flow in SECURITY.locals["egress_flows"].values()
    }
    assert egress == {
        ("${var.vpc_cidr_block}", 0, 65535),
        ("0.0.0.0/0", 443, 443),
        ("0.0.0.0/0", 80, 80),
    }
    rule = SECURITY.resources_of("aws_vpc_security_group_egress_rule")["this"]
    assert rule["ip_protocol"] == "tcp"
    assert "setproduct(local.roles, keys(local.egress_flows))" in SECURITY.locals["egress_rules"]


@pytest.mark.parametrize("port", ["kafka_broker_port", "kafka_controller_port", "kafka_port_step"])
def test_kafka_listener_ports_are_tls(port: str) -> None:
    if port != "kafka_port_step":
        assert "TLS" in SECURITY.variables[port]["description"]
    compute = load_module(MODULES / "compute")
    assert compute.default(port) == SECURITY.default(port)
