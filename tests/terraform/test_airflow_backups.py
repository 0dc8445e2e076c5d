"""Airflow's role writes its metadata backups into the lake's backups/airflow/ and nothing
else of the lake, using the lake's key only through S3 (terraform/modules/iam)."""

from __future__ import annotations

from tfcode import MODULES, load_module

from tripclick import contract

IAM = load_module(MODULES / "iam")
LAKE = load_module(MODULES / "lake")
PLATFORM = load_module(MODULES / "platform")
[POLICY] = [body for _, name, body in IAM.data if name == "airflow_backups"]
STATEMENTS = {s["sid"]: s for s in POLICY["statement"]}
PREFIX = "${var.airflow_backups_prefix}"


def test_the_prefix_is_the_contracts() -> None:
    assert IAM.default("airflow_backups_prefix") == contract.AIRFLOW_BACKUPS + "/"
    assert IAM.default("airflow_backup_roles") == ["airflow"]
    # Old backups the DAG did not delete expire with the rest of backups/.
    assert contract.AIRFLOW_BACKUPS.split("/")[0] + "/" in LAKE.default("expiration_days")


def test_objects_only_under_the_prefix() -> None:
    assert set(STATEMENTS) == {
        "ListAirflowBackups",
        "ReadWriteAirflowBackups",
        "UseLakeKeyThroughS3",
    }
    assert all(s.get("effect", "Allow") == "Allow" for s in POLICY["statement"])
    objects = STATEMENTS["ReadWriteAirflowBackups"]
    assert objects["resources"] == [f"${{var.lake_bucket_arn}}/{PREFIX}*"]
    assert set(objects["actions"]) == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    }
    listing = STATEMENTS["ListAirflowBackups"]
    assert (listing["actions"], listing["resources"]) == (
        ["s3:ListBucket"],
        ["${var.lake_bucket_arn}"],
    )
    [prefix] = listing["condition"]
    assert (prefix["test"], prefix["variable"], prefix["values"]) == (
        "StringLike",
        "s3:prefix",
        [f"{PREFIX}*"],
    )


def test_the_lake_key_only_through_s3_for_the_lake_bucket() -> None:
    key = STATEMENTS["UseLakeKeyThroughS3"]
    assert set(key["actions"]) == {"kms:GenerateDataKey", "kms:Decrypt"}
    assert key["resources"] == ["${var.lake_kms_key_arn}"]
    conditions = {c["variable"]: (c["test"], c["values"]) for c in key["condition"]}
    assert conditions == {
        "kms:ViaService": ("StringEquals", ["s3.${data.aws_region.current.name}.amazonaws.com"]),
        # S3 Bucket Keys (on in the lake) put the bucket's ARN in the encryption context.
        "kms:EncryptionContext:aws:s3:arn": ("StringEquals", ["${var.lake_bucket_arn}"]),
    }
    [encryption] = LAKE.resources_of("aws_s3_bucket_server_side_encryption_configuration").values()
    assert encryption["rule"][0]["bucket_key_enabled"] is True


def test_attached_to_the_backup_roles_only() -> None:
    attached = IAM.resources_of("aws_iam_role_policy")["airflow_backups"]
    assert attached["for_each"] == "${toset(var.airflow_backup_roles)}"
    assert attached["role"] == "${aws_iam_role.this[each.key].id}"
    assert attached["policy"] == "${data.aws_iam_policy_document.airflow_backups.json}"
    # Airflow's wider grants stay as they were: listing the lake, no object of it.
    assert IAM.default("lake_roles") == ["spark"]
    assert "airflow" not in IAM.default("lake_roles")
    # The platform passes the lake's bucket and key, and keeps the defaults.
    call = PLATFORM.module_calls["iam"]
    assert call["lake_bucket_arn"] == "${module.lake.lake_bucket_arn}"
    assert call["lake_kms_key_arn"] == "${module.lake.lake_kms_key_arn}"
    assert "airflow_backups_prefix" not in call and "airflow_backup_roles" not in call
