"""Prometheus, Alertmanager and a Pushgateway of the local stack, from Debian's packages,
on 127.0.0.1.

Prometheus scrapes the broker's JMX exporter agent (job ``kafka``, see :mod:`.kafka`) and
the Pushgateway the pipeline's stages push their figures to, and evaluates ``monitoring/rules/*.yml``, the rules the fleet reads too; Alertmanager sends
what fires to a webhook URL and, where an SNS topic is configured, to Amazon SNS. Both
run as the project's own processes with their data under the state dir: the packages'
system services stay off (``make prometheus-package alertmanager-package
pushgateway-package``).

The settings here are read by the local stack alone, so they live beside it rather than
in :mod:`tripclick.config`; they follow its style (``TRIPCLICK_`` variables, local ports
shifted by ``TRIPCLICK_PORT_OFFSET``).
"""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

# config's own readers, so these variables parse, and fail, as every other setting does.
from tripclick.config import Settings, _env, _env_int
from tripclick.contract import REPO_ROOT
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

    @classmethod
    def load(cls) -> MonitoringSettings:
        offset = _env_int("PORT_OFFSET", 0)
        arn = _env("ALERT_SNS_TOPIC_ARN", "")
        # The topic's region, unless given: arn:aws:sns:<region>:<account>:<name>.
        region = arn.split(":")[3] if arn.count(":") >= 5 else "us-east-1"
        return cls(
            kafka_metrics_port=_env_int("KAFKA_METRICS_PORT", 19094 + offset),
            prometheus_port=_env_int("PROMETHEUS_PORT", 19090 + offset),
            alertmanager_port=_env_int("ALERTMANAGER_PORT", 19095 + offset),
            pushgateway_port=_env_int("PUSHGATEWAY_PORT", 19091 + offset),
            interval=_env("PROMETHEUS_INTERVAL", "15s"),
            group_wait=_env("ALERT_GROUP_WAIT", "30s"),
            webhook_url=_env("ALERT_WEBHOOK_URL", ""),
            sns_topic_arn=arn,
            sns_api_url=_env("ALERT_SNS_API_URL", ""),
            sns_region=_env("ALERT_SNS_REGION", region),
        )


def prometheus_yml(m: MonitoringSettings) -> dict:
    """Prometheus' configuration: the broker's exporter as job ``kafka``, the rules, the
    local Alertmanager."""
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
        ],
    }


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

    def __init__(self, settings: Settings, monitoring: MonitoringSettings | None = None) -> None:
        super().__init__(settings)
        self.m = monitoring or MonitoringSettings.load()
        self.port = getattr(self.m, self.port_setting)
        self.dir = settings.run_dir / self.name

    def argv(self) -> list[str]:
        """The server's options; may write its configuration into ``self.dir``."""
        raise NotImplementedError

    def start(self) -> None:
        binary = _binary(self.binary, self.package_target)
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = [binary, *self.argv(), f"--web.listen-address=127.0.0.1:{self.port}"]
        env = {"GOMAXPROCS": "1", "GOMEMLIMIT": self.memory}
        proc = process.spawn(self.name, argv, self.log_file, self.pid_file, env=env)
        self.started_in = process.wait_healthy(self.name, self.healthy, self.log_file, proc, 60)

    def healthy(self) -> bool:
        if not process.port_open(self.port):
            return False
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=3) as resp:
            return resp.status == 200

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
        return [
            f"--config.file={self._write('prometheus.yml', prometheus_yml(self.m))}",
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


def services(settings: Settings, monitoring: MonitoringSettings | None = None) -> list[Service]:
    """Alertmanager and the Pushgateway first, so Prometheus finds them at its start."""
    m = monitoring or MonitoringSettings.load()
    return [Alertmanager(settings, m), Pushgateway(settings, m), Prometheus(settings, m)]
