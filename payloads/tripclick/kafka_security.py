"""How every Kafka client of the platform talks to the brokers: plain text or TLS.

The brokers Ansible installs listen on TLS only and present a certificate signed by the
platform CA (role ``pki``). They ask every client for a certificate signed by the Kafka
clients' CA and hold the name in it to the ACLs (a producer may only write the topic,
Spark only read it). So a client needs ``security.protocol=SSL``, the platform CA's PEM
file and its own PEM keystore (certificate and key in one file), spelled differently by
each client library. One function per library turns the settings into its options, so the
producers (librdkafka), Spark's Kafka source (the Java client) and the local stack's
admin (kafka-python) never disagree.
"""

from __future__ import annotations

from pathlib import Path

from tripclick.config import Settings
from tripclick.errors import UserError

PROTOCOLS = ("PLAINTEXT", "SSL")


def ca_file(settings: Settings) -> str | None:
    """The CA file clients trust, checked; ``None`` for plain text."""
    if settings.kafka_security_protocol != "SSL":
        return None
    ca = settings.kafka_ssl_ca
    if not ca:
        raise UserError(
            "TRIPCLICK_KAFKA_SECURITY_PROTOCOL=SSL needs TRIPCLICK_KAFKA_SSL_CA: "
            "set it to the PEM file of the CA that signed the brokers' certificates"
        )
    if not Path(ca).is_file():
        raise UserError(
            f"TRIPCLICK_KAFKA_SSL_CA={ca} does not exist; "
            "copy the platform CA there or point the setting at it"
        )
    return ca


def keystore_file(settings: Settings) -> str | None:
    """The client's own PEM keystore, checked; ``None`` when it has none (plain text, or a
    broker that asks no certificate, as the local stack's)."""
    keystore = settings.kafka_ssl_keystore
    if settings.kafka_security_protocol != "SSL" or not keystore:
        return None
    if not Path(keystore).is_file():
        raise UserError(
            f"TRIPCLICK_KAFKA_SSL_KEYSTORE={keystore} does not exist; install this client's"
            " certificate and key there (PEM, one file) or point the setting at it"
        )
    return keystore


def librdkafka_options(settings: Settings) -> dict[str, str]:
    """Options of a confluent-kafka (librdkafka) client."""
    ca = ca_file(settings)
    if ca is None:
        return {"security.protocol": "PLAINTEXT"}
    options = {
        "security.protocol": "SSL",
        "ssl.ca.location": ca,
        # The broker's certificate must name the address we dialled (librdkafka's default
        # too; set so a changed default can never turn verification off).
        "ssl.endpoint.identification.algorithm": "https",
    }
    keystore = keystore_file(settings)
    if keystore is not None:  # OpenSSL reads the certificate and the key from one file
        options |= {"ssl.certificate.location": keystore, "ssl.key.location": keystore}
    return options


def java_options(settings: Settings) -> dict[str, str]:
    """Options of the Java client (Kafka 4 reads a PEM truststore directly)."""
    ca = ca_file(settings)
    if ca is None:
        return {"security.protocol": "PLAINTEXT"}
    options = {
        "security.protocol": "SSL",
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": ca,
        "ssl.endpoint.identification.algorithm": "https",
    }
    keystore = keystore_file(settings)
    if keystore is not None:  # read by every executor too: the file is on each Spark host
        options |= {"ssl.keystore.type": "PEM", "ssl.keystore.location": keystore}
    return options


def spark_options(settings: Settings) -> dict[str, str]:
    """The Java client's options as Spark's Kafka source takes them (``kafka.`` prefix)."""
    return {f"kafka.{name}": value for name, value in java_options(settings).items()}


def kafka_python_options(settings: Settings) -> dict[str, object]:
    """Keyword arguments of a kafka-python client (the local stack's admin)."""
    ca = ca_file(settings)
    if ca is None:
        return {"security_protocol": "PLAINTEXT"}
    options: dict[str, object] = {
        "security_protocol": "SSL",
        "ssl_cafile": ca,
        "ssl_check_hostname": True,
    }
    keystore = keystore_file(settings)
    if keystore is not None:
        options |= {"ssl_certfile": keystore, "ssl_keyfile": keystore}
    return options
