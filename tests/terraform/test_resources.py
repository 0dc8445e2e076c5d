"""Tags, IMDSv2, encryption, the lake's protections and the fleet of ARCHITECTURE section 5."""

from __future__ import annotations

import ipaddress
import re

import pytest
from tfcode import ENVS, MODULES, all_envs, all_modules, load_module

# Resources AWS cannot tag (they are settings of a taggable parent).
NOT_TAGGABLE = {
    "aws_route",
    "aws_route_table_association",
    "aws_eip_association",
    "aws_kms_alias",
    "aws_iam_role_policy",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_sns_topic_policy",
    "aws_sns_topic_subscription",
}

COMPUTE = load_module(MODULES / "compute")
KMS_KEY = load_module(MODULES / "kms_key")
LAKE = load_module(MODULES / "lake")
NETWORK = load_module(MODULES / "network")
PLATFORM = load_module(MODULES / "platform")


def test_every_taggable_resource_is_tagged_from_the_merged_map() -> None:
    seen = 0
    for module in all_modules():
        for rtype, name, body in module.resources:
            if rtype in NOT_TAGGABLE:
                continue
            seen += 1
            assert "tags" in body, f"{module.name}: {rtype}.{name} has no tags"
            assert "local.tags" in body["tags"], f"{module.name}: {rtype}.{name} skips local.tags"
        if module.resources:
            # One map per module: the caller's tags plus the module's name.
            assert module.locals["tags"].startswith("${merge(var.tags"), module.name
    assert seen > 20


def test_environments_tag_everything_by_default() -> None:
    for env in all_envs():
        [(_name, provider)] = env.providers
        tags = provider["default_tags"][0]["tags"]
        assert tags["Project"] == "tripclick"
        assert tags["Environment"] == env.path.name
        assert tags["ManagedBy"] == "terraform"


def test_no_provider_blocks_in_modules() -> None:
    for module in all_modules():
        assert module.providers == [], module.name
        for part in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (module.path / part).is_file(), f"{module.name} lacks {part}"


def test_instances_require_imdsv2_and_encrypt_their_volumes() -> None:
    [instance] = COMPUTE.resources_of("aws_instance").values()
    [metadata] = instance["metadata_options"]
    assert metadata["http_tokens"] == "required"
    assert metadata["http_put_response_hop_limit"] == 1
    [root] = instance["root_block_device"]
    assert root["encrypted"] is True
    assert root["volume_type"] == "gp3"
    assert instance["ebs_optimized"] is True
    assert "var.instance_profile_names[each.value.access]" in instance["iam_instance_profile"]
    # Only the web servers take an address of their own; the jump host has the Elastic IP.
    assert instance["associate_public_ip_address"] == '${each.value.role == "web"}'
    assert "aws_access_key" not in (MODULES / "compute" / "main.tf").read_text()


