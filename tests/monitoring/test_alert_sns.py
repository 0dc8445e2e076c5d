"""Alertmanager's SNS receiver, as the fleet configures it when a topic ARN is set.

The generated alertmanager.yml is run by the real Alertmanager against moto's SNS (the
``aws_endpoint`` server), signing with SigV4 from the AWS_* variables only; an SQS queue
subscribed to the topic is where the test reads the notification back.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import time
import urllib.request

import boto3
import pytest

from tripclick import config
from tripclick.errors import UserError
from tripclick_devstack.stack.monitoring import Alertmanager, MonitoringSettings, alertmanager_yml


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_without_a_topic_there_is_no_sns_receiver() -> None:
    m = MonitoringSettings(1, 2, 3, webhook_url="http://127.0.0.1:9/alerts")
    [receiver] = alertmanager_yml(m)["receivers"]
    assert set(receiver) == {"name", "webhook_configs"}


def test_firing_alert_reaches_the_sns_topic(aws_endpoint, monkeypatch, tmp_path) -> None:
    if shutil.which("prometheus-alertmanager") is None:
        pytest.fail("prometheus-alertmanager is not installed: run make alertmanager-package")
    region = "ap-northeast-2"
    aws = {"endpoint_url": aws_endpoint["url"], "region_name": region}
    # Alertmanager inherits these: the SigV4 credentials, as an instance profile's would be.
    for name, value in aws_endpoint["env"].items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    sns, sqs = boto3.client("sns", **aws), boto3.client("sqs", **aws)
    topic = sns.create_topic(Name="tripclick-alerts-test")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="tripclick-alerts-test")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    m = MonitoringSettings(
        kafka_metrics_port=_free_port(),
        prometheus_port=_free_port(),
        alertmanager_port=_free_port(),
        group_wait="1s",
        sns_topic_arn=topic,
        sns_api_url=aws_endpoint["url"],
        sns_region=region,
    )
    settings = dataclasses.replace(config.load(), home=tmp_path)
    manager = Alertmanager(settings, m)
    try:
        manager.start()
    except UserError as err:
        pytest.fail(f"Alertmanager did not start: {err}")
    try:
        # The alert as Prometheus would post it.
        alert = {
            "labels": {"alertname": "KafkaBrokerDown", "instance": "kafka-0:7071", "job": "kafka"},
            "annotations": {"runbook_url": "docs/runbook.md#kafkabrokerdown"},
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{m.alertmanager_port}/api/v2/alerts",
            data=json.dumps([alert]).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=5).close()

        deadline = time.monotonic() + 30
        messages = []
        while not messages and time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get(
                "Messages", []
            )
        assert messages, f"no SNS message within 30s; see {manager.log_file}"
        envelope = json.loads(messages[0]["Body"])
        assert envelope["TopicArn"] == topic
        assert envelope["Subject"] == "FIRING: KafkaBrokerDown"
        assert "kafka-0:7071" in envelope["Message"]
    finally:
        manager.stop()
