"""The alerts topic: KMS-encrypted, an optional email subscriber, and only Airflow may publish."""

from __future__ import annotations

from tfcode import ENVS, MODULES, REPO, load_module, load_script

ALERTS = load_module(MODULES / "alerts")
IAM = load_module(MODULES / "iam")
KMS_KEY = load_module(MODULES / "kms_key")
PLATFORM = load_module(MODULES / "platform")
# `terraform output -json` of dev, applied before the topic existed (fixtures/README.md).
FIXTURE = REPO / "tests" / "terraform" / "fixtures" / "dev-outputs.json"


def test_topic_is_encrypted_with_a_rotated_key_of_its_own() -> None:
    [topic] = ALERTS.resources_of("aws_sns_topic").values()
    assert topic["kms_master_key_id"] == "${module.key.arn}"
    assert ALERTS.module_calls["key"]["source"] == "../kms_key"
    [key] = KMS_KEY.resources_of("aws_kms_key").values()
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 30
    # The key policy only lets the account administer the key; use comes through IAM.
    [policy] = [body for _, name, body in KMS_KEY.data if name == "key"]
    [statement] = policy["statement"]
    assert statement["actions"] == ["kms:*"]
    assert statement["principals"][0]["identifiers"] == ["${local.account_root}"]


def test_topic_refuses_publishing_without_tls() -> None:
    [policy] = [body for _, name, body in ALERTS.data if name == "topic"]
    [statement] = policy["statement"]
    assert statement["effect"] == "Deny"
    assert statement["condition"][0]["variable"] == "aws:SecureTransport"
    assert statement["condition"][0]["values"] == ["false"]
    [topic_policy] = ALERTS.resources_of("aws_sns_topic_policy").values()
    assert topic_policy["arn"] == "${aws_sns_topic.this.arn}"


def test_email_subscription_only_when_an_address_is_given() -> None:
    [email] = ALERTS.resources_of("aws_sns_topic_subscription").values()
    assert email["count"] == '${var.alert_email == "" ? 0 : 1}'
    assert email["protocol"] == "email"
    assert email["endpoint"] == "${var.alert_email}"
    assert ALERTS.default("alert_email") == ""
    assert ALERTS.variables["alert_email"]["validation"]
    # From each environment's variable, through the platform, to the module.
    assert PLATFORM.default("alert_email") == ""
    assert PLATFORM.module_calls["alerts"]["alert_email"] == "${var.alert_email}"
    for env in ("dev", "prod"):
        module = load_module(ENVS / env)
        assert module.default("alert_email") == ""
        assert module.module_calls["platform"]["alert_email"] == "${var.alert_email}"


def test_only_airflow_publishes_and_only_to_the_alerts_topic() -> None:
    assert IAM.default("alert_publish_roles") == ["airflow"]
    [policy] = [body for _, name, body in IAM.data if name == "alerts"]
    grants = {
        statement["sid"]: (statement["actions"], statement["resources"])
        for statement in policy["statement"]
    }
    assert grants == {
        "PublishAlerts": (["sns:Publish"], ["${var.alerts_topic_arn}"]),
        "UseAlertsKey": (["kms:GenerateDataKey", "kms:Decrypt"], ["${var.alerts_kms_key_arn}"]),
    }
    assert all("effect" not in s or s["effect"] == "Allow" for s in policy["statement"])
    attached = IAM.resources_of("aws_iam_role_policy")["alerts"]
    assert attached["for_each"] == "${toset(var.alert_publish_roles)}"
    assert attached["policy"] == "${data.aws_iam_policy_document.alerts.json}"
    # The platform hands the iam module this topic and its key, nothing wider.
    call = PLATFORM.module_calls["iam"]
    assert call["alerts_topic_arn"] == "${module.alerts.topic_arn}"
    assert call["alerts_kms_key_arn"] == "${module.alerts.kms_key_arn}"


def test_topic_arn_is_an_output_the_inventory_passes_to_airflow() -> None:
    for env in ("dev", "prod"):
        assert "alerts_topic_arn" in load_module(ENVS / env).outputs, env
    writer = load_script("scripts/write_inventory.py")
    outputs = writer.load_outputs(FIXTURE.read_text())
    arn = "arn:aws:sns:ap-northeast-2:123456789012:tripclick-dev-alerts"
    with_topic = writer.build_inventory({**outputs, "alerts_topic_arn": arn})
    assert with_topic["all"]["vars"]["alerts_topic_arn"] == arn
    # An environment applied before the topic existed still gets its inventory.
    assert "alerts_topic_arn" not in writer.build_inventory(outputs)["all"]["vars"]
