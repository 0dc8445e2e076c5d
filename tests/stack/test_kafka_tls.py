"""Kafka over TLS, as on the aws cluster: a real broker with an SSL listener on 127.0.0.1.

The test makes its own CA and broker certificate (like the ``pki`` role: an EC CA, an RSA
server certificate valid for 127.0.0.1), starts a KRaft broker of its own on free ports,
sends the sample with the real producer and reads it back with a Spark batch through
``kafka_source``. Clients that do not speak TLS, or trust another CA, fail with one line.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from kafka_certs import HOST, free_port, make_ca, make_keystore

from tripclick import config, kafka_security
from tripclick.errors import UserError
from tripclick.producer import client_config, produce_files
from tripclick_devstack import stack
from tripclick_devstack.stack.kafka import Kafka

pytestmark = pytest.mark.stack


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def tls_broker(settings: config.Settings, tmp_path_factory):
    """Settings of clients that trust the test CA, pointed at a TLS-only broker."""
    home = tmp_path_factory.mktemp("kafka-tls")
    ca_path, ca_key = make_ca(home, "TripClick test CA")
    keystore = make_keystore(home, "kafka-test-broker", ca_path, ca_key, server=True)
    port, controller_port = free_port(), free_port()
    tls_settings = dataclasses.replace(
        settings,
        home=home,
        kafka_port=port,
        kafka_controller_port=controller_port,
        kafka_bootstrap=f"{HOST}:{port}",
        kafka_heap="384m",
        kafka_security_protocol="SSL",
        kafka_ssl_ca=str(ca_path),
    )
    # Its own metrics port too: the shared broker's JMX agent holds the default one.
    broker = Kafka(tls_settings, tls_keystore=keystore, metrics_port=free_port())
    try:
        broker.start()
        # The local stack's own admin (kafka-python) creates the topic, over TLS too.
        stack.ensure_topic(tls_settings)
    except UserError as err:
        broker.stop()
        pytest.fail(f"the TLS broker did not start: {err}")
    yield tls_settings
    broker.stop()


@pytest.fixture(scope="module")
def spark(settings: config.Settings):
    from pyspark.sql import SparkSession

    from tripclick_spark import session

    existing = SparkSession.getActiveSession()
    spark = existing or session.build(
        settings,
        "tripclick-kafka-tls-test",
        master="local[1]",
        **{"spark.sql.shuffle.partitions": "2", "spark.driver.memory": "1g"},
    )
    yield spark
    if existing is None:
        spark.stop()


# ------------------------------------------------------------------ tests


def test_the_broker_listens_on_tls_only(tls_broker):
    properties = (tls_broker.run_dir / "kafka" / "server.properties").read_text()
    assert f"listeners=SSL://{HOST}:{tls_broker.kafka_port}," in properties
    assert "PLAINTEXT://" not in properties


def test_producer_and_spark_batch_round_trip_over_tls(tls_broker, sample_files, spark, tmp_path):
    from tripclick_spark import kafka_source

    summary = produce_files(
        sample_files,
        mode="batch",
        source="web-tls",
        settings=tls_broker,
        reject_file=tmp_path / "rejects.jsonl",
        workers=0,
    )
    assert summary.ok, summary.line()
    assert (summary.lines, summary.delivered, summary.rejected) == (562, 562, 0)

    expected_keys = {
        json.loads(line)["SessionId"]
        for path in sample_files
        for line in path.read_text().splitlines()
        if line.strip()
    }
    rows = kafka_source.batch(spark, tls_broker).selectExpr("CAST(key AS STRING) AS key").collect()
    assert len(rows) == 562
    assert {row.key for row in rows} == {str(key) for key in expected_keys}


def produce_error(settings: config.Settings, files: list[Path]) -> str:
    """The UserError of a produce run that must fail; the failed client is freed on return."""
    try:
        produce_files(files, settings=settings, workers=0)
    except UserError as err:
        return str(err)
    pytest.fail(f"producing to {settings.kafka_bootstrap} should have failed")


def test_plaintext_client_gets_one_line_error_from_the_tls_listener(tls_broker, sample_files):
    plaintext = dataclasses.replace(tls_broker, kafka_security_protocol="PLAINTEXT")
    message = produce_error(plaintext, sample_files[:1])
    assert "\n" not in message
    assert f"cannot reach Kafka at {tls_broker.kafka_bootstrap}" in message


def test_client_trusting_another_ca_is_refused(tls_broker, sample_files, tmp_path):
    other_ca, _ = make_ca(tmp_path, "Some other CA")
    untrusting = dataclasses.replace(tls_broker, kafka_ssl_ca=str(other_ca))
    message = produce_error(untrusting, sample_files[:1])
    assert "\n" not in message
    assert f"cannot reach Kafka at {tls_broker.kafka_bootstrap}" in message
    assert "TRIPCLICK_KAFKA_SSL_CA" in message


# ------------------------------------------------------------------ settings


def test_ssl_without_a_ca_file_is_one_clear_line(settings, tmp_path):
    unset = dataclasses.replace(settings, kafka_security_protocol="SSL", kafka_ssl_ca="")
    with pytest.raises(UserError, match="needs TRIPCLICK_KAFKA_SSL_CA"):
        client_config(unset, "web-0")
    missing = dataclasses.replace(unset, kafka_ssl_ca=str(tmp_path / "nope.crt"))
    with pytest.raises(UserError, match=r"TRIPCLICK_KAFKA_SSL_CA=.*nope\.crt does not exist"):
        kafka_security.spark_options(missing)


def test_protocol_defaults_to_ssl_on_aws_and_plaintext_locally(monkeypatch, tmp_path):
    monkeypatch.delenv("TRIPCLICK_KAFKA_SECURITY_PROTOCOL", raising=False)
    monkeypatch.setenv("TRIPCLICK_RUNTIME", "local")
    assert config.load().kafka_security_protocol == "PLAINTEXT"
    monkeypatch.setenv("TRIPCLICK_RUNTIME", "aws")
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("TRIPCLICK_KAFKA_SSL_CA", str(ca))
    aws = config.load()
    assert aws.kafka_security_protocol == "SSL"
    assert kafka_security.spark_options(aws) == {
        "kafka.security.protocol": "SSL",
        "kafka.ssl.truststore.type": "PEM",
        "kafka.ssl.truststore.location": str(ca),
        "kafka.ssl.endpoint.identification.algorithm": "https",
    }
    conf = client_config(aws, "web-0")
    assert (conf["security.protocol"], conf["ssl.ca.location"]) == ("SSL", str(ca))
    monkeypatch.setenv("TRIPCLICK_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    with pytest.raises(UserError, match="use PLAINTEXT or SSL"):
        config.load()
