"""Write the Ansible inventory of an environment from its ``terraform output -json``.

``make apply ENV=dev`` runs it last; ``make inventory ENV=dev`` runs it alone. The groups are
the ones the playbooks target (web, kafka, spark_master, spark_worker, airflow, gold); the host
and group variables are listed in inventory/README.md. Every host but the jump host (Airflow)
is reached through it with ProxyJump, since only the jump host accepts SSH from outside.

    .venv/bin/python terraform/scripts/write_inventory.py OUTPUTS.json --out inventory/terraform/dev.yml
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

GROUPS = ("web", "kafka", "spark_master", "spark_worker", "airflow", "gold")
REQUIRED_OUTPUTS = (
    "environment",
    "aws_region",
    "lake_bucket_name",
    "lake_url",
    "ssm_parameter_prefix",
    "jump_host_public_ip",
    "hosts",
    "kafka_brokers",
    "ports",
    "ui_addresses",
)
# Outputs the inventory passes on when the environment has them: one applied before they
# existed still gets an inventory (and Airflow then alerts in its log only).
OPTIONAL_OUTPUTS = ("alerts_topic_arn",)
SSH_USER = "ubuntu"


class InventoryError(Exception):
    """Outputs the inventory cannot be built from; printed as one line."""


def load_outputs(text: str) -> dict[str, Any]:
    """The values of ``terraform output -json`` (which wraps each in {value, type, sensitive})."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise InventoryError(f"the Terraform outputs are not JSON ({err})") from err
    if not isinstance(raw, dict) or not raw:
        raise InventoryError(
            "the Terraform outputs are empty: has this environment been applied? run make apply"
        )
    values = {name: out.get("value") if isinstance(out, dict) else out for name, out in raw.items()}
    missing = [name for name in REQUIRED_OUTPUTS if name not in values]
    if missing:
        raise InventoryError(
            f"the Terraform outputs lack {', '.join(missing)}: re-run make apply with this checkout"
        )
    return values


def build_inventory(outputs: dict[str, Any]) -> dict[str, Any]:
    """The inventory as a YAML-ready dict: groups under ``all.children``, cluster facts in ``all.vars``."""
    hosts: dict[str, dict[str, Any]] = outputs["hosts"]
    ports: dict[str, int] = outputs["ports"]
    jump_ip = outputs["jump_host_public_ip"]
    groups: dict[str, dict[str, Any]] = {group: {"hosts": {}} for group in GROUPS}

    for key in sorted(hosts, key=lambda k: _host_order(hosts[k])):
        host = hosts[key]
        unknown = [g for g in host["groups"] if g not in groups]
        if unknown:
            raise InventoryError(f"host {key} is in unknown group(s) {', '.join(unknown)}")
        is_jump = host["role"] == "airflow"
        hostvars: dict[str, Any] = {
            "ansible_host": host["public_ip"] if is_jump else host["private_ip"],
            "platform_role": host["role"],
            "role_index": host["index"],
            "private_ip": host["private_ip"],
            "public_ip": host["public_ip"] or "",
            "instance_id": host["instance_id"],
            "instance_type": host["instance_type"],
            "availability_zone": host["availability_zone"],
        }
        if not is_jump:
            hostvars["ansible_ssh_common_args"] = f"-o ProxyJump={SSH_USER}@{jump_ip}"
        if host["role"] == "kafka":
            hostvars["kafka_node_ids"] = list(host["kafka_node_ids"])
        if "spark_worker" in host["groups"]:
            hostvars["spark_worker_instances"] = host["spark_worker_instances"]
        for group in host["groups"]:
            # A host in two groups (the Spark master that also runs workers) gets its vars once.
            groups[group]["hosts"][host["name"]] = hostvars if group == host["groups"][0] else {}

    empty = [group for group in GROUPS if group != "spark_worker" and not groups[group]["hosts"]]
    if empty:
        raise InventoryError(f"the Terraform outputs have no host in group(s) {', '.join(empty)}")

    names = {key: host["name"] for key, host in hosts.items()}
    # Facts of the environment only. The roles derive their cluster layout from the groups
    # (so the dynamic inventory works too); Terraform's view of it is passed under terraform_*
    # names, which no role defines, for the playbooks to check theirs against.
    cluster_vars = {
        "ansible_user": SSH_USER,
        "tripclick_environment": outputs["environment"],
        "aws_region": outputs["aws_region"],
        "lake_bucket_name": outputs["lake_bucket_name"],
        "lake_url": outputs["lake_url"],
        "ssm_parameter_prefix": outputs["ssm_parameter_prefix"],
        "jump_host": jump_ip,
        "terraform_ports": dict(ports),
        "terraform_kafka_brokers": [
            {
                "node_id": broker["node_id"],
                "host": names[broker["host"]],
                "address": broker["private_ip"],
                "port": broker["broker_port"],
                "controller_port": broker["controller_port"],
            }
            for broker in sorted(outputs["kafka_brokers"], key=lambda b: b["node_id"])
        ],
    }
    cluster_vars.update({name: outputs[name] for name in OPTIONAL_OUTPUTS if outputs.get(name)})
    return {"all": {"vars": cluster_vars, "children": groups}}


def _host_order(host: dict[str, Any]) -> tuple[int, int]:
    rank = GROUPS.index(host["role"]) if host["role"] in GROUPS else len(GROUPS)
    return rank, host["index"]


def render(inventory: dict[str, Any], environment: str) -> str:
    header = (
        f"# Ansible inventory of the {environment} environment, written by `make apply ENV={environment}`\n"
        "# from its Terraform outputs. Do not edit: re-run `make inventory ENV=...` instead.\n"
    )
    return header + yaml.safe_dump(inventory, sort_keys=False, default_flow_style=False)


def ui_lines(outputs: dict[str, Any]) -> list[str]:
    labels = {
        "airflow": "Airflow",
        "superset": "Superset",
        "spark_master": "Spark master",
        "prometheus": "Prometheus",
        "alertmanager": "Alertmanager",
    }
    return [
        f"  {labels.get(name, name)}: {value}" for name, value in outputs["ui_addresses"].items()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("outputs", help="file holding `terraform output -json` ('-' reads stdin)")
    parser.add_argument("--out", type=Path, required=True, help="inventory file to write")
    args = parser.parse_args(argv)
    try:
        if args.outputs == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(args.outputs).read_text()
            except OSError as err:
                raise InventoryError(f"cannot read {args.outputs}: {err.strerror}") from err
        outputs = load_outputs(text)
        inventory = build_inventory(outputs)
    except InventoryError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(inventory, outputs["environment"]))
    count = len({h["name"] for h in outputs["hosts"].values()})
    print(f"inventory of {count} hosts written to {args.out}")
    print("web UIs:")
    print("\n".join(ui_lines(outputs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
