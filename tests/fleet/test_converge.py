"""site.yml converged over the simulated fleet by `make fleet-converge`, twice.

The first run installs everything under real systemd; the second must change nothing. Each
service is then probed the way its users reach it: the brokers over TLS, asking every client
for a certificate and holding each principal to its ACLs, the Spark master with its
workers, Airflow's API on its PostgreSQL metadata through the jump host's tunnel, the gold
database over verified TLS from the Spark host only, Superset's login from the jump host
(the tunnel's path), and Docker's TLS API refusing a client without a certificate or with
any certificate but Airflow's.
"""

from __future__ import annotations

import json
import re
import shlex
import socket
import ssl
import urllib.request

import pytest
from fleet_tools import on

from tripclick_devstack.fleet import hcl
from tripclick_devstack.fleet.access import Access

# The first test waits for both converges (a fresh one takes about 17 min on 2 cores).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

# The units each role leaves running, by host (Terraform's dev fleet).
UNITS = {
    "web-0": ["docker"],
    "web-1": ["docker"],
    "kafka-0": ["kafka-1", "kafka-2", "kafka-3"],
    "spark-master-0": ["spark-master", "spark-worker-1", "spark-worker-2"],
    "airflow-0": [
        "postgresql",
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    ],
    "gold-0": ["postgresql-gold", "superset"],
}
# Every DAG of dags/ (each file is named for its DAG).
DAGS = {path.stem for path in (hcl.REPO / "dags").glob("tripclick_*.py")}


def ip(fleet, key: str) -> str:
    return fleet.host_ips()[key][0]


def ok(result) -> str:
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:])
    return result.stdout


def test_every_host_converges_without_a_failure(fleet, converged):
    first = converged[0].recap
    assert len(first) == 7, first  # six hosts and the control node (the PKI and the wheels)
    assert all(c["failed"] == 0 and c["unreachable"] == 0 for c in first.values()), first
    if not fleet.was_up:  # a fresh fleet: the first converge installs everything
        assert sum(c["changed"] for c in first.values()) > 100, first


def test_a_second_converge_changes_nothing(converged):
    second = converged[1].recap
    changed = {host: c["changed"] for host, c in second.items() if c["changed"]}
    assert changed == {}, "\n".join(
        line for line in converged[1].log.splitlines() if line.startswith("changed:")
    )


def test_each_unit_is_enabled_and_active(fleet, converged):
    for key, units in UNITS.items():
        out = on(
            fleet,
            key,
            f"systemctl is-active {' '.join(units)}; systemctl is-enabled {' '.join(units)}",
        )
        states = out.stdout.split()
        assert states == ["active"] * len(units) + ["enabled"] * len(units), (key, units, out)


def test_three_brokers_over_tls_hold_the_topic_with_three_partitions(fleet, converged):
    kafka = ip(fleet, "kafka-0")
    # The role's own way to run Kafka's tools (the Maven install has the jars, no scripts),
    # with its client settings: TLS, trusting the platform CA.
    java = (
        "sudo -n sh -c 'exec /usr/lib/jvm/java-17-openjdk-amd64/bin/java "
        '-cp "$(ls -d /opt/kafka/kafka_*)/libs/*" '
        '-Dlog4j2.configurationFile=/etc/kafka/log4j2.properties org.apache.kafka.tools.$0 "$@"\' '
    )
    common = f"--bootstrap-server {kafka}:9093 --command-config /etc/kafka/client-ssl.properties"
    versions = ok(on(fleet, "kafka-0", f"{java}BrokerApiVersionsCommand {common}", 180))
    assert sorted(set(re.findall(r"\(id: (\d+) rack", versions))) == ["1", "2", "3"], versions
    described = ok(
        on(
            fleet,
            "kafka-0",
            f"{java}TopicCommand {common} --describe --topic tripclick_raw_logs",
            180,
        )
    )
    # The tool logs to stdout too; the topic's summary line starts with Topic:.
    head = next(line for line in described.splitlines() if line.startswith("Topic:"))
    assert "PartitionCount: 3" in head, described
    assert int(re.search(r"ReplicationFactor: (\d+)", head).group(1)) >= 2, described


