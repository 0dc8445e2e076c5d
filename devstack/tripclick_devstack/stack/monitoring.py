"""Prometheus, Alertmanager, a Pushgateway and the host, TLS and PostgreSQL exporters of
the local stack, from Debian's packages, on 127.0.0.1.

Prometheus scrapes the broker's JMX exporter agent (job ``kafka``, see :mod:`.kafka`), the
Pushgateway the pipeline's stages push their figures to, the node exporter (``node``, with
a textfile directory for ``monitoring/exporters/tls-expiry.py``), the blackbox exporter's
TLS probes (``blackbox``) and the PostgreSQL exporter (``postgres``), and evaluates
``monitoring/rules/*.yml``, the rules the fleet reads too; Alertmanager sends what fires
to a webhook URL and, where an SNS topic is configured, to Amazon SNS. All run as the
project's own processes with their data under the state dir: the packages' system
services stay off (``make prometheus-package alertmanager-package pushgateway-package
node-exporter-package blackbox-exporter-package postgres-exporter-package``).

The settings here are read by the local stack alone, so they live beside it rather than
in :mod:`tripclick.config`; they follow its style (``TRIPCLICK_`` variables, local ports
shifted by ``TRIPCLICK_PORT_OFFSET``).
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# config's own readers, so these variables parse, and fail, as every other setting does.
from tripclick.config import Settings, _env, _env_int
from tripclick.contract import REPO_ROOT, secret_path
from tripclick.errors import UserError
from tripclick_devstack.stack import process
from tripclick_devstack.stack.service import Service

RULES_DIR = REPO_ROOT / "monitoring" / "rules"
JMX_CONFIG = REPO_ROOT / "monitoring" / "exporters" / "kafka-jmx.yml"


@dataclass(frozen=True)
class MonitoringSettings:
    """Ports, intervals and alert receivers of the local monitoring; build with :meth:`load`."""

    kafka_metrics_port: int
    prometheus_port: int
    alertmanager_port: int
    pushgateway_port: int = 0
    # Scrape and rule evaluation interval (a Prometheus duration such as "15s").
    interval: str = "15s"
    # How long Alertmanager waits to batch a new group's first notification.
    group_wait: str = "30s"
    rules_dir: Path = RULES_DIR
    # Where alerts go: a webhook URL, an SNS topic, both or neither (then the
    # Alertmanager UI alone shows them).
    webhook_url: str = ""
    sns_topic_arn: str = ""
    # SNS endpoint; empty means AWS's own for the region.
    sns_api_url: str = ""
    sns_region: str = "us-east-1"
    # The exporters' ports; 0 leaves that exporter out (and its scrape job).
    node_exporter_port: int = 0
    blackbox_port: int = 0
    postgres_exporter_port: int = 0
    # host:port TLS endpoints the blackbox exporter probes, besides the broker's TLS
    # listener (added when the clients speak SSL).
    tls_probe_targets: tuple[str, ...] = ()

    @classmethod
    def load(cls, kafka_port: int | None = None) -> MonitoringSettings:
        """From the environment. The broker's metrics port follows its ``kafka_port`` (two
        above), as the local stack's settings give it, unless set on its own."""
        offset = _env_int("PORT_OFFSET", 0)
        if kafka_port is None:
            kafka_port = _env_int("KAFKA_PORT", 19092 + offset)
        arn = _env("ALERT_SNS_TOPIC_ARN", "")
        # The topic's region, unless given: arn:aws:sns:<region>:<account>:<name>.
        region = arn.split(":")[3] if arn.count(":") >= 5 else "us-east-1"
        return cls(
            kafka_metrics_port=_env_int("KAFKA_METRICS_PORT", kafka_port + 2),
            prometheus_port=_env_int("PROMETHEUS_PORT", 19090 + offset),
            alertmanager_port=_env_int("ALERTMANAGER_PORT", 19095 + offset),
            pushgateway_port=_env_int("PUSHGATEWAY_PORT", 19091 + offset),
            interval=_env("PROMETHEUS_INTERVAL", "15s"),
            group_wait=_env("ALERT_GROUP_WAIT", "30s"),
            webhook_url=_env("ALERT_WEBHOOK_URL", ""),
            sns_topic_arn=arn,
            sns_api_url=_env("ALERT_SNS_API_URL", ""),
            sns_region=_env("ALERT_SNS_REGION", region),
            node_exporter_port=_env_int("NODE_EXPORTER_PORT", 19100 + offset),
            blackbox_port=_env_int("BLACKBOX_EXPORTER_PORT", 19115 + offset),
            postgres_exporter_port=_env_int("POSTGRES_EXPORTER_PORT", 19187 + offset),
            tls_probe_targets=tuple(
                t.strip() for t in _env("TLS_PROBE_TARGETS", "").split(",") if t.strip()
            ),
        )


