"""Alerts arrive at a webhook through the real pieces: stopping the broker makes
KafkaBrokerDown arrive, a failed reconciliation pushed by the pipeline ReconciliationFailed.

A KRaft broker of the tests' own with the JMX exporter agent, Prometheus evaluating the
real monitoring/rules every second, Alertmanager, a Pushgateway and a webhook receiver in
this process, all on free 127.0.0.1 ports under a temp dir; the shared local stack is not
touched. KafkaBrokerDown keeps its own ``for: 1m``, so it may arrive only after it: the
module takes about 80 seconds.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tripclick import config
from tripclick_devstack.stack import monitoring
from tripclick_devstack.stack.kafka import Kafka
from tripclick_devstack.stack.monitoring import MonitoringSettings, Prometheus
from tripclick_spark import figures

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def _seconds(duration: str) -> int:
    value, unit = re.fullmatch(r"(\d+)([smh])", duration).groups()
    return int(value) * {"s": 1, "m": 60, "h": 3600}[unit]


@pytest.fixture(scope="module")
def binaries(require_binaries) -> None:
    require_binaries(
        ("prometheus", "prometheus-package"),
        ("prometheus-alertmanager", "alertmanager-package"),
    )


@pytest.fixture(scope="module")
def webhook() -> Iterator[tuple[str, queue.Queue]]:
    """An HTTP receiver on 127.0.0.1 that queues each POSTed JSON body with its arrival."""
    received: queue.Queue = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((time.monotonic(), self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:  # keep pytest's output to the test's own
            pass

    server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}/alerts", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclasses.dataclass
class Monitored:
    settings: config.Settings
    broker: Kafka
    prometheus: Prometheus
    received: queue.Queue

    def arrived(self, alertname: str):
        """The first notification holding ``alertname`` since the last call, else None.

        Other rules of the real file may notify too (DayNotPublished after 18:30 in Seoul,
        with no publication pushed), so each test looks for its own alert only."""
        while not self.received.empty():
            at, path, body = self.received.get()
            for alert in body["alerts"]:
                if alert["labels"]["alertname"] == alertname:
                    return at, path, body, alert
        return None


@pytest.fixture(scope="module")
def monitored(binaries, webhook, tmp_path_factory, free_port, start_services) -> Monitored:
    """Broker, Alertmanager, Pushgateway and Prometheus of the module's own; all stopped
    at the end."""
    url, received = webhook
    home = tmp_path_factory.mktemp("monitored")
    port = free_port()
    m = MonitoringSettings(
        kafka_metrics_port=free_port(),
        prometheus_port=free_port(),
        alertmanager_port=free_port(),
        pushgateway_port=free_port(),
        interval="1s",
        group_wait="1s",
        webhook_url=url,
    )
    settings = dataclasses.replace(
        config.load(),
        home=home,
        kafka_port=port,
        kafka_controller_port=free_port(),
        kafka_bootstrap=f"{HOST}:{port}",
        kafka_heap="384m",
        kafka_security_protocol="PLAINTEXT",
        pushgateway=f"{HOST}:{m.pushgateway_port}",
    )
    broker = Kafka(settings, metrics_port=m.kafka_metrics_port)
    started = start_services(broker, *monitoring.services(settings, m))
    return Monitored(settings, broker, started[-1], received)


def test_pushed_failed_reconciliation_fires_reconciliation_failed(monitored, wait_for) -> None:
    # The stages' own pushing code (tripclick_spark.figures), through the Pushgateway.
    assert figures.push(
        monitored.settings,
        {"event_date": "2024-06-01"},
        [("tripclick_reconciliation_passed", "test", {}, 0.0)],
    )
    _, _, body, alert = wait_for(
        "a ReconciliationFailed notification at the webhook",
        lambda: monitored.arrived("ReconciliationFailed"),
        timeout=30,
    )
    assert body["status"] == alert["status"] == "firing"
    # honor_labels: the pushed job and date, not the gateway's scrape job.
    assert alert["labels"]["job"] == figures.JOB
    assert alert["labels"]["event_date"] == "2024-06-01"
    assert alert["annotations"]["runbook_url"] == "docs/runbook.md#reconciliationfailed"


def test_stopping_the_broker_fires_kafka_broker_down(monitored, wait_for, alert_rule) -> None:
    broker, prometheus = monitored.broker, monitored.prometheus
    rule = alert_rule("KafkaBrokerDown")
    hold = _seconds(rule["for"])

    # Before: the scrape works, nothing is pending or firing for the broker, and the
    # exporter's names are the ones the rules read.
    def scraped_and_quiet() -> bool:
        up = [r for r in prometheus.query('up{job="kafka"}') if r["value"][1] == "1"]
        alerts = [a for a in prometheus.alerts() if a["labels"]["alertname"] == "KafkaBrokerDown"]
        return bool(up) and not alerts

    wait_for("up{job='kafka'} == 1 and no KafkaBrokerDown", scraped_and_quiet, timeout=30)
    [urp] = wait_for(
        "the under-replicated partitions gauge scraped",
        lambda: prometheus.query("kafka_server_replicamanager_underreplicatedpartitions"),
        timeout=15,
    )
    assert urp["metric"]["job"] == "kafka" and urp["value"][1] == "0"
    assert monitored.arrived("KafkaBrokerDown") is None

    stopped_at = time.monotonic()
    assert broker.stop(), "the broker was not running"

    at, path, body, alert = wait_for(
        "a KafkaBrokerDown notification at the webhook",
        lambda: monitored.arrived("KafkaBrokerDown"),
        timeout=hold + 60,
    )
    waited = at - stopped_at
    print(f"KafkaBrokerDown arrived {waited:.1f}s after the broker was stopped")

    # The rule's `for` held: not before it, and not long after (1s evaluations).
    assert hold <= waited <= hold + 45, waited
    assert path == "/alerts"
    assert body["status"] == "firing" and body["receiver"] == "tripclick"
    instance = f"{HOST}:{broker.metrics_port}"
    assert alert["status"] == "firing"
    assert alert["labels"] == {
        "alertname": "KafkaBrokerDown",
        "instance": instance,
        "job": "kafka",
        "severity": "critical",
    }
    annotations = alert["annotations"]
    assert annotations["summary"] == f"Kafka broker {instance} is down"
    assert annotations["runbook_url"] == "docs/runbook.md#kafkabrokerdown"
    runbook = (REPO / "docs" / "runbook.md").read_text()
    assert re.search(r"^### KafkaBrokerDown$", runbook, flags=re.M)