def test_lake_is_private_encrypted_versioned_and_tls_only() -> None:
    [pab] = LAKE.resources_of("aws_s3_bucket_public_access_block").values()
    for flag in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert pab[flag] is True
    [sse] = LAKE.resources_of("aws_s3_bucket_server_side_encryption_configuration").values()
    default = sse["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert default["sse_algorithm"] == "aws:kms"
    assert default["kms_master_key_id"] == "${module.key.arn}"
    assert LAKE.module_calls["key"]["source"] == "../kms_key"
    [key] = KMS_KEY.resources_of("aws_kms_key").values()
    assert key["enable_key_rotation"] is True
    [versioning] = LAKE.resources_of("aws_s3_bucket_versioning").values()
    assert versioning["versioning_configuration"][0]["status"] == "Enabled"
    [ownership] = LAKE.resources_of("aws_s3_bucket_ownership_controls").values()
    assert ownership["rule"][0]["object_ownership"] == "BucketOwnerEnforced"
    [policy] = [body for dtype, name, body in LAKE.data if name == "bucket"]
    [statement] = policy["statement"]
    assert statement["effect"] == "Deny"
    assert statement["condition"][0]["variable"] == "aws:SecureTransport"
    assert statement["condition"][0]["values"] == ["false"]


def test_old_bronze_moves_to_cheaper_storage() -> None:
    [lifecycle] = LAKE.resources_of("aws_s3_bucket_lifecycle_configuration").values()
    bronze = next(
        rule
        for rule in lifecycle["rule"]
        if rule["filter"][0].get("prefix") == "${var.bronze_prefix}"
    )
    assert [t["storage_class"] for t in bronze["transition"]] == ["STANDARD_IA", "GLACIER_IR"]
    assert LAKE.default("bronze_prefix") == "bronze/"
    assert LAKE.default("bronze_infrequent_access_days") == 30
    assert LAKE.default("bronze_glacier_ir_days") == 90


def test_instance_roles_reach_only_the_lake_and_their_secrets() -> None:
    iam = load_module(MODULES / "iam")
    assert iam.default("lake_roles") == ["spark"]
    # Airflow only lists the lake's keys: no object action, no key use (its metadata backups'
    # prefix is the one exception: tests/terraform/test_airflow_backups.py).
    assert iam.default("lake_list_roles") == ["airflow"]
    listing = next(body for _, name, body in iam.data if name == "lake_list")
    [only] = listing["statement"]
    assert (set(only["actions"]), only["resources"]) == (
        {"s3:ListBucket", "s3:GetBucketLocation"},
        ["${var.lake_bucket_arn}"],
    )
    lake = next(body for _, name, body in iam.data if name == "lake")
    resources = [r for s in lake["statement"] for r in s["resources"]]
    assert set(resources) == {
        "${var.lake_bucket_arn}",
        "${var.lake_bucket_arn}/*",
        "${var.lake_kms_key_arn}",
    }
    secrets = next(body for _, name, body in iam.data if name == "secrets")
    [statement] = secrets["statement"]
    assert all(a.startswith("ssm:GetParameter") for a in statement["actions"])
    # Each role: the folders of the services it runs, and the shared one.
    assert 'concat(var.parameter_folders[each.key], ["common"])' in statement["resources"]
    assert "${local.parameter_arn}/${folder}/*" in statement["resources"]
    assert iam.default("parameter_folders") == {
        "web": ["web", "producer"],
        "kafka": ["kafka"],
        "spark": ["spark"],
        "airflow": ["airflow"],
        "gold": ["gold", "postgresql", "superset"],
    }


# ARCHITECTURE section 5, as the compute module's defaults.
FLEET_DEFAULTS = {
    "web_instance_count": 2,
    "web_instance_type": "m5.large",
    "kafka_instance_count": 1,
    "kafka_broker_count": 3,
    "kafka_instance_type": "t3.large",
    "spark_master_instance_type": "m5.large",
    "spark_master_runs_workers": True,
    "spark_workers_per_instance": 2,
    "spark_worker_instance_count": 0,
    "spark_worker_instance_type": "m5.large",
    "airflow_instance_type": "m5.large",
    "airflow_root_volume_size": 16,
    "gold_instance_type": "t3.small",
}


@pytest.mark.parametrize(("variable", "expected"), FLEET_DEFAULTS.items())
def test_fleet_defaults_follow_section_5(variable: str, expected: object) -> None:
    assert COMPUTE.default(variable) == expected
    # The platform passes its fleet through; a null keeps this default.
    assert COMPUTE.variables[variable].get("nullable") is False
    assert PLATFORM.module_calls["compute"][variable] == f"${{var.fleet.{variable}}}"


def test_roles_sit_in_the_subnets_of_section_5() -> None:
    fleet = COMPUTE.locals["fleet"]
    assert {role: spec["tier"] for role, spec in fleet.items()} == {
        "web": "public",
        "kafka": "private",
        "spark_master": "private",
        "spark_worker": "private",
        "airflow": "public",
        "gold": "private",
    }
    assert (
        fleet["airflow"]["count"] == 1
        and fleet["gold"]["count"] == 1
        and fleet["spark_master"]["count"] == 1
    )


def test_platform_fallbacks_match_the_compute_defaults() -> None:
    layout = PLATFORM.locals["kafka_brokers_per_instance"]
    brokers = re.search(r"coalesce\(var\.fleet\.kafka_broker_count, (\d+)\)", layout)
    hosts = re.search(r"coalesce\(var\.fleet\.kafka_instance_count, (\d+)\)", layout)
    assert int(brokers.group(1)) == COMPUTE.default("kafka_broker_count")
    assert int(hosts.group(1)) == COMPUTE.default("kafka_instance_count")


def cidrsubnet(prefix: str, newbits: int, netnum: int) -> str:
    network = ipaddress.ip_network(prefix)
    return str(list(network.subnets(prefixlen_diff=newbits))[netnum])


def test_subnets_are_derived_from_the_vpc_cidr() -> None:
    assert NETWORK.default("vpc_cidr") == "10.0.0.0/16"
    assert NETWORK.default("az_count") == 1
    public = NETWORK.locals["public_subnet_cidrs"]
    private = NETWORK.locals["private_subnet_cidrs"]
    assert "cidrsubnet(var.vpc_cidr, var.subnet_newbits, 2 * i + 1)" in public
    assert "cidrsubnet(var.vpc_cidr, var.subnet_newbits, 2 * i + 2)" in private
    newbits = NETWORK.default("subnet_newbits")
    # First zone: the addresses of section 5; a second zone takes the next pair.
    assert cidrsubnet("10.0.0.0/16", newbits, 2 * 0 + 1) == "10.0.1.0/24"
    assert cidrsubnet("10.0.0.0/16", newbits, 2 * 0 + 2) == "10.0.2.0/24"
    assert cidrsubnet("10.0.0.0/16", newbits, 2 * 1 + 1) == "10.0.3.0/24"


def test_network_has_nat_switch_s3_endpoint_and_closed_default_group() -> None:
    assert NETWORK.default("enable_nat_gateway") is True
    [nat] = NETWORK.resources_of("aws_nat_gateway").values()
    assert nat["count"] == "${var.enable_nat_gateway ? 1 : 0}"
    [endpoint] = NETWORK.resources_of("aws_vpc_endpoint").values()
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    assert endpoint["service_name"].endswith(".s3")
    [default_sg] = NETWORK.resources_of("aws_default_security_group").values()
    assert "ingress" not in default_sg and "egress" not in default_sg
    for subnet in NETWORK.resources_of("aws_subnet").values():
        assert subnet.get("map_public_ip_on_launch", False) is False


def test_state_is_remote_with_locking() -> None:
    for env in all_envs():
        [backend] = [block["backend"] for block in env.terraform if "backend" in block]
        s3 = backend[0]["s3"]
        assert s3["use_lockfile"] is True and s3["encrypt"] is True
        assert s3["key"] == f"tripclick/{env.path.name}/terraform.tfstate"
        assert "bucket" not in s3, "the bucket comes from make bootstrap's backend.hcl"
        assert (env.path / "terraform.tfvars.example").is_file()


def test_environments_differ_only_in_platform_arguments() -> None:
    dev = load_module(ENVS / "dev").module_calls["platform"]
    prod = load_module(ENVS / "prod").module_calls["platform"]
    assert "fleet" not in dev, "dev runs the default fleet of section 5"
    assert dev["lake_force_destroy"] is True and prod["lake_force_destroy"] is False
    assert prod["az_count"] == 2
    assert prod["fleet"]["kafka_instance_count"] == 3
    assert prod["fleet"]["termination_protection"] is True
