"""Who may do what on Kafka: a broker of the test's own, configured as the Ansible role
configures the cluster's (mutual TLS on every listener, the certificate's CN as the
principal, ``StandardAuthorizer`` denying whatever no ACL allows).

The producer's principal may only write the topic, Spark's only read it, the admin does
the rest. A client without a certificate is refused at the handshake, the producer's
principal is refused a read and Spark's a write; the platform's own clients say so in
one line. (Before, the brokers asked no client for a certificate and had no ACLs: any
host the security groups admit could read every click, write anything or delete the
topic.)
"""

from __future__ import annotations

import dataclasses

import pytest
from kafka_certs import free_port, make_ca, make_keystore

from tripclick import config
from tripclick.errors import UserError
from tripclick.producer import produce_files
from tripclick_devstack import stack
from tripclick_devstack.stack.kafka import Kafka

pytestmark = [pytest.mark.stack, pytest.mark.slow]

BROKER, ADMIN, PRODUCER, SPARK = "kafka-test-broker", "tripclick-admin", "tripclick-producer", "tripclick-spark"  # fmt: skip


@pytest.fixture(scope="module")
def acl_broker(settings: config.Settings, tmp_path_factory):
    """The admin's settings against the broker, and a keystore per principal."""
    home = tmp_path_factory.mktemp("kafka-acl")
    platform_ca, platform_key = make_ca(home, "TripClick test platform CA")
    clients_ca, clients_key = make_ca(home, "TripClick test Kafka clients CA")
    broker_keystore = make_keystore(home, BROKER, platform_ca, platform_key, server=True)
    keystores = {name: make_keystore(home, name, clients_ca, clients_key) for name in (ADMIN, PRODUCER, SPARK)}  # fmt: skip
    # A server certificate of the platform CA (as PostgreSQL's or Docker's): no client's.
    keystores["server-only"] = make_keystore(
        home, "postgresql-test", platform_ca, platform_key, server=True, client=False
    )
    port = free_port()
    admin = dataclasses.replace(
        settings,
        home=home,
        kafka_port=port,
        kafka_controller_port=free_port(),
        kafka_bootstrap=f"127.0.0.1:{port}",
        kafka_heap="384m",
        kafka_security_protocol="SSL",
        kafka_ssl_ca=str(platform_ca),
        kafka_ssl_keystore=str(keystores[ADMIN]),
    )
    # Its own metrics port too: the shared broker's JMX agent holds the default one.
    broker = Kafka(
        admin, broker_keystore, clients_ca, super_users=(BROKER, ADMIN), metrics_port=free_port()
    )
    try:
        broker.start()
        stack.ensure_topic(admin)
        broker.allow(PRODUCER, ("Write", "Describe"), topic=admin.topic)
        broker.allow(SPARK, ("Read", "Describe"), topic=admin.topic)
    except UserError as err:
        broker.stop()
        pytest.fail(f"the broker with ACLs did not start: {err}")
    yield admin, keystores
    broker.stop()


def as_principal(acl_broker, name: str | None) -> config.Settings:
    admin, keystores = acl_broker
    return dataclasses.replace(admin, kafka_ssl_keystore=str(keystores[name]) if name else "")


def read_error(spark, settings: config.Settings) -> str | None:
    """What Spark's Kafka source (the Java client) meets reading the whole topic as
    ``settings``' principal: None when it read the 562 records, else the failure."""
    from tripclick_spark import kafka_source

    try:
        count = kafka_source.batch(spark, settings).count()
    except Exception as err:  # noqa: BLE001 - Py4J's error, whose text is the point
        return str(err)
    assert count == 562
    return None


def produce_error(settings: config.Settings, files) -> str:
    try:
        summary = produce_files(files, settings=settings, workers=0)
    except UserError as err:
        return str(err)
    pytest.fail(f"producing should have been refused: {summary.line()}")


def test_the_producer_writes_and_spark_reads(acl_broker, sample_files, spark, tmp_path):
    summary = produce_files(
        sample_files, mode="batch", source="web-0", settings=as_principal(acl_broker, PRODUCER),
        reject_file=tmp_path / "rejects.jsonl", workers=0,
    )  # fmt: skip
    assert (summary.lines, summary.delivered, summary.failed) == (562, 562, 0), summary.line()
    assert read_error(spark, as_principal(acl_broker, SPARK)) is None


def test_the_producer_principal_is_refused_a_read(acl_broker, spark):
    error = read_error(spark, as_principal(acl_broker, PRODUCER))
    assert error is not None and "TopicAuthorizationException" in error, error


def test_spark_principal_is_refused_a_write_in_one_line(acl_broker, sample_files):
    message = produce_error(as_principal(acl_broker, SPARK), sample_files[:1])
    assert "\n" not in message
    assert "not authorized" in message.lower() or "denies" in message, message
    assert "TRIPCLICK_KAFKA_SSL_KEYSTORE" in message


@pytest.mark.parametrize("principal", [None, "server-only"], ids=["no-certificate", "server-certificate"])  # fmt: skip
def test_a_client_without_a_client_certificate_is_refused_in_one_line(
    acl_broker, sample_files, principal
):
    settings = as_principal(acl_broker, principal)
    message = produce_error(settings, sample_files[:1])
    assert "\n" not in message
    assert f"cannot reach Kafka at {settings.kafka_bootstrap}" in message
    assert "TRIPCLICK_KAFKA_SSL_KEYSTORE" in message
