"""The lake's lifecycle rules per prefix (terraform/modules/lake), read as Terraform is written,
against the lake layout of the contract and the numbers docs/retention.md justifies."""

from __future__ import annotations

import re

from tfcode import MODULES, REPO, load_module

from tripclick import contract

LAKE = load_module(MODULES / "lake")
[LIFECYCLE] = LAKE.resources_of("aws_s3_bucket_lifecycle_configuration").values()
DAYS = LAKE.default("expiration_days")
KAFKA_RETENTION_DAYS = 7  # log.retention.hours=168 on the brokers
NIGHTLY_BACKUPS_KEPT = 7  # tripclick backup create --keep (DAG tripclick_maintenance)


def _top(layer: str) -> str:
    return layer.split("/", 1)[0] + "/"


def effective_rules() -> dict[str, dict]:
    """Each prefix's rule as S3 gets it: the bronze rule, then the dynamic block expanded."""
    rules = {}
    for rule in LIFECYCLE["rule"]:
        prefix = rule["filter"][0].get("prefix", "")
        if prefix == "${var.bronze_prefix}":
            prefix = LAKE.default("bronze_prefix")
        rules[prefix] = rule
    [dynamic] = [d["rule"] for d in LIFECYCLE["dynamic"]]
    assert "var.expiration_days" in dynamic["for_each"]
    assert "if prefix != var.bronze_prefix" in dynamic["for_each"]
    [content] = dynamic["content"]
    assert content["filter"][0]["prefix"] == "${rule.key}"
    assert content["expiration"][0]["days"] == "${rule.value}"
    for prefix, days in DAYS.items():
        if prefix == LAKE.default("bronze_prefix"):
            continue
        rule_id = "expire-" + prefix.strip("_").rstrip("/")
        rules[prefix] = {
            "id": rule_id,
            "filter": [{"prefix": prefix}],
            "expiration": [{"days": days}],
        }
    return rules


def test_every_lake_prefix_expires() -> None:
    layers = (
        contract.BRONZE,
        contract.SILVER,
        contract.QUARANTINE,
        contract.CHECKPOINTS,
        contract.REPORTS,
        contract.BACKUPS,
    )
    rules = effective_rules()
    for layer in layers:
        assert _top(layer) in DAYS, f"no expiration for {layer}"
        assert _top(layer) in rules
    ids = [rule["id"] for rule in rules.values()]
    assert len(ids) == len(set(ids)) and all(len(i) <= 255 for i in ids)


def test_bronze_expires_from_the_map_after_its_cheaper_storage() -> None:
    bronze = effective_rules()["bronze/"]
    assert bronze["expiration"][0]["days"] == "${var.expiration_days[var.bronze_prefix]}"
    assert DAYS["bronze/"] >= LAKE.default("bronze_glacier_ir_days") + 90  # Glacier IR minimum


def test_bronze_longest_quarantine_and_checkpoints_shorter_backups_expire() -> None:
    assert DAYS["bronze/"] == max(DAYS.values())
    assert DAYS["quarantine/"] < DAYS["silver/"] < DAYS["bronze/"]
    assert DAYS["_checkpoints/"] < DAYS["quarantine/"]
    # A checkpoint's offsets are useless once Kafka has deleted the records they point at,
    # but a silver re-run within Kafka's retention needs it.
    assert DAYS["_checkpoints/"] > KAFKA_RETENTION_DAYS
    # The nightly run prunes backups by count; the rule only catches what it left behind.
    assert NIGHTLY_BACKUPS_KEPT < DAYS["backups/"] <= 60


def test_expired_and_replaced_objects_leave_nothing_behind() -> None:
    [everything] = [r for r in LIFECYCLE["rule"] if r["filter"] == [{}]]
    assert everything["noncurrent_version_expiration"][0]["noncurrent_days"] == (
        "${var.noncurrent_version_expiration_days}"
    )
    assert everything["expiration"][0]["expired_object_delete_marker"] is True


def test_expiration_days_are_validated() -> None:
    variable = LAKE.variables["expiration_days"]
    conditions = " ".join(v["condition"] for v in variable["validation"])
    assert "var.bronze_glacier_ir_days + 90" in conditions
    assert "var.bronze_prefix" in conditions


def test_docs_give_each_number_and_why() -> None:
    text = (REPO / "docs" / "retention.md").read_text()
    for prefix, days in DAYS.items():
        row = re.search(rf"^\| `{re.escape(prefix)}` \| (\d+) days \|(.+)\|$", text, flags=re.M)
        assert row, f"docs/retention.md has no row for {prefix}"
        assert int(row.group(1)) == days, prefix
        assert len(row.group(2).strip()) > 40, f"{prefix}: say why"
