"""site.yml converged on this machine: configs rendered right, services start.

Each service is started with the exact ExecStart, User and Environment of the unit file the
role rendered (this machine has no systemd), probed on its port, then stopped.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import sqlite3
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg2
import pytest
from ansible_tools import Converge
from ansible_units import parse_unit, read_environment_file, start, stop, wait_port
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from tripclick import config, kafka_security

HOST = "127.0.0.1"
# The converge fixture (a run of site.yml) takes minutes; it counts toward the first test.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]


def properties(path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def wait_http(running, url: str, timeout: float = 300, ok=(200,)) -> bytes:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if running.proc.poll() is not None:
            raise AssertionError(f"{running.unit.path.name} exited:\n{running.output()}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status in ok:
                    return resp.read()
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(2)
    raise AssertionError(f"{url} did not answer in {timeout:.0f}s ({last}):\n{running.output()}")


def spark_job_env(converged: Converge) -> dict[str, str]:
    """The environment the DAGs give spark-submit on the master (Airflow variable spark_env)."""
    env = read_environment_file(converged.path("etc/airflow/airflow.env"))
    pairs = [item.partition("=") for item in shlex.split(env["AIRFLOW_VAR_TRIPCLICK_SPARK_ENV"])]
    return {name: value for name, _, value in pairs}


def spark_job_settings(converged: Converge, monkeypatch) -> config.Settings:
    """tripclick.config as a Spark job on the master resolves it from that environment."""
    for name in [n for n in os.environ if n.startswith("TRIPCLICK_")]:
        monkeypatch.delenv(name)
    for name, value in spark_job_env(converged).items():
        monkeypatch.setenv(name, value)
    return config.load()


# ------------------------------------------------------------------ converge


def test_first_converge_installs_everything(converged: Converge):
    assert converged.first["failed"] == 0
    assert converged.first["changed"] > 0


def test_secrets_come_from_the_vault_and_reach_no_world_readable_file(converged: Converge):
    env_file = converged.path("etc/airflow/airflow.env")
    assert env_file.stat().st_mode & 0o007 == 0
    assert f"AIRFLOW__CORE__FERNET_KEY={converged.secrets['vault_airflow_fernet_key']}" in (
        env_file.read_text()
    )
    config = converged.path("etc/superset/superset_config.py")
    assert config.stat().st_mode & 0o007 == 0
    assert converged.secrets["vault_superset_secret_key"] in config.read_text()
    for path in converged.path("etc/kafka").glob("broker-*/server.properties"):
        assert path.stat().st_mode & 0o007 == 0


# ------------------------------------------------------------------ rendered configs


def test_kafka_brokers_listen_and_advertise_tls_on_their_own_ports(converged: Converge):
    port = converged.host_vars["tripclick_kafka_port"]
    controller = converged.host_vars["tripclick_kafka_controller_port"]
    voters = f"1@{HOST}:{controller},2@{HOST}:{controller + 10},3@{HOST}:{controller + 20}"
    for node in (1, 2, 3):
        props = properties(converged.path(f"etc/kafka/broker-{node}/server.properties"))
        own, own_controller = port + 10 * (node - 1), controller + 10 * (node - 1)
        assert props["node.id"] == str(node)
        assert props["listeners"] == f"SSL://{HOST}:{own},CONTROLLER://{HOST}:{own_controller}"
        assert props["advertised.listeners"] == f"SSL://{HOST}:{own}"
        assert props["listener.security.protocol.map"] == "SSL:SSL,CONTROLLER:SSL"
        assert props["inter.broker.listener.name"] == "SSL"
        assert props["controller.quorum.voters"] == voters
        # Every client proves who it is, and the ACLs decide what it may do.
        assert props["ssl.client.auth"] == "required"
        assert props["authorizer.class.name"].endswith(".StandardAuthorizer")
        assert props["allow.everyone.if.no.acl.found"] == "false"
        assert props["super.users"].split(";")[-1] == "User:tripclick-kafka-admin"
        assert props["log.dirs"].endswith(f"/var/lib/kafka/broker-{node}")
        assert (converged.path(f"var/lib/kafka/broker-{node}") / "meta.properties").exists()


def test_spark_master_url_is_the_same_for_jobs_and_workers(converged: Converge):
    url = f"spark://{HOST}:{converged.host_vars['spark_master_port']}"
    defaults = converged.path("etc/spark/spark-defaults.conf").read_text()
    assert re.search(rf"^spark\.master\s+{re.escape(url)}$", defaults, re.MULTILINE)
    # The SDK's default chain (the instance profile on EC2); no S3 endpoint of its own on AWS.
    assert "DefaultCredentialsProvider" in defaults
    assert "fs.s3a.endpoint " not in defaults
    worker = parse_unit(converged.path("etc/systemd/system/spark-worker-1.service"))
    assert worker.exec_start[-1] == url
    jars = {p.name for p in converged.path("opt/spark/jars").glob("*.jar")}
    assert {"spark-sql-kafka-0-10_2.13-4.2.0.jar", "postgresql-42.7.8.jar"} <= jars
    # Our value check (spark/jvm), the control node's build, beside the connectors.
    assert "tripclick-spark-udf.jar" in jars
    assert any(name.startswith("hadoop-aws-") for name in jars)


def test_airflow_connections_point_at_the_fleet(converged: Converge):
    env = read_environment_file(converged.path("etc/airflow/airflow.env"))
    spark = json.loads(env["AIRFLOW_CONN_TRIPCLICK_SPARK_MASTER"])
    assert spark["conn_type"] == "ssh"
    assert spark["host"] == HOST
    assert spark["login"] == "tripclick"
    assert spark["extra"]["key_file"].endswith("/etc/airflow/ssh/id_ed25519")
    assert json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])["conn_type"] == "aws"
    port = converged.host_vars["tripclick_kafka_port"]
    assert env["AIRFLOW_VAR_TRIPCLICK_KAFKA_BOOTSTRAP"] == (
        f"{HOST}:{port},{HOST}:{port + 10},{HOST}:{port + 20}"
    )
    assert env["AIRFLOW_VAR_TRIPCLICK_SPARK_MASTER_URL"] == (
        f"spark://{HOST}:{converged.host_vars['spark_master_port']}"
    )
    # Airflow's SSH hook reads a host key without its type as RSA: the type must lead.
    host_key = Path("/etc/ssh/ssh_host_ed25519_key.pub")
    expected = " ".join(host_key.read_text().split()[:2]) if host_key.exists() else ""
    assert spark["extra"]["host_key"] == expected
    # Airflow itself reads the connection the DAGs use, with the units' environment.
    unit = parse_unit(converged.path("etc/systemd/system/airflow-scheduler.service"))
    done = subprocess.run(
        [unit.exec_start[0], "connections", "get", "tripclick_spark_master", "-o", "json"],
        env={**unit.environment, **env, "PATH": "/usr/bin:/bin"},
        user=unit.user,
        group=unit.group,
        extra_groups=[],
        cwd=unit.working_directory,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout)[0]
    assert (got["conn_type"], got["host"], got["login"]) == ("ssh", HOST, "tripclick")


def test_spark_jobs_get_kafka_tls_the_connector_jars_and_the_gold_password(
    converged: Converge, monkeypatch
):
    env = read_environment_file(converged.path("etc/airflow/airflow.env"))
    defaults = converged.path("etc/spark/spark-defaults.conf")
    assert env["AIRFLOW_VAR_TRIPCLICK_SPARK_SUBMIT_ARGS"] == f"--properties-file {defaults}"
    assert (
        f"spark.driver.extraClassPath                     {converged.path('opt/spark/jars')}/*"
        in (defaults.read_text())
    )
    job_env = spark_job_env(converged)
    assert job_env["SPARK_CONF_DIR"] == str(converged.path("etc/spark"))
    settings = spark_job_settings(converged, monkeypatch)
    assert (settings.runtime, settings.kafka_security_protocol) == ("aws", "SSL")
    port = converged.host_vars["tripclick_kafka_port"]
    assert settings.kafka_bootstrap == f"{HOST}:{port},{HOST}:{port + 10},{HOST}:{port + 20}"
    assert (
        Path(settings.kafka_ssl_ca).read_bytes() == (converged.root / "pki" / "ca.crt").read_bytes()
    )
    assert kafka_security.spark_options(settings)["kafka.ssl.truststore.location"] == (
        settings.kafka_ssl_ca
    )
    # Who the jobs are to the brokers: a certificate of the Kafka clients' CA, named
    # tripclick-spark, for client use only, readable by the Spark group and nobody else.
    keystore = Path(settings.kafka_ssl_keystore)
    assert kafka_security.spark_options(settings)["kafka.ssl.keystore.location"] == str(keystore)
    assert (keystore.stat().st_mode & 0o777, keystore.group()) == (0o640, "spark")
    cert = x509.load_pem_x509_certificate(keystore.read_bytes())
    clients_ca = x509.load_pem_x509_certificate(
        (converged.root / "pki" / "kafka-clients" / "ca.crt").read_bytes()
    )
    assert cert.issuer == clients_ca.subject
    assert cert.subject.rfc4514_string() == "CN=tripclick-spark"
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert (settings.pg_host, settings.pg_port, settings.pg_user) == (
        HOST,
        converged.host_vars["postgresql_port"],
        "gold_loader",
    )
    password_file = settings.home / "secrets" / "pg_password"
    assert password_file.stat().st_mode & 0o077 == 0
    assert password_file.owner() == "tripclick"
    assert settings.pg_password == converged.secrets["vault_postgresql_loader_password"]


def test_pg_hba_trusts_nobody_and_admits_only_the_two_users(converged: Converge):
    rules = [
        line.split()
        for line in converged.path("etc/postgresql/15/gold/pg_hba.conf").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules, "pg_hba.conf has no rule"
    assert all(rule[-1] != "trust" for rule in rules), rules
    for rule in rules:
        if rule[0].startswith("host"):
            assert rule[1] == "tripclick"
            assert rule[3] == f"{HOST}/32", rule
            assert rule[4] == "scram-sha-256"
        else:
            assert rule[0] == "local"
    assert ["local", "all", "postgres", "peer"] in rules


# ------------------------------------------------------------------ services from their units


def test_postgresql_unit_serves_the_gold_schema_with_least_privilege(converged: Converge):
    unit = parse_unit(converged.path("etc/systemd/system/postgresql-gold.service"))
    assert unit.user == "postgres"
    port = converged.host_vars["postgresql_port"]
    running = start(unit, converged.root.parent / "services", ports=((HOST, port),))
    try:
        wait_port(running, HOST, port)
        dsn = f"host={HOST} port={port} dbname=tripclick sslmode=require connect_timeout=10"
        loader = psycopg2.connect(
            f"{dsn} user=gold_loader password={converged.secrets['vault_postgresql_loader_password']}"
        )
        loader.autocommit = True
        with loader.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS gold.acl_probe")
            cur.execute("CREATE TABLE gold.acl_probe (n int)")
            cur.execute("INSERT INTO gold.acl_probe VALUES (1)")
            cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            assert cur.fetchone()[0] is True
        reader = psycopg2.connect(
            f"{dsn} user=superset_reader password={converged.secrets['vault_postgresql_reader_password']}"
        )
        reader.autocommit = True
        with reader.cursor() as cur:
            cur.execute("SELECT n FROM gold.acl_probe")
            assert cur.fetchall() == [(1,)]
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("CREATE TABLE gold.not_allowed (n int)")
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("DELETE FROM gold.acl_probe")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(f"{dsn} user=gold_loader password=wrong")
        with loader.cursor() as cur:
            cur.execute("DROP TABLE gold.acl_probe")
        loader.close()
        reader.close()
    finally:
        stop(running)


def test_kafka_units_form_one_tls_cluster(converged: Converge, monkeypatch):
    units = [parse_unit(converged.path(f"etc/systemd/system/kafka-{n}.service")) for n in (1, 2, 3)]
    assert {u.user for u in units} == {"kafka"}
    port = converged.host_vars["tripclick_kafka_port"]
    running = [
        start(u, converged.root.parent / "services", ports=((HOST, port + 10 * n),))
        for n, u in enumerate(units)
    ]
    try:
        for n, proc in enumerate(running):
            wait_port(proc, HOST, port + 10 * n)
        # The client a Spark job on the master builds from the settings Ansible gave it.
        settings = spark_job_settings(converged, monkeypatch)
        ca = converged.root / "pki" / "ca.crt"
        context = ssl.create_default_context(cafile=str(ca))
        # The brokers ask every client for a certificate: the jobs' (key and certificate in one file).
        context.load_cert_chain(settings.kafka_ssl_keystore)
        for n in range(3):
            # A TLS handshake that verifies the broker's certificate for 127.0.0.1.
            with context.wrap_socket(
                socket.create_connection((HOST, port + 10 * n), timeout=10),
                server_hostname=HOST,
            ) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
        admin = AdminClient(
            {
                "bootstrap.servers": settings.kafka_bootstrap,
                **kafka_security.librdkafka_options(settings),
            }
        )
        deadline = time.monotonic() + 180
        brokers: dict = {}
        while time.monotonic() < deadline and len(brokers) < 3:
            try:
                brokers = admin.list_topics(timeout=10).brokers
            except KafkaException:  # the cluster is still electing its controller
                brokers = {}
            time.sleep(2)
        assert sorted(brokers) == [1, 2, 3], [r.output() for r in running]
    finally:
        for proc in running:
            stop(proc)


def test_spark_units_run_a_master_with_its_worker(converged: Converge):
    master = parse_unit(converged.path("etc/systemd/system/spark-master.service"))
    worker = parse_unit(converged.path("etc/systemd/system/spark-worker-1.service"))
    assert master.user == worker.user == "spark"
    hv = converged.host_vars
    services = converged.root.parent / "services"
    running = [start(master, services, ports=((HOST, hv["spark_master_port"]),))]
    try:
        wait_port(running[0], HOST, hv["spark_master_port"])
        running.append(start(worker, services))
        deadline = time.monotonic() + 240
        state: dict = {}
        while time.monotonic() < deadline:
            body = wait_http(running[0], f"http://{HOST}:{hv['spark_master_webui_port']}/json/")
            state = json.loads(body)
            if any(w["state"] == "ALIVE" for w in state.get("workers", [])):
                break
            assert running[1].proc.poll() is None, running[1].output()
            time.sleep(2)
        assert state["url"] == f"spark://{HOST}:{hv['spark_master_port']}"
        assert [w["state"] for w in state["workers"]] == ["ALIVE"], running[1].output()
    finally:
        for proc in reversed(running):
            stop(proc)


def test_airflow_units_serve_the_api_and_run_the_scheduler(converged: Converge):
    hv = converged.host_vars
    units = {
        name: parse_unit(converged.path(f"etc/systemd/system/airflow-{name}.service"))
        for name in ("api-server", "scheduler", "dag-processor", "triggerer")
    }
    assert {u.user for u in units.values()} == {"airflow"}
    services = converged.root.parent / "services"
    ports = {
        "api-server": ((HOST, hv["airflow_api_port"]),),
        "scheduler": ((HOST, hv["airflow_scheduler_health_port"]),),
        "triggerer": ((HOST, hv["airflow_triggerer_log_port"]),),
        "dag-processor": (),
    }
    running = {name: start(unit, services, ports=ports[name]) for name, unit in units.items()}
    try:
        wait_http(running["api-server"], f"http://{HOST}:{hv['airflow_api_port']}/api/v2/version")
        wait_http(
            running["scheduler"], f"http://{HOST}:{hv['airflow_scheduler_health_port']}/health"
        )
        wait_port(running["triggerer"], HOST, hv["airflow_triggerer_log_port"])
        # The generated administrator password opens the API; a wrong one does not.
        token_url = f"http://{HOST}:{hv['airflow_api_port']}/auth/token"
        good = json.dumps(
            {"username": "admin", "password": converged.secrets["vault_airflow_admin_password"]}
        ).encode()
        request = urllib.request.Request(
            token_url, data=good, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            assert resp.status in (200, 201)
            assert json.loads(resp.read())["access_token"]
        bad = json.dumps({"username": "admin", "password": "admin"}).encode()
        request = urllib.request.Request(
            token_url, data=bad, headers={"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401
        assert running["dag-processor"].proc.poll() is None, running["dag-processor"].output()
    finally:
        for proc in running.values():
            stop(proc)


def test_superset_unit_serves_the_imported_dashboards(converged: Converge):
    unit = parse_unit(converged.path("etc/systemd/system/superset.service"))
    assert unit.user == "superset"
    port = converged.host_vars["superset_port"]
    running = start(unit, converged.root.parent / "services", ports=((HOST, port),))
    try:
        assert wait_http(running, f"http://{HOST}:{port}/health") == b"OK"
        # The bundle's dashboards are in Superset's metadata database.
        db = converged.path("var/lib/superset/superset.db")
        with sqlite3.connect(db) as conn:
            titles = [row[0] for row in conn.execute("SELECT dashboard_title FROM dashboards")]
            uris = [row[0] for row in conn.execute("SELECT sqlalchemy_uri FROM dbs")]
        assert titles, "no dashboard was imported"
        pg_port = converged.host_vars["postgresql_port"]
        assert any("superset_reader" in uri and f":{pg_port}/" in uri for uri in uris), uris
    finally:
        stop(running)