# What a client may do on the topic, as the brokers tell it (describe with the authorized
# operations), run with the Spark venv's librdkafka on the Spark master as the jobs' user.
ACCESS_PROBE = """
import sys
from confluent_kafka import KafkaException, TopicCollection
from confluent_kafka.admin import AdminClient
conf = {"bootstrap.servers": sys.argv[1], "security.protocol": "SSL",
        "ssl.ca.location": "/etc/spark/kafka-ca.crt", "socket.timeout.ms": 10000}
if sys.argv[3]:
    conf |= {"ssl.certificate.location": sys.argv[3], "ssl.key.location": sys.argv[3]}
topic = sys.argv[2]
admin = AdminClient(conf)  # kept: a client collected before its answer ends it (_DESTROY)
try:
    got = admin.describe_topics(
        TopicCollection([topic]), include_authorized_operations=True, request_timeout=15
    )[topic].result(timeout=20)
    print(" ".join(sorted(op.name for op in got.authorized_operations)))
except KafkaException as err:
    print("refused", err.args[0].name())
"""


def test_kafka_asks_every_client_for_a_certificate_and_holds_each_principal_to_its_acls(
    fleet, converged
):
    kafka = f"{ip(fleet, 'kafka-0')}:9093"
    probe = (
        f"sudo -n -u tripclick /opt/spark/venv/bin/python -c {shlex.quote(ACCESS_PROBE)} "
        f"{kafka} tripclick_raw_logs"
    )
    # The jobs' certificate: read and describe the topic, nothing else.
    assert ok(on(fleet, "spark-master-0", f"{probe} /etc/spark/kafka-client.pem", 120)).split() == [
        "DESCRIBE",
        "READ",
    ]
    # No certificate: the brokers end the handshake.
    refused = ok(on(fleet, "spark-master-0", f"{probe} ''", 120))
    assert refused.startswith("refused"), refused
    # The ACLs as the admin lists them: the producers write, Spark reads.
    java = (
        "sudo -n sh -c 'exec /usr/lib/jvm/java-17-openjdk-amd64/bin/java "
        '-cp "$(ls -d /opt/kafka/kafka_*)/libs/*" '
        '-Dlog4j2.configurationFile=/etc/kafka/log4j2.properties org.apache.kafka.tools.$0 "$@"\' '
    )
    listed = ok(
        on(
            fleet,
            "kafka-0",
            f"{java}AclCommand --bootstrap-server {kafka} --command-config "
            "/etc/kafka/client-ssl.properties --list --topic tripclick_raw_logs",
            180,
        )
    )
    grants = set(
        re.findall(
            r"principal=User:([\w-]+), host=\*, operation=(\w+), permissionType=ALLOW", listed
        )
    )
    assert grants == {
        ("tripclick-producer", "WRITE"),
        ("tripclick-producer", "DESCRIBE"),
        ("tripclick-spark", "READ"),
        ("tripclick-spark", "DESCRIBE"),
    }, listed


def test_the_spark_master_has_its_two_workers(fleet, converged):
    master = ip(fleet, "spark-master-0")
    state = json.loads(ok(on(fleet, "spark-master-0", f"curl -sf http://{master}:8080/json/")))
    assert state["url"] == f"spark://{master}:7077"
    assert [w["state"] for w in state["workers"]] == ["ALIVE", "ALIVE"], state["workers"]


@pytest.fixture(scope="module")
def airflow_url(fleet, converged):
    """Airflow's API as an operator reaches it: through the jump host's SSH tunnel (no
    security group admits a browser to it)."""
    with Access(fleet).tunnel(ip(fleet, "airflow-0"), 8080) as port:
        yield f"http://127.0.0.1:{port}"