def tls_probe_targets(settings: Settings, m: MonitoringSettings) -> list[str]:
    """What the blackbox exporter probes: the broker's TLS listener when the clients speak
    SSL to it, then ``TRIPCLICK_TLS_PROBE_TARGETS``, each once."""
    brokers = (
        settings.kafka_bootstrap.split(",") if settings.kafka_security_protocol == "SSL" else []
    )
    targets = [t.strip() for t in [*brokers, *m.tls_probe_targets] if t.strip()]
    return list(dict.fromkeys(targets))


def prometheus_yml(m: MonitoringSettings, tls_targets: list[str] | None = None) -> dict:
    """Prometheus' configuration: the broker's exporter as job ``kafka``, the Pushgateway,
    the exporters (``node``, ``blackbox`` probing ``tls_targets``, ``postgres``), the rules,
    the local Alertmanager."""
    exporters = [
        {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
        for job, port in (("node", m.node_exporter_port), ("postgres", m.postgres_exporter_port))
        if port
    ]
    if m.blackbox_port and tls_targets:
        exporters.append(
            {
                "job_name": "blackbox",
                "metrics_path": "/probe",
                "params": {"module": [BLACKBOX_MODULE]},
                "static_configs": [{"targets": list(tls_targets)}],
                # The probed endpoint goes to the exporter as ?target= and stays the
                # series' instance; the scrape itself goes to the exporter.
                "relabel_configs": [
                    {"source_labels": ["__address__"], "target_label": "__param_target"},
                    {"source_labels": ["__param_target"], "target_label": "instance"},
                    {"target_label": "__address__", "replacement": f"127.0.0.1:{m.blackbox_port}"},
                ],
            }
        )
    return {
        "global": {"scrape_interval": m.interval, "evaluation_interval": m.interval},
        "rule_files": [str(m.rules_dir / "*.yml")],
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [f"127.0.0.1:{m.alertmanager_port}"]}]}
            ]
        },
        "scrape_configs": [
            {
                # The rules name this job: KafkaBrokerDown is up{job="kafka"} == 0.
                "job_name": "kafka",
                "static_configs": [{"targets": [f"127.0.0.1:{m.kafka_metrics_port}"]}],
            },
            *(
                [
                    {
                        "job_name": "pushgateway",
                        # The pushed job and event_date labels are the figures' own.
                        "honor_labels": True,
                        "static_configs": [{"targets": [f"127.0.0.1:{m.pushgateway_port}"]}],
                    }
                ]
                if m.pushgateway_port
                else []
            ),
            *exporters,
        ],
    }


# The blackbox module Prometheus' ``blackbox`` job asks for.
BLACKBOX_MODULE = "tls_connect"


def blackbox_yml() -> dict:
    """The blackbox exporter's one module: a TLS handshake that reports the served chain.

    It does not verify the chain: Go refuses an expired certificate, and a failed handshake
    reports no ``probe_ssl_earliest_cert_expiry``, so CertificateExpiresSoon would resolve
    exactly when the certificate expires. Trust stays the TLS clients' own check."""
    return {
        "modules": {
            BLACKBOX_MODULE: {
                "prober": "tcp",
                "timeout": "5s",
                "tcp": {
                    "preferred_ip_protocol": "ip4",
                    "tls": True,
                    "tls_config": {"insecure_skip_verify": True},
                },
            }
        }
    }


def postgres_exporter_env(settings: Settings) -> dict[str, str]:
    """The PostgreSQL exporter's connection, as the stack's own clients make it: the gold
    database's user, and its password from ``TRIPCLICK_PG_PASSWORD`` where the stack reads
    it from there, else from the checkout's generated secret file (never written anew)."""
    s = settings
    # lib/pq asks for TLS unless told otherwise; libpq's PGSSLMODE says, as for psycopg2.
    sslmode = os.environ.get("PGSSLMODE", "disable")
    env = {
        "DATA_SOURCE_URI": f"{s.pg_host}:{s.pg_port}/{s.pg_database}?sslmode={sslmode}",
        "DATA_SOURCE_USER": s.pg_user,
    }
    if os.environ.get("TRIPCLICK_PG_PASSWORD"):
        env["DATA_SOURCE_PASS"] = os.environ["TRIPCLICK_PG_PASSWORD"]
    else:
        secret = secret_path(s.home, "pg_password")
        if not secret.is_file():
            raise UserError(
                f"postgres-exporter: no gold database password in {secret}; "
                "start the stack first (make up) or set TRIPCLICK_PG_PASSWORD"
            )
        env["DATA_SOURCE_PASS_FILE"] = str(secret)
    return env


