"""Spark's own Prometheus endpoints, with the fleet's settings: a real SparkSession's UI and
a standalone master and worker.

The settings are the lines of the spark role's spark-defaults.conf template
(``spark.ui.prometheus.enabled``, ``spark.metrics.conf.*``). The session is built by
``tripclick_spark.session.build`` as every job's is, with its web UI on (the local runtime
turns it off) on a free 127.0.0.1 port. It runs in a process of its own: a JVM holds one
SparkContext, and the test session's shared one has no UI. The master and worker read the
same lines from a spark-defaults.conf in their SPARK_CONF_DIR, as on the fleet.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pyspark
from kafka_certs import free_port

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "ansible" / "roles" / "spark" / "templates" / "spark-defaults.conf.j2"


def _fleet_metrics_conf() -> dict[str, str]:
    """The Prometheus lines of the fleet's spark-defaults.conf (name, value)."""
    conf = {}
    for line in TEMPLATE.read_text().splitlines():
        if line.startswith(("spark.ui.prometheus.", "spark.metrics.conf.")):
            name, value = line.split(None, 1)
            conf[name] = value.strip()
    return conf


# Builds the session, runs a small job, then reads both endpoints from the UI.
SCRAPE = textwrap.dedent(
    """
    import json, sys, urllib.request
    from tripclick import config
    from tripclick_spark import session

    port, conf = int(sys.argv[1]), json.loads(sys.argv[2])
    spark = session.build(config.load(), "tripclick-metrics-test", master="local[1]", **conf)
    try:
        assert spark.range(10_000).selectExpr("id % 7 AS k").groupBy("k").count().count() == 7
        got = {}
        for path in ("/metrics/prometheus", "/metrics/executors/prometheus"):
            url = f"http://127.0.0.1:{port}{path}"
            with urllib.request.urlopen(url, timeout=30) as resp:
                got[path] = [resp.status, resp.headers.get("Content-Type"), resp.read().decode()]
        got["app_id"] = spark.sparkContext.applicationId
        print("SCRAPED " + json.dumps(got))
    finally:
        spark.stop()
    """
)


def test_the_driver_ui_serves_driver_and_executor_metrics_as_prometheus_text(tmp_path):
    fleet = _fleet_metrics_conf()
    assert fleet["spark.ui.prometheus.enabled"] == "true"
    assert fleet["spark.metrics.conf.*.sink.prometheusServlet.path"] == "/metrics/prometheus"
    port = free_port()
    conf = {
        **fleet,
        "spark.ui.enabled": "true",
        "spark.ui.port": str(port),
        "spark.port.maxRetries": "0",
        "spark.driver.memory": "512m",
        "spark.sql.shuffle.partitions": "2",
    }
    # SPARK_LOCAL_IP: the UI binds to it (0.0.0.0 otherwise).
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    done = subprocess.run(
        [sys.executable, "-c", SCRAPE, str(port), json.dumps(conf)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    got = json.loads(done.stdout.split("SCRAPED ", 1)[1].splitlines()[0])
    app_id = got["app_id"]

    status, ctype, driver = got["/metrics/prometheus"]
    assert status == 200 and ctype.startswith("text/plain"), (status, ctype)
    # The PrometheusServlet sink: metrics_<app id>_driver_<source>_..., typed by a label.
    prefix = "metrics_" + re.sub(r"[^a-zA-Z0-9_]", "_", app_id) + "_driver_"
    jobs = re.search(
        rf'^{re.escape(prefix)}DAGScheduler_job_allJobs_Number{{type="gauges"}} (\d+)$',
        driver,
        re.M,
    )
    assert jobs and int(jobs.group(1)) >= 1, driver[:3000]
    assert re.search(rf"^{re.escape(prefix)}BlockManager_memory_maxMem_MB_Number", driver, re.M)

    status, ctype, executors = got["/metrics/executors/prometheus"]
    assert status == 200 and ctype.startswith("text/plain"), (status, ctype)
    # One executor in local mode, the driver, with the job's tasks counted.
    tasks = re.search(
        r'^metrics_executor_totalTasks_total\{application_id="([^"]+)", '
        r'application_name="tripclick-metrics-test", executor_id="driver"\} (\d+)$',
        executors,
        re.M,
    )
    assert tasks, executors[:3000]
    assert tasks.group(1) == app_id and int(tasks.group(2)) >= 1, tasks.group(0)


def _get(url: str) -> str:
    """The Prometheus text at url; "" while the UI answers with its HTML (sink not attached yet)."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
        return text if resp.headers.get("Content-Type", "").startswith("text/plain") else ""


def _gauge(text: str, name: str) -> float | None:
    found = re.search(rf'^{re.escape(name)}{{type="gauges"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else None


def test_the_master_and_worker_uis_serve_prometheus_text(tmp_path):
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    lines = "".join(f"{name} {value}\n" for name, value in _fleet_metrics_conf().items())
    (conf_dir / "spark-defaults.conf").write_text(lines)
    spark_class = str(Path(pyspark.__file__).parent / "bin" / "spark-class")
    env = {
        **os.environ,
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_CONF_DIR": str(conf_dir),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(tmp_path),
    }
    master_port, master_ui, worker_port, worker_ui = (free_port() for _ in range(4))
    master_url = f"spark://127.0.0.1:{master_port}"
    master_args = [
        "--host",
        "127.0.0.1",
        "--port",
        str(master_port),
        "--webui-port",
        str(master_ui),
    ]
    worker_args = [
        "--host",
        "127.0.0.1",
        "--port",
        str(worker_port),
        "--webui-port",
        str(worker_ui),
    ]
    worker_args += ["--cores", "1", "--memory", "512m", "--work-dir", str(tmp_path / "work")]
    daemons = [
        [spark_class, "org.apache.spark.deploy.master.Master", *master_args],
        [spark_class, "org.apache.spark.deploy.worker.Worker", *worker_args, master_url],
    ]
    procs = []
    try:
        for i, argv in enumerate(daemons):
            log = (tmp_path / f"daemon-{i}.log").open("wb")
            procs.append(subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT))
        # The master's sink counts the worker once it has registered.
        master_metrics = f"http://127.0.0.1:{master_ui}/metrics/master/prometheus/"
        deadline = time.monotonic() + 90
        while True:
            try:
                master = _get(master_metrics)
                if _gauge(master, "metrics_master_aliveWorkers_Value") == 1:
                    break
            except OSError:
                master = ""
            assert all(p.poll() is None for p in procs), [
                (tmp_path / f"daemon-{i}.log").read_text()[-2000:] for i in range(len(procs))
            ]
            assert time.monotonic() < deadline, master[:2000]
            time.sleep(0.5)
        assert _gauge(master, "metrics_master_apps_Value") == 0, master[:2000]
        applications = _get(f"http://127.0.0.1:{master_ui}/metrics/applications/prometheus/")
        assert applications.startswith("metrics_"), applications[:2000]
        worker = _get(f"http://127.0.0.1:{worker_ui}/metrics/prometheus/")
        assert _gauge(worker, "metrics_worker_coresFree_Value") == 1, worker[:2000]
        assert _gauge(worker, "metrics_worker_memFree_MB_Value") == 512, worker[:2000]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
