"""Airflow's StatsD metrics reach Prometheus through the statsd exporter and its mapping.

The exporter (statsd_exporter, built by ``make statsd-exporter-package``) runs on free
127.0.0.1 ports with ``monitoring/exporters/statsd-mapping.yml``; the alert rule
AirflowDagRunFailed reads ``airflow_dagrun_duration_failed_count{dag_id}`` from it.

The failed run goes through ``airflow dags test --use-executor``. Plain ``airflow dags
test`` runs the tasks in its own process and sends their metrics (ti.finish, ti_failures),
but never the run's: ``DagRun.update_state`` times ``dagrun.duration.failed`` with the
metrics client of Airflow's core, and in that process nothing but an executor (or the
scheduler, on the fleet) sets that client up. With an executor the tasks run as on the
fleet, as LocalExecutor workers reporting to the execution API, so an api-server serving
only that API runs beside it.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_run import REPO, run_airflow

STATSD_EXPORTER = REPO / ".local" / "tools" / "bin" / "statsd_exporter"
MAPPING = REPO / "monitoring" / "exporters" / "statsd-mapping.yml"
LOGS = REPO / ".local" / "logs"


def _free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"{url} did not answer in {timeout:.0f} s; see {log}")
            time.sleep(0.3)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture
def statsd_exporter() -> Iterator[dict]:
    """The statsd exporter with the project's mapping: UDP only, both ports on 127.0.0.1."""
    if not STATSD_EXPORTER.exists():
        pytest.fail(f"{STATSD_EXPORTER} is missing; run make statsd-exporter-package")
    udp_port, web_port = _free_port(socket.SOCK_DGRAM), _free_port()
    log = LOGS / "statsd-exporter-test.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(STATSD_EXPORTER),
                f"--statsd.listen-udp=127.0.0.1:{udp_port}",
                "--statsd.listen-tcp=",
                f"--web.listen-address=127.0.0.1:{web_port}",
                f"--statsd.mapping-config={MAPPING}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{web_port}/metrics"
    try:
        _wait_http(url, proc, log, 30)
        yield {"udp_port": udp_port, "url": url}
    finally:
        _stop(proc)


SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _samples(url: str) -> dict[tuple[str, frozenset], float]:
    """The exporter's samples as Prometheus stores them (names as written), by name and labels."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    samples = {}
    for line in text.splitlines():
        if match := SAMPLE.match(line):
            name, labels, value = match.groups()
            samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples


def _value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def _names(samples: dict, prefix: str) -> set[str]:
    return {name for name, _ in samples if name.startswith(prefix)}


# What Airflow 3.3 sends for one failed try and the failed run (recorded from the run below):
# each metric under its legacy name (DAG, task and state in the name), then its bare new name.
AIRFLOW_LINES = [
    "airflow.ti.start.tripclick_silver.plan_day:1|c",
    "airflow.ti.start:1|c",
    "airflow.ti.finish.tripclick_silver.plan_day.failed:1|c",
    "airflow.ti.finish:1|c",
    "airflow.ti_failures:1|c",
    "airflow.dagrun.duration.failed.tripclick_silver:1500|ms",
    "airflow.dagrun.duration.failed:1500|ms",
    "airflow.ti.finish.tripclick_gold.stage__load.success:1|c",
]


def test_the_mapping_puts_the_dag_in_a_label_and_drops_the_bare_twins(statsd_exporter):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for line in AIRFLOW_LINES:
            sock.sendto(line.encode(), ("127.0.0.1", statsd_exporter["udp_port"]))
    deadline = time.monotonic() + 10
    while True:
        samples = _samples(statsd_exporter["url"])
        last = dict(dag_id="tripclick_gold", task_id="stage__load", state="success")
        if _value(samples, "airflow_ti_finish", **last) or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert _value(samples, "airflow_dagrun_duration_failed_count", dag_id="tripclick_silver") == 1
    # A timer in milliseconds becomes a summary in seconds.
    assert _value(samples, "airflow_dagrun_duration_failed_sum", dag_id="tripclick_silver") == 1.5
    finish = dict(dag_id="tripclick_silver", task_id="plan_day", state="failed")
    assert _value(samples, "airflow_ti_finish", **finish) == 1
    assert _value(samples, "airflow_ti_start", dag_id="tripclick_silver", task_id="plan_day") == 1
    assert _value(samples, "airflow_ti_failures") == 1
    # The bare new names carry no DAG: dropped, so no label-less series joins the DAGs' ones.
    assert _value(samples, "airflow_dagrun_duration_failed_count") is None
    assert _value(samples, "airflow_ti_finish") is None
    assert _value(samples, "airflow_ti_start") is None
    assert _value(samples, "statsd_exporter_events_actions_total", action="drop") == 3


@pytest.fixture
def execution_api(airflow_env, airflow_bin) -> Iterator[str]:
    """An api-server serving only the execution API, on a free 127.0.0.1 port: its URL."""
    port = _free_port()
    log = LOGS / "airflow-execution-api-test.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(airflow_bin / "airflow"),
                "api-server",
                "--apps",
                "execution",
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
                "-w",
                "1",
            ],
            env=airflow_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/execution/"
    try:
        _wait_http(f"{url}health", proc, log, 120)
        yield url
    finally:
        _stop(proc)


@pytest.mark.slow
def test_a_failed_dag_run_is_counted_per_dag_by_the_exporter(
    airflow_env, airflow_bin, statsd_exporter, execution_api
):
    env = {
        **airflow_env,
        "TRIPCLICK_TIME_SCALE": "2",
        # A bad setting fails plan_day on each try, before anything touches the stack.
        "AIRFLOW_VAR_TRIPCLICK_TIME_SCALE": "fast",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": execution_api,
        "AIRFLOW__METRICS__STATSD_ON": "True",
        "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__STATSD_PORT": str(statsd_exporter["udp_port"]),
        "AIRFLOW__METRICS__STATSD_PREFIX": "airflow",
    }
    argv = [str(airflow_bin / "airflow"), "dags", "test", "--use-executor"]
    done = run_airflow(env, [*argv, "tripclick_silver", "2016-03-01"], 600)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out[-4000:]
    assert "state=failed" in out, out[-4000:]

    samples = _samples(statsd_exporter["url"])
    seen = sorted(_names(samples, "airflow_"))
    failed_runs = _value(samples, "airflow_dagrun_duration_failed_count", dag_id="tripclick_silver")
    assert failed_runs is not None and failed_runs >= 1, seen
    # Two tries up for retry, the third failed for good; the stream never started.
    task = dict(dag_id="tripclick_silver", task_id="plan_day")
    assert _value(samples, "airflow_ti_finish", **task, state="up_for_retry") == 2, seen
    assert _value(samples, "airflow_ti_finish", **task, state="failed") == 1, seen
    assert _value(samples, "airflow_ti_failures") == 3, seen
    assert (
        _value(samples, "airflow_ti_start", dag_id="tripclick_silver", task_id="silver_stream")
        is None
    )