def alertmanager_yml(m: MonitoringSettings) -> dict:
    """Alertmanager's configuration: one receiver holding each configured destination."""
    receiver: dict = {"name": "tripclick"}
    if m.webhook_url:
        receiver["webhook_configs"] = [{"url": m.webhook_url, "send_resolved": True}]
    if m.sns_topic_arn:
        sns: dict = {
            "topic_arn": m.sns_topic_arn,
            # Signed with the default AWS credential chain (an instance profile on the
            # fleet, AWS_* variables elsewhere): no key is written into the file.
            "sigv4": {"region": m.sns_region},
            "subject": "{{ .Status | toUpper }}: {{ .CommonLabels.alertname }}",
            "send_resolved": True,
        }
        if m.sns_api_url:
            sns["api_url"] = m.sns_api_url
        receiver["sns_configs"] = [sns]
    return {
        "route": {
            "receiver": "tripclick",
            "group_by": ["alertname", "instance"],
            "group_wait": m.group_wait,
            "group_interval": "5m",
            "repeat_interval": "4h",
        },
        "receivers": [receiver],
    }


def _binary(name: str, target: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise UserError(f"{name} is not installed; run make {target} (Debian's package)")
    return path


class _PrometheusServer(Service):
    """One of Prometheus' Go servers: its Debian binary, a dir under the state dir, one
    CPU and a soft memory limit (the stack shares one machine), /-/ready as health."""

    binary = ""
    package_target = ""
    # The MonitoringSettings field holding the port.
    port_setting = ""
    memory = "64MiB"
    # Prometheus, Alertmanager and the Pushgateway answer /-/ready once they serve.
    health_path = "/-/ready"

    def __init__(self, settings: Settings, monitoring: MonitoringSettings | None = None) -> None:
        super().__init__(settings)
        self.m = monitoring or MonitoringSettings.load()
        self.port = getattr(self.m, self.port_setting) if self.port_setting else 0
        self.dir = settings.run_dir / self.name

    def argv(self) -> list[str]:
        """The server's options; may write its configuration into ``self.dir``."""
        raise NotImplementedError

    def start(self) -> None:
        binary = _binary(self.binary, self.package_target)
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = [binary, *self.argv(), f"--web.listen-address=127.0.0.1:{self.port}"]
        env = {"GOMAXPROCS": "1", "GOMEMLIMIT": self.memory, **self.env()}
        proc = process.spawn(self.name, argv, self.log_file, self.pid_file, env=env)
        self.started_in = process.wait_healthy(self.name, self.healthy, self.log_file, proc, 60)

    def healthy(self) -> bool:
        if not process.port_open(self.port):
            return False
        url = f"http://127.0.0.1:{self.port}{self.health_path}"
        with urllib.request.urlopen(url, timeout=3) as resp:
            return resp.status == 200

    def env(self) -> dict[str, str]:
        """Environment the server needs besides the Go limits."""
        return {}

    def _write(self, name: str, content: dict) -> Path:
        # JSON is YAML: no second serialiser needed.
        path = self.dir / name
        path.write_text(json.dumps(content, indent=2) + "\n")
        return path


class Prometheus(_PrometheusServer):
    name = "prometheus"
    port_setting = "prometheus_port"
    binary = "prometheus"
    package_target = "prometheus-package"
    memory = "256MiB"

    def argv(self) -> list[str]:
        config = prometheus_yml(self.m, tls_probe_targets(self.settings, self.m))
        return [
            f"--config.file={self._write('prometheus.yml', config)}",
            f"--storage.tsdb.path={self.dir / 'data'}",
            # A local history is for looking at today's alerts, not for keeping.
            "--storage.tsdb.retention.time=2d",
            "--storage.tsdb.retention.size=256MB",
        ]

    def _api(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/{path}", timeout=5) as r:
            return json.load(r)["data"]

    def query(self, promql: str) -> list[dict]:
        """The instant vector ``promql`` evaluates to now (the HTTP API's result list)."""
        return self._api("query?" + urllib.parse.urlencode({"query": promql}))["result"]

    def alerts(self) -> list[dict]:
        """The alerts Prometheus holds now, pending and firing."""
        return self._api("alerts")["alerts"]


class Alertmanager(_PrometheusServer):
    name = "alertmanager"
    port_setting = "alertmanager_port"
    binary = "prometheus-alertmanager"
    package_target = "alertmanager-package"

    def argv(self) -> list[str]:
        return [
            f"--config.file={self._write('alertmanager.yml', alertmanager_yml(self.m))}",
            f"--storage.path={self.dir / 'data'}",
            # One Alertmanager: no gossip cluster, whose listener would bind 0.0.0.0:9094.
            "--cluster.listen-address=",
        ]


class Pushgateway(_PrometheusServer):
    """Where the pipeline's stages push their figures (``TRIPCLICK_PUSHGATEWAY``,
    tripclick_spark.figures): batch jobs end before a scrape would find them."""

    name = "pushgateway"
    port_setting = "pushgateway_port"
    binary = "prometheus-pushgateway"
    package_target = "pushgateway-package"

    def argv(self) -> list[str]:
        # Kept across restarts: a day's figures are pushed once, when its stage runs.
        return [f"--persistence.file={self.dir / 'metrics'}"]


class Exporter(_PrometheusServer):
    """One of the exporters: the node, blackbox and PostgreSQL exporters differ only in
    their binary, port, options, configuration files and environment, so each is this
    class with parameters."""

    # Exporters serve their landing page once they listen.
    health_path = "/"

    def __init__(
        self,
        settings: Settings,
        m: MonitoringSettings,
        *,
        name: str,
        package_target: str,
        port: int,
        options: Sequence[str] = (),
        files: Mapping[str, dict] | None = None,
        environment: Callable[[], dict[str, str]] | None = None,
        directories: Sequence[Path] = (),
    ) -> None:
        self.name = name
        self.binary = f"prometheus-{name}"
        self.package_target = package_target
        super().__init__(settings, m)
        self.port = port
        self._options = list(options)
        # Written into the exporter's dir at each start; options name them as {dir}/<file>.
        self._files = dict(files or {})
        # Called at start, not here: status and down build the services too.
        self._environment = environment
        # Made at start: directories the options name that the exporter only reads.
        self._directories = list(directories)

    def argv(self) -> list[str]:
        for name, content in self._files.items():
            self._write(name, content)
        return [o.format(dir=self.dir) for o in self._options]

    def env(self) -> dict[str, str]:
        return self._environment() if self._environment else {}

    def start(self) -> None:
        for directory in self._directories:
            directory.mkdir(parents=True, exist_ok=True)
        super().start()


def textfile_dir(settings: Settings) -> Path:
    """The node exporter's textfile collector directory (``*.prom`` files, read at each
    scrape), where ``monitoring/exporters/tls-expiry.py`` writes the certificates' expiry."""
    return settings.run_dir / "node-exporter" / "textfile"


def exporters(settings: Settings, m: MonitoringSettings) -> list[Exporter]:
    """The exporters whose port is set: Debian's binaries are prometheus-<name>."""
    made = [
        Exporter(
            settings,
            m,
            name="node-exporter",
            package_target="node-exporter-package",
            port=m.node_exporter_port,
            options=[f"--collector.textfile.directory={textfile_dir(settings)}"],
            directories=[textfile_dir(settings)],
        ),
        Exporter(
            settings,
            m,
            name="blackbox-exporter",
            package_target="blackbox-exporter-package",
            port=m.blackbox_port,
            options=["--config.file={dir}/blackbox.yml"],
            files={"blackbox.yml": blackbox_yml()},
        ),
        Exporter(
            settings,
            m,
            name="postgres-exporter",
            package_target="postgres-exporter-package",
            port=m.postgres_exporter_port,
            environment=lambda: postgres_exporter_env(settings),
        ),
    ]
    return [e for e in made if e.port]


def services(settings: Settings, monitoring: MonitoringSettings | None = None) -> list[Service]:
    """Alertmanager, the Pushgateway and the exporters first, so Prometheus finds them at
    its start."""
    m = monitoring or MonitoringSettings.load()
    return [
        Alertmanager(settings, m),
        Pushgateway(settings, m),
        *exporters(settings, m),
        Prometheus(settings, m),
    ]
