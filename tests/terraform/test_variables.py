"""Variables and outputs are documented the terraform-aws-modules way (STYLE.md)."""

from __future__ import annotations

import re

from tfcode import all_envs, all_modules, load_script

# Inputs where a wrong value would only fail at apply time: each leaf module validates them.
NEEDS_VALIDATION = re.compile(
    r"(^name$|cidr|instance_type$|_count$|^bucket_name$|_port$|^ami_id$|^ssh_public_key$|_arn$|_days$)"
)
PASS_THROUGH = {"modules/platform"}


def test_every_variable_has_description_then_type_then_default() -> None:
    count = 0
    for module in all_modules() + all_envs():
        for name, body in module.variables.items():
            count += 1
            keys = [k for k in body if k in ("description", "type", "default")]
            assert keys[:2] == ["description", "type"], (
                f"{module.name}: variable {name} order {keys}"
            )
            assert len(body["description"]) >= 15 and body["description"].endswith("."), (
                f"{module.name}: variable {name} needs a sentence of description"
            )
    assert count > 60


def test_inputs_that_fail_late_are_validated() -> None:
    validated = set()
    for module in all_modules():
        if module.name in PASS_THROUGH:
            continue
        for name, body in module.variables.items():
            if NEEDS_VALIDATION.search(name) and name not in {
                "airflow_ui_port",
                "spark_master_ui_port",
                "superset_port",
                "postgres_port",
            }:
                if module.name == "modules/compute" and name in {
                    "kafka_broker_port",
                    "kafka_controller_port",
                }:
                    continue  # validated by the security module, which opens them
                assert body.get("validation"), f"{module.name}: variable {name} has no validation"
                validated.add(name)
    assert {
        "vpc_cidr",
        "admin_cidr_blocks",
        "web_instance_type",
        "bucket_name",
        "docker_tls_port",
    } <= validated


def test_pass_through_variables_are_validated_downstream() -> None:
    platform = next(m for m in all_modules() if m.name == "modules/platform")
    leaf_validated = {
        name
        for module in all_modules()
        if module.name not in PASS_THROUGH
        for name, body in module.variables.items()
        if body.get("validation")
    }
    for name in (
        "vpc_cidr",
        "az_count",
        "admin_cidr_blocks",
        "ssh_public_key",
        "ami_id",
        "kafka_broker_port",
    ):
        assert name in platform.variables and name in leaf_validated, name
    assert platform.variables["environment"].get("validation")


def test_every_output_is_described() -> None:
    for module in all_modules() + all_envs():
        assert module.outputs, module.name
        for name, body in module.outputs.items():
            assert len(body.get("description", "")) >= 10, f"{module.name}: output {name}"


def test_environment_outputs_feed_the_inventory_writer() -> None:
    required = load_script("scripts/write_inventory.py").REQUIRED_OUTPUTS
    for env in all_envs():
        assert set(required) <= set(env.outputs), env.name
