"""One Apache Kafka broker in KRaft mode (broker and controller in one JVM) on 127.0.0.1.

The broker runs from the jars Maven resolved into ``<home>/jars/kafka`` (see pom.xml),
so no tarball download is needed. Storage is formatted once, on first start.

Given a PEM keystore, the client listener speaks TLS instead of plain text, as the
brokers Ansible installs do; clients then need ``TRIPCLICK_KAFKA_SECURITY_PROTOCOL=SSL``
and the CA in ``TRIPCLICK_KAFKA_SSL_CA`` (the broker trusts that CA too). Given also the
CA of the clients' certificates, it is the brokers Ansible installs in full: every
listener, the controller's too, asks for a certificate, the name in it is the principal
and ``StandardAuthorizer`` denies whatever no ACL allows (:meth:`Kafka.allow`); the
settings' own keystore must then be a super user's, for the stack's health check and
topics.

The broker runs with the Prometheus JMX exporter as a Java agent (``<home>/jars/jmx``,
rules in ``monitoring/exporters/kafka-jmx.yml``) serving ``/metrics`` on 127.0.0.1 at
``TRIPCLICK_KAFKA_METRICS_PORT``: inside the broker's JVM, so a stopped broker is a failed
scrape, which is what the KafkaBrokerDown alert reads.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import urllib.request
import uuid
from pathlib import Path

from tripclick import kafka_security
from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick_devstack.stack import process
from tripclick_devstack.stack.monitoring import JMX_CONFIG, MonitoringSettings
from tripclick_devstack.stack.service import Service

LOG4J2 = """\
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
# The request and state-change loggers are chatty at INFO and say nothing a user needs.
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
"""


def new_cluster_id() -> str:
    """A random KRaft cluster id (22 characters of URL-safe base64).

    Never one starting with "-": the storage tool would read it as an option and fail
    (one id in 64 would), which is why Kafka's own ``Uuid.randomUuid`` skips them too.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class Kafka(Service):
    name = "kafka"

    def __init__(
        self,
        settings: Settings,
        tls_keystore: Path | None = None,
        clients_ca: Path | None = None,
        super_users: tuple[str, ...] = (),
        metrics_port: int | None = None,
    ) -> None:
        """``tls_keystore``: PEM file with the broker's key (PKCS#8) and certificate chain
        (its certificate for both server and client use: it is the controller's client).
        ``clients_ca``: the CA of the clients' certificates; with it, mutual TLS and ACLs.
        ``super_users``: the common names that bypass the ACLs (the broker's own first).
        ``metrics_port``: the JMX exporter's port (default: the monitoring settings')."""
        super().__init__(settings)
        self.dir = settings.run_dir / "kafka"
        self.data_dir = self.dir / "data"
        self.config_file = self.dir / "server.properties"
        self.port = settings.kafka_port
        self.tls_keystore = tls_keystore
        self.clients_ca = clients_ca
        self.super_users = super_users
        self.metrics_port = (
            metrics_port
            if metrics_port is not None
            else MonitoringSettings.load(settings.kafka_port).kafka_metrics_port
        )

    def _tls_properties(self) -> list[str]:
        if self.tls_keystore is None:
            return []
        ca = kafka_security.ca_file(self.settings)
        if ca is None:
            raise UserError(
                "kafka: a TLS listener needs TRIPCLICK_KAFKA_SECURITY_PROTOCOL=SSL "
                "and TRIPCLICK_KAFKA_SSL_CA"
            )
        common = ["ssl.keystore.type=PEM", f"ssl.keystore.location={self.tls_keystore}"]
        if self.clients_ca is None:
            return [
                *common,
                "ssl.truststore.type=PEM",
                f"ssl.truststore.location={ca}",
                # Clients verify the broker; the broker asks no client certificate.
                "ssl.client.auth=none",
            ]
        # The broker's own CA (the controller connection is the broker's client) and the
        # clients' CA, in one PEM truststore.
        truststore = self.dir / "truststore.pem"
        truststore.write_bytes(Path(ca).read_bytes() + self.clients_ca.read_bytes())
        return [
            *common,
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={truststore}",
            "ssl.client.auth=required",
            # The certificate's CN is the principal: User:tripclick-producer, not the whole DN.
            "ssl.principal.mapping.rules=RULE:^CN=([^,]+).*$/$1/,DEFAULT",
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found=false",
            "super.users=" + ";".join(f"User:{name}" for name in self.super_users),
        ]

    def server_properties(self) -> str:
        s = self.settings
        listener = "SSL" if self.tls_keystore is not None else "PLAINTEXT"
        # With client certificates the controller asks for one too, as on the cluster.
        controller = "SSL" if self.clients_ca is not None else "PLAINTEXT"
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.bootstrap.servers=127.0.0.1:{s.kafka_controller_port}",
                f"listeners={listener}://127.0.0.1:{s.kafka_port},"
                f"CONTROLLER://127.0.0.1:{s.kafka_controller_port}",
                f"advertised.listeners={listener}://127.0.0.1:{s.kafka_port}",
                "controller.listener.names=CONTROLLER",
                f"inter.broker.listener.name={listener}",
                f"listener.security.protocol.map=CONTROLLER:{controller},{listener}:{listener}",
                *self._tls_properties(),
                f"log.dirs={self.data_dir}",
                f"num.partitions={s.topic_partitions}",
                # One broker: internal topics cannot have more than one replica.
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                # Topics are created on purpose (with 3 partitions), never by a typo.
                "auto.create.topics.enable=false",
                "log.retention.hours=168",
                "",
            ]
        )

    def _java(self) -> str:
        java = shutil.which("java")
        if not java:
            raise UserError(
                "kafka: Java is not installed; install Java 17 (apt-get install -y openjdk-17-jre-headless)"
            )
        return java

    def _classpath(self) -> str:
        jars = self.settings.jars_dir / "kafka"
        if not list(jars.glob("kafka_2.13-*.jar")):
            raise UserError(f"kafka: broker jars not found in {jars}; run make setup")
        return f"{jars}/*"

    def _javaagent(self) -> str:
        """The JMX exporter agent option: its jar, 127.0.0.1 and port, its rules."""
        jars = sorted((self.settings.jars_dir / "jmx").glob("jmx_prometheus_javaagent-*.jar"))
        if not jars:
            raise UserError(
                f"kafka: the JMX exporter agent is not in {self.settings.jars_dir / 'jmx'}; "
                "run make setup"
            )
        return f"-javaagent:{jars[-1]}=127.0.0.1:{self.metrics_port}:{JMX_CONFIG}"

    def _java_argv(self, main: str, *args: str, agent: bool = False) -> list[str]:
        """``agent``: with the JMX exporter; only the broker has it, since the storage and
        ACL tools' JVMs would try to bind its port too."""
        return [
            self._java(),
            f"-Xmx{self.settings.kafka_heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.dir / 'log4j2.properties'}",
            *([self._javaagent()] if agent else []),
            "-cp",
            self._classpath(),
            main,
            *args,
        ]

    def _prepare(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.server_properties())
        (self.dir / "log4j2.properties").write_text(LOG4J2)
        if (self.data_dir / "meta.properties").exists():
            return
        cluster_id = new_cluster_id()
        log = self.settings.log_dir / "kafka-format.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            rc = subprocess.call(
                self._java_argv(
                    "kafka.tools.StorageTool",
                    "format",
                    "--cluster-id",
                    cluster_id,
                    "--config",
                    str(self.config_file),
                    "--standalone",
                ),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if rc != 0:
            raise UserError(f"kafka: formatting storage in {self.data_dir} failed; see {log}")

    def start(self) -> None:
        self._prepare()
        process.require_free("kafka controller", self.settings.kafka_controller_port)
        process.require_free("kafka metrics", self.metrics_port)
        proc = process.spawn(
            self.name,
            self._java_argv("kafka.Kafka", str(self.config_file), agent=True),
            self.log_file,
            self.pid_file,
        )
        self.started_in = process.wait_healthy(
            self.name, self.healthy, self.log_file, proc, timeout=90
        )

    def healthy(self) -> bool:
        if not process.port_open(self.port):
            return False
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(
            bootstrap_servers=self.settings.kafka_bootstrap,
            request_timeout_ms=3000,
            **kafka_security.kafka_python_options(self.settings),
        )
        try:
            admin.list_topics()
            return True
        finally:
            admin.close()

    def metrics(self) -> str:
        """The exporter's /metrics page (Prometheus' text format)."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.read().decode()

    def metrics_healthy(self) -> bool:
        try:
            return "kafka_server_replicamanager_underreplicatedpartitions" in self.metrics()
        except OSError:
            return False

    def allow(self, principal: str, operations: tuple[str, ...], **resource: str) -> None:
        """Add an ACL: ``principal`` (a certificate's CN) may do ``operations`` on the
        resource, given as AclCommand's option and name (``topic="tripclick_raw_logs"``)."""
        admin = self.dir / "admin-client.properties"
        java = kafka_security.java_options(self.settings)
        admin.write_text("".join(f"{k}={v}\n" for k, v in java.items()))
        argv = ["--bootstrap-server", self.settings.kafka_bootstrap]
        argv += ["--command-config", str(admin), "--add", "--allow-principal", f"User:{principal}"]
        for operation in operations:
            argv += ["--operation", operation]
        for kind, name in resource.items():
            argv += [f"--{kind.replace('_', '-')}", name]
        done = subprocess.run(
            self._java_argv("org.apache.kafka.tools.AclCommand", *argv),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise UserError(f"kafka: adding the ACL for {principal} failed: {done.stderr[-500:]}")

    def reset(self) -> None:
        """Delete the broker's data (only when stopped)."""
        shutil.rmtree(self.data_dir, ignore_errors=True)
