"""The aws runtime's producers: a DockerOperator on the web server's Docker API.

No Docker engine runs here, so the operator is built exactly as the task builds it and
its arguments are checked: mutual TLS on 2376, never the plain-text 2375.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from airflow_run import run_airflow

RENDER = __import__("pathlib").Path(__file__).with_name("render_docker_operator.py")


@pytest.fixture(scope="module")
def client_certs(tmp_path_factory):
    """A throwaway CA and client key pair (PEM), like the ones Ansible issues."""
    d = tmp_path_factory.mktemp("docker-tls")
    for name in ("ca", "cert"):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", f"/CN=tripclick-test-{name}",
             "-keyout", str(d / f"{name}-key.pem"), "-out", str(d / f"{name}.pem")],
            check=True, capture_output=True,
        )  # fmt: skip
    return {
        "ca_cert": str(d / "ca.pem"),
        "client_cert": str(d / "cert.pem"),
        "client_key": str(d / "cert-key.pem"),
    }


def render(airflow_env, airflow_bin, tmp_path, conn: dict) -> dict:
    out = tmp_path / "docker.json"
    env = {
        **airflow_env,
        "TRIPCLICK_RUNTIME": "aws",
        "TRIPCLICK_PRODUCER_IMAGE": "registry.example/tripclick-producer:1.0",
        "TRIPCLICK_KAFKA_BOOTSTRAP": "10.0.2.11:9092,10.0.2.12:9092",
        "TRIPCLICK_PRODUCER_KAFKA_KEYSTORE": "/etc/tripclick/kafka-producer.pem",
    }
    done = run_airflow(
        env, [str(airflow_bin / "python"), str(RENDER), json.dumps(conn), str(out)], 300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_producer_container_is_reached_over_mutual_tls(
    airflow_env, airflow_bin, tmp_path, client_certs
):
    conn = {"conn_type": "generic", "host": "10.0.1.20", "port": 2376, "extra": client_certs}
    op = render(airflow_env, airflow_bin, tmp_path, conn)
    assert op["docker_url"] == "tcp://10.0.1.20:2376"
    assert op["tls_verify"] is True
    assert op["tls_hostname"] == "10.0.1.20"
    assert op["tls_ca_cert"] == client_certs["ca_cert"]
    assert op["hook_tls"] == "TLSConfig"
    assert op["hook_tls_cert"] == [client_certs["client_cert"], client_certs["client_key"]]
    assert op["hook_tls_verify"] is True
    assert op["hook_tls_ca_cert"] == client_certs["ca_cert"]
    assert op["image"] == "registry.example/tripclick-producer:1.0"
    assert op["command"][:3] == ["produce", "--mode", "realtime"]
    assert "/data/tripclick/2026-03-02_part-000.jsonl" in op["command"]
    assert op["environment"]["TRIPCLICK_KAFKA_BOOTSTRAP"] == "10.0.2.11:9092,10.0.2.12:9092"
    assert op["mounts"][0]["ReadOnly"] is True
    # The producers' Kafka identity: the host's file, read-only, named to the producer.
    keystore = "/etc/tripclick/kafka-producer.pem"
    assert op["environment"]["TRIPCLICK_KAFKA_SSL_KEYSTORE"] == keystore
    assert op["mounts"][1] == {
        "Target": keystore,
        "Source": keystore,
        "Type": "bind",
        "ReadOnly": True,
    }


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        ({"host": "10.0.1.20", "port": 2375}, "only over TLS on 2376"),
        (
            {"host": "10.0.1.20", "port": 2376, "extra": {}},
            "missing: ca_cert, client_cert, client_key",
        ),
    ],
)
def test_plain_text_docker_api_is_refused(airflow_env, airflow_bin, tmp_path, conn, message):
    op = render(airflow_env, airflow_bin, tmp_path, {"conn_type": "generic", **conn})
    assert message in op["error"]
