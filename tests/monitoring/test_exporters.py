"""The host, TLS and PostgreSQL exporters as ``tripclick monitoring up`` runs them, read by
a real Prometheus evaluating the real rules.

The node, blackbox and PostgreSQL exporters and Prometheus (rules evaluated every second)
run on free 127.0.0.1 ports under a temp dir; the exporter of PostgreSQL reads the shared
stack's database (started, and stopped at the end, only when it is not running). A TLS server
of the module's own serves a self-signed certificate that expires in five days. Checked:
DiskAlmostFull's expression gives the used fraction of / that statvfs gives; the
certificate makes CertificateExpiresSoon fire through the blackbox probe and, written by
monitoring/exporters/tls-expiry.py, through the node exporter's textfile directory; the
probe reports the certificate's own notAfter; ``pg_up`` is 1. CertificateExpiresSoon has
no ``for:``, so the real rule file serves as it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tripclick import config
from tripclick.contract import secret_path
from tripclick.errors import UserError
from tripclick_devstack.stack import monitoring
from tripclick_devstack.stack.monitoring import (
    Exporter,
    MonitoringSettings,
    Prometheus,
    textfile_dir,
)
from tripclick_devstack.stack.postgres import Postgres

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]
TLS_EXPIRY = REPO / "monitoring" / "exporters" / "tls-expiry.py"
HOST = "127.0.0.1"
DAYS_LEFT = 5


@dataclasses.dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path
    not_after: int  # Unix seconds


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 that expires in five days (whole seconds)."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=DAYS_LEFT))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.crt", directory / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert_path, key_path, int((now + dt.timedelta(days=DAYS_LEFT)).timestamp()))


@pytest.fixture(scope="module")
def tls_server(certificate: Certificate) -> Iterator[str]:
    """host:port of a TLS server on 127.0.0.1 that completes handshakes with the certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    listener = socket.create_server((HOST, 0))
    listener.settimeout(0.5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass  # the handshake is all a probe needs
            except OSError:  # a probe that hangs up mid-handshake
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"{HOST}:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=10)
        listener.close()


@pytest.fixture(scope="module")
def gold_db(settings) -> Iterator[config.Settings]:
    """The stack's PostgreSQL, started (and stopped at the end) only when it is not running:
    the exporter needs no other service of the stack."""
    db = Postgres(settings)
    started = not db.is_healthy()
    if started:
        try:
            db.start()
        except UserError as err:
            db.stop()
            pytest.fail(f"the stack's PostgreSQL did not start: {err}")
    try:
        yield settings
    finally:
        if started:
            db.stop()


@dataclasses.dataclass
class Watched:
    prometheus: Prometheus
    node: Exporter
    settings: config.Settings


@pytest.fixture(scope="module")
def watched(
    require_binaries, gold_db, tls_server, free_port, start_services, tmp_path_factory
) -> Watched:
    """The exporters and Prometheus of the module's own, as ``monitoring up`` starts them."""
    require_binaries(
        ("prometheus", "prometheus-package"),
        ("prometheus-node-exporter", "node-exporter-package"),
        ("prometheus-blackbox-exporter", "blackbox-exporter-package"),
        ("prometheus-postgres-exporter", "postgres-exporter-package"),
    )
    home = tmp_path_factory.mktemp("watched")
    # The stack's database password, where the exporter looks for it under this home
    # (TRIPCLICK_PG_PASSWORD, when set, reaches the exporter by the environment instead).
    secret = secret_path(gold_db.home, "pg_password")
    if secret.is_file():
        secret_path(home, "pg_password").parent.mkdir(mode=0o700)
        shutil.copy2(secret, secret_path(home, "pg_password"))
    settings = dataclasses.replace(gold_db, home=home, kafka_security_protocol="PLAINTEXT")
    m = MonitoringSettings(
        kafka_metrics_port=free_port(),
        prometheus_port=free_port(),
        alertmanager_port=free_port(),
        interval="1s",
        node_exporter_port=free_port(),
        blackbox_port=free_port(),
        postgres_exporter_port=free_port(),
        tls_probe_targets=(tls_server,),
    )
    # The rules' state is read from Prometheus itself: no Alertmanager or Pushgateway.
    servers = [s for s in monitoring.services(settings, m) if isinstance(s, Exporter | Prometheus)]
    assert [s.name for s in servers] == [
        "node-exporter",
        "blackbox-exporter",
        "postgres-exporter",
        "prometheus",
    ]
    started = start_services(*servers)
    return Watched(prometheus=started[-1], node=started[0], settings=settings)


def _firing(prometheus: Prometheus, alertname: str, **labels: str) -> dict | None:
    for alert in prometheus.alerts():
        have = {**alert["labels"], "state": alert["state"]}
        wanted = {"alertname": alertname, "state": "firing", **labels}
        if all(have.get(k) == v for k, v in wanted.items()):
            return alert
    return None


def test_disk_almost_full_reads_the_used_fraction_of_root(watched, wait_for, alert_rule) -> None:
    rule = alert_rule("DiskAlmostFull")
    fraction, threshold = re.fullmatch(r"(.+)>\s*([\d.]+)\s*", rule["expr"], flags=re.S).groups()
    assert float(threshold) == 0.80
    [root] = wait_for(
        "the used fraction of / from the node exporter",
        lambda: [r for r in watched.prometheus.query(fraction) if r["metric"]["mountpoint"] == "/"],
        timeout=30,
    )
    st = os.statvfs("/")
    used = 1 - st.f_bavail / st.f_blocks
    print(f"/ used: {float(root['value'][1]):.4f} from Prometheus, {used:.4f} from statvfs")
    assert root["metric"]["job"] == "node"
    assert root["metric"]["instance"] == f"{HOST}:{watched.node.port}"
    assert abs(float(root["value"][1]) - used) < 0.02


def test_postgres_exporter_reaches_the_stacks_database(watched, wait_for) -> None:
    [up] = wait_for(
        "pg_up from the PostgreSQL exporter",
        lambda: watched.prometheus.query('pg_up{job="postgres"}'),
        timeout=30,
    )
    assert up["value"][1] == "1"


def test_served_certificate_fires_through_the_blackbox_probe(
    watched, tls_server, certificate, wait_for
) -> None:
    [expiry] = wait_for(
        "the probe's certificate expiry",
        lambda: watched.prometheus.query(
            f'probe_ssl_earliest_cert_expiry{{job="blackbox", instance="{tls_server}"}}'
        ),
        timeout=30,
    )
    assert int(float(expiry["value"][1])) == certificate.not_after
    alert = wait_for(
        "CertificateExpiresSoon for the served certificate",
        lambda: _firing(watched.prometheus, "CertificateExpiresSoon", instance=tls_server),
        timeout=30,
    )
    assert "path" not in alert["labels"]
    assert alert["labels"]["severity"] == "warning"
    left = float(alert["value"])
    assert (DAYS_LEFT - 0.1) * 86400 < left <= DAYS_LEFT * 86400, left


def test_certificate_file_fires_through_the_textfile_route(watched, certificate, wait_for) -> None:
    directory = textfile_dir(watched.settings)
    run = subprocess.run(
        [sys.executable, str(TLS_EXPIRY), "--textfile-dir", str(directory), str(certificate.cert)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    path = str(certificate.cert.resolve())
    [series] = wait_for(
        "the certificate's notAfter from the node exporter's textfile collector",
        lambda: watched.prometheus.query(
            f'tripclick_tls_certificate_not_after_seconds{{job="node", path="{path}"}}'
        ),
        timeout=30,
    )
    assert int(float(series["value"][1])) == certificate.not_after
    alert = wait_for(
        "CertificateExpiresSoon for the certificate file",
        lambda: _firing(watched.prometheus, "CertificateExpiresSoon", path=path),
        timeout=30,
    )
    assert alert["labels"]["instance"] == f"{HOST}:{watched.node.port}"
    assert alert["annotations"]["summary"] == (
        f"certificate {path} on {HOST}:{watched.node.port} expires within 14 days"
    )


def _tls_expiry(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TLS_EXPIRY), *args], capture_output=True, text=True, timeout=60
    )


def test_tls_expiry_writes_the_same_file_on_a_rerun(tmp_path, certificate) -> None:
    for _ in range(2):
        assert _tls_expiry("--textfile-dir", str(tmp_path), str(certificate.cert)).returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tripclick_tls_certificates.prom"]
    text = (tmp_path / "tripclick_tls_certificates.prom").read_text()
    path = certificate.cert.resolve()
    assert (
        f'tripclick_tls_certificate_not_after_seconds{{path="{path}"}} {certificate.not_after}\n'
        in text
    )


@pytest.mark.parametrize("problem", ["missing", "not a certificate"])
def test_tls_expiry_refuses_a_bad_file_in_one_line(tmp_path, certificate, problem) -> None:
    out = tmp_path / "textfile"
    out.mkdir()
    assert _tls_expiry("--textfile-dir", str(out), str(certificate.cert)).returncode == 0
    before = (out / "tripclick_tls_certificates.prom").read_text()
    bad = tmp_path / "bad.pem"
    if problem == "not a certificate":
        bad.write_bytes(certificate.key.read_bytes())  # a key, not a certificate
    run = _tls_expiry("--textfile-dir", str(out), str(certificate.cert), str(bad))
    assert run.returncode == 2
    assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr
    assert str(bad) in run.stderr
    # The last good file stays.
    assert (out / "tripclick_tls_certificates.prom").read_text() == before


def test_blackbox_probes_the_brokers_tls_listener_then_the_listed_targets(settings) -> None:
    m = MonitoringSettings(
        kafka_metrics_port=1,
        prometheus_port=2,
        alertmanager_port=3,
        blackbox_port=4,
        tls_probe_targets=("web-0:2376", "127.0.0.1:19092"),
    )
    tls = dataclasses.replace(
        settings, kafka_security_protocol="SSL", kafka_bootstrap="127.0.0.1:19092"
    )
    targets = monitoring.tls_probe_targets(tls, m)
    assert targets == ["127.0.0.1:19092", "web-0:2376"]
    plain = dataclasses.replace(tls, kafka_security_protocol="PLAINTEXT")
    assert monitoring.tls_probe_targets(plain, m) == ["web-0:2376", "127.0.0.1:19092"]

    jobs = {j["job_name"]: j for j in monitoring.prometheus_yml(m, targets)["scrape_configs"]}
    # Exporters without a port are left out; the probe goes through the exporter.
    assert sorted(jobs) == ["blackbox", "kafka"]
    assert jobs["blackbox"]["static_configs"] == [{"targets": targets}]
    assert jobs["blackbox"]["params"] == {"module": ["tls_connect"]}
    assert jobs["blackbox"]["relabel_configs"][-1]["replacement"] == "127.0.0.1:4"
    # No target: no blackbox job that would only report nothing.
    no_targets = monitoring.prometheus_yml(m, [])["scrape_configs"]
    assert "blackbox" not in {j["job_name"] for j in no_targets}
