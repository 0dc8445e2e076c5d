"""Prometheus on the fleet's airflow host (role monitoring), after `make fleet-converge` and the
fleet's day (tests/fleet/test_day.py; this file's name sorts after it and before
test_fleet.py, whose last test takes the fleet down): every exporter the roles run is a target
and up, the repository's alert rules are loaded, the brokers' JMX exporter agents serve a
broker-level metric each, and the figures the day's Spark jobs pushed to the Pushgateway
reached Prometheus.

Prometheus listens on the airflow host's loopback only, so each question is a curl on that
host. The first scrapes follow the converge by up to a scrape interval (15 s): the checks
poll for a bounded time.
"""

from __future__ import annotations

import json
import shlex
import time
import urllib.parse

import pytest
import yaml
from fleet_tools import on

from tripclick_devstack.fleet.hcl import REPO

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

PROMETHEUS = "http://127.0.0.1:9090"
WAIT = 120  # seconds: a few scrape intervals after the converge
RULES = REPO / "monitoring" / "rules" / "tripclick.rules.yml"
MONITOR = "airflow-0"  # the monitoring host's key


def api(fleet, path: str) -> dict:
    """One answer of Prometheus' HTTP API, asked on the airflow host."""
    done = on(fleet, MONITOR, f"curl -sf {shlex.quote(PROMETHEUS + path)}")
    assert done.returncode == 0, (path, done.stdout[-2000:], done.stderr[-2000:])
    reply = json.loads(done.stdout)
    assert reply["status"] == "success", reply
    return reply["data"]


def expected_targets(fleet) -> set[tuple[str, str]]:
    """(job, host label) of every target site.yml sets up: the host label is the inventory
    name (tripclick-dev-web-0), a broker's is its node id."""
    hosts = fleet.topology.hosts
    targets = {("node", h.name) for h in hosts}
    targets |= {("postgres", h.name) for h in hosts if "gold" in h.groups}
    targets |= {("spark_master", h.name) for h in hosts if "spark_master" in h.groups}
    targets |= {("kafka", str(n)) for h in hosts for n in h.kafka_node_ids}
    # On the monitoring (airflow) host: Prometheus, the Pushgateway and the statsd exporter.
    monitor = fleet.topology.host(MONITOR).name
    targets |= {(job, monitor) for job in ("prometheus", "pushgateway", "statsd")}
    return targets


def target_states(fleet) -> dict[tuple[str, str], str]:
    states = {}
    for target in api(fleet, "/api/v1/targets?state=active")["activeTargets"]:
        labels = target["labels"]
        job = labels["job"]
        key = labels.get("broker") if job == "kafka" else labels.get("host")
        states[(job, key)] = target["health"]
    return states


def polled(ask, done):
    """``ask()`` every 5 s until ``done(answer)`` or WAIT has passed; the last answer."""
    deadline = time.monotonic() + WAIT
    while True:
        answer = ask()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(5)


def test_every_exporter_is_a_target_and_up(fleet, converged):
    expected = expected_targets(fleet)
    assert len([t for t in expected if t[0] == "kafka"]) == 3, expected
    states = polled(
        lambda: target_states(fleet), lambda got: all(got.get(t) == "up" for t in expected)
    )
    down = {t: states.get(t, "absent") for t in expected if states.get(t) != "up"}
    assert down == {}, f"targets not up after {WAIT} s: {down}; all: {states}"
    assert set(states) == expected  # nothing the roles did not set up


def query(fleet, promql: str) -> list[dict]:
    return api(fleet, "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))["result"]


def test_the_postgresql_exporter_reaches_the_gold_database(fleet, converged):
    # A scrape succeeds whether or not the exporter could log in: pg_up says it did, as the
    # pg_monitor role over the local socket.
    values = polled(
        lambda: [float(r["value"][1]) for r in query(fleet, 'pg_up{job="postgres"}')],
        lambda got: got == [1.0],
    )
    assert values == [1.0]


def test_the_repositorys_alert_rules_are_loaded(fleet, converged):
    wanted = {
        rule["alert"]
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    loaded = {
        rule["name"]
        for group in api(fleet, "/api/v1/rules?type=alert")["groups"]
        for rule in group["rules"]
    }
    assert loaded == wanted


def test_each_broker_serves_its_partition_count(fleet, converged):
    result = polled(
        lambda: query(fleet, "kafka_server_replicamanager_partitioncount"),
        lambda got: {r["metric"].get("broker") for r in got} == {"1", "2", "3"},
    )
    per_broker = {r["metric"].get("broker"): float(r["value"][1]) for r in result}
    assert set(per_broker) == {"1", "2", "3"}, result
    # Each broker leads or follows partitions of the platform topic (3 partitions, 3 copies).
    assert all(count >= 3 for count in per_broker.values()), per_broker


def test_the_days_figures_pushed_by_the_spark_jobs_reach_prometheus(fleet, converged):
    # The day test ran 2016-01-01 through Airflow; its reconciliation, on the Spark master,
    # pushed to the Pushgateway on the airflow host (the spark group's one flow to it).
    day = "2016-01-01"
    passed = polled(
        lambda: query(fleet, f'tripclick_reconciliation_passed{{event_date="{day}"}}'), bool
    )
    assert [float(r["value"][1]) for r in passed] == [1.0], passed
    assert passed[0]["metric"]["job"] == "tripclick_pipeline", passed
    layers = {
        r["metric"]["layer"]: float(r["value"][1])
        for r in query(fleet, f'tripclick_layer_records{{event_date="{day}"}}')
    }
    assert layers.get("gold") == 562, layers  # the sample day's clicks, as gold counted them


def test_airflows_statsd_metrics_of_the_day_reach_prometheus(fleet, converged):
    # The scheduler times each finished run (dagrun.duration.<state>.<dag_id>) and sends it by
    # StatsD to the exporter beside it; the day test's run of the daily DAG succeeded.
    runs = polled(
        lambda: query(
            fleet, 'airflow_dagrun_duration_success_count{dag_id="tripclick_daily_pipeline"}'
        ),
        bool,
    )
    assert runs and float(runs[0]["value"][1]) >= 1, runs
    assert runs[0]["metric"]["job"] == "statsd", runs