def airflow_api(base: str, path: str, token: str | None = None, body: dict | None = None) -> dict:
    url = f"{base}{path}"
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def test_airflow_is_healthy_on_postgresql_with_every_dag_loaded_and_unpaused(
    fleet, converged, secrets, airflow_url
):
    # Not straight from the operator's address: only SSH is open to it.
    with pytest.raises(OSError):
        socket.create_connection((ip(fleet, "airflow-0"), 8080), timeout=5).close()
    health = airflow_api(airflow_url, "/api/v2/monitor/health")
    assert health["metadatabase"]["status"] == "healthy", health
    assert health["scheduler"]["status"] == "healthy", health
    token = airflow_api(
        airflow_url,
        "/auth/token",
        body={"username": "admin", "password": secrets["vault_airflow_admin_password"]},
    )["access_token"]
    dags = {d["dag_id"]: d for d in airflow_api(airflow_url, "/api/v2/dags", token)["dags"]}
    assert set(dags) >= DAGS, sorted(dags)
    assert [d for d in DAGS if dags[d]["is_paused"]] == []
    # The metadata is in the host's PostgreSQL (peer login as the airflow user), not SQLite.
    rows = ok(
        on(fleet, "airflow-0", "sudo -n -u airflow psql -d airflow -tAc 'select dag_id from dag'")
    )
    assert set(rows.split()) >= DAGS, rows
    sqlite = on(fleet, "airflow-0", "sudo -n find / -xdev -name 'airflow.db' -print -quit")
    assert sqlite.stdout.strip() == ""


LOADER = (
    "import psycopg2, sys; c = psycopg2.connect(host=sys.argv[1], port=5432, dbname='tripclick', "
    "user='gold_loader', password=sys.argv[2], sslmode='verify-full', sslrootcert=sys.argv[3], "
    "connect_timeout=5); print(c.info.ssl_in_use, c.cursor().connection.server_version)"
)


def test_the_gold_database_admits_the_loader_over_verified_tls_from_spark_only(
    fleet, converged, secrets
):
    gold = ip(fleet, "gold-0")
    password = secrets["vault_postgresql_loader_password"]
    connect = (
        f"/opt/spark/venv/bin/python -c {shlex.quote(LOADER)} {gold} {shlex.quote(password)} "
        "/etc/spark/kafka-ca.crt"
    )
    assert ok(on(fleet, "spark-master-0", connect)).split()[0] == "True"
    probe = f"timeout 4 bash -c '</dev/tcp/{gold}/5432' && echo open || echo closed"
    # web -> gold:5432 and airflow -> gold:5432 are in no security group rule.
    assert on(fleet, "web-0", probe).stdout.strip() == "closed"
    assert on(fleet, "airflow-0", probe).stdout.strip() == "closed"


def test_the_reader_may_only_read_gold_and_no_rule_trusts_a_client(fleet, converged):
    # Asked of the server itself (peer login as postgres): what superset_reader may do.
    grants = ok(
        on(
            fleet,
            "gold-0",
            'sudo -n -u postgres psql -d tripclick -tAc "'
            "select has_schema_privilege('superset_reader', 'gold', 'CREATE'), "
            "count(*) filter (where privilege_type <> 'SELECT') "
            "from information_schema.role_table_grants where grantee = 'superset_reader'\"",
        )
    )
    assert grants.strip() == "f|0", grants
    hba = ok(on(fleet, "gold-0", "sudo -n cat /etc/postgresql/15/gold/pg_hba.conf"))
    rules = [line.split() for line in hba.splitlines() if line.strip() and line[0] != "#"]
    assert rules and all(rule[-1] != "trust" for rule in rules), rules
    assert all(rule[-1] == "scram-sha-256" for rule in rules if rule[0].startswith("host")), rules


# The files that hold a secret, by host.
SECRET_FILES = {
    "airflow-0": {"/etc/airflow/airflow.env"},
    "gold-0": {"/etc/superset/superset_config.py"},
    "kafka-0": {f"/etc/kafka/broker-{n}/server.properties" for n in (1, 2, 3)},
    "spark-master-0": {"/etc/spark/kafka-client.pem", "/var/lib/tripclick/secrets/pg_password"},
}


def test_no_file_that_holds_a_secret_is_world_readable(fleet, converged):
    seen = {}  # path: (mode, group), as stat prints them on its host
    for key, paths in SECRET_FILES.items():
        out = ok(on(fleet, key, f"sudo -n stat -c '%a %G %n' {' '.join(sorted(paths))}"))
        stats = [line.split() for line in out.splitlines()]
        assert {path for _, _, path in stats} == paths, out
        seen |= {path: (int(mode, 8), group) for mode, group, path in stats}
    assert all(mode & 0o007 == 0 for mode, _ in seen.values()), seen
    # The jobs' Kafka key: the Spark group reads it; the gold password: its owner alone.
    assert seen["/etc/spark/kafka-client.pem"] == (0o640, "spark"), seen
    assert seen["/var/lib/tripclick/secrets/pg_password"][0] & 0o077 == 0, seen


def test_superset_logs_the_admin_in_from_the_jump_host(fleet, converged, secrets):
    gold = ip(fleet, "gold-0")
    body = json.dumps(
        {
            "username": "admin",
            "password": secrets["vault_superset_admin_password"],
            "provider": "db",
            "refresh": False,
        }
    )
    login = ok(
        on(
            fleet,
            "airflow-0",
            f"curl -sf -H 'Content-Type: application/json' -d {shlex.quote(body)} "
            f"http://{gold}:8088/api/v1/security/login",
        )
    )
    assert json.loads(login)["access_token"]
    # Superset's own metadata is a database of the gold PostgreSQL, not SQLite.
    tables = ok(
        on(
            fleet,
            "gold-0",
            'sudo -n -u superset psql -d superset -tAc "select count(*) from dashboards"',
        )
    )
    assert int(tables.strip()) >= 1


def test_docker_tls_api_refuses_a_client_without_a_certificate(fleet, converged):
    web = ip(fleet, "web-0")
    tls = "/etc/airflow/docker-tls"
    url = f"https://{web}:2376/version"
    refused = on(fleet, "airflow-0", f"sudo -n curl -s --cacert {tls}/ca.pem {url}; echo rc=$?")
    assert "rc=0" not in refused.stdout, refused.stdout
    accepted = ok(
        on(
            fleet,
            "airflow-0",
            f"sudo -n curl -sf --cacert {tls}/ca.pem --cert {tls}/cert.pem --key {tls}/key.pem {url}",
        )
    )
    assert json.loads(accepted)["ApiVersion"]


def test_docker_refuses_the_platforms_server_keys_as_client_certificates(fleet, converged):
    """A Kafka broker's or PostgreSQL's key is no Docker client: the daemons obey only the
    Docker clients' CA, which signs Airflow's certificate and nothing else."""
    pki = hcl.REPO / ".local" / "pki" / "dev"
    keys = [next((pki / "issued").glob(f"{kind}-*.key")) for kind in ("kafka", "postgresql")]
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    web = ip(fleet, "web-0")
    # From the jump host, the only host the security groups let reach 2376.
    with Access(fleet).tunnel(web, 2376) as port:
        for key in keys:
            context.load_cert_chain(key.with_suffix(".crt"), key)
            with (
                pytest.raises((ssl.SSLError, ConnectionError)),
                context.wrap_socket(
                    socket.create_connection(("127.0.0.1", port), timeout=10),
                    server_hostname=web,
                ) as tls,
            ):
                tls.sendall(f"GET /version HTTP/1.1\r\nHost: {web}\r\n\r\n".encode())
                if not tls.recv(4096):  # the daemon closed without a word
                    raise ConnectionError("closed")


def test_the_producer_image_runs_on_each_web_host_without_a_registry(fleet, converged):
    for key in ("web-0", "web-1"):
        out = ok(
            on(
                fleet,
                key,
                "sudo -n docker run --rm --network none tripclick-producer:latest --help; "
                "sudo -n docker run --rm --network none --entrypoint sh tripclick-producer:latest "
                "-c 'id -u; touch $TRIPCLICK_HOME/writable && echo writable'; "
                "ls /data/tripclick",
                180,
            )
        )
        assert "produce" in out and "10001" in out and "writable" in out, out
        assert re.search(r"2016-01-01_part-00\d\.jsonl", out), out
