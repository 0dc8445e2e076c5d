"""The aws runtime's Spark path for real: SSHOperator -> sshd -> spark-submit of a job.

An OpenSSH server on 127.0.0.1 (a throwaway host key and client key, made here) plays
the Spark master. The ``tripclick_bronze`` DAG runs with ``tripclick_runtime=aws``: its
``bronze`` task logs in with the key, runs ``spark-submit .../jobs/bronze.py --date D``
on the local stack's Kafka, and ``check_bronze`` finds the partition it wrote.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import shlex
import socket
import subprocess
import time
from pathlib import Path

import pytest
from airflow_run import REPO, run_airflow

pytestmark = [pytest.mark.stack, pytest.mark.slow]

SSHD = Path("/usr/sbin/sshd")
DATE = "2016-02-28"  # a day no other test replays onto


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sshd(tmp_path):
    if not SSHD.exists():
        pytest.fail(
            "OpenSSH server missing: run make sshd-package (apt-get install openssh-server)"
        )
    d = tmp_path / "sshd"
    d.mkdir()
    for key in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / key)], check=True
        )
    (d / "authorized_keys").write_text((d / "client_key.pub").read_text())
    port = _free_port()
    user = getpass.getuser()
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\n"
        f"PidFile {d / 'sshd.pid'}\nAuthorizedKeysFile {d / 'authorized_keys'}\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
        f"StrictModes no\nUsePAM no\nAllowUsers {user}\nLogLevel VERBOSE\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation directory
    log = (d / "sshd.log").open("w")
    proc = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(d / "sshd_config")], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"sshd did not start: {(d / 'sshd.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield {
            "port": port,
            "user": user,
            "key_file": str(d / "client_key"),
            "host_key": (d / "host_key.pub").read_text().strip(),
            "log": d / "sshd.log",
        }
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_bronze_runs_over_ssh_with_spark_submit(
    stack_services, sample_files, airflow_env, airflow_bin, sshd
):
    settings = stack_services
    # Clicks of the day in Kafka: web server 1's share of the sample, replayed onto DATE.
    web_1 = next(p for p in sample_files if p.name.endswith("_part-001.jsonl"))
    produced = subprocess.run(
        [str(REPO / ".venv" / "bin" / "tripclick"), "produce", "--mode", "realtime",
         "--input", str(web_1), "--source", "web-1", "--date", DATE, "--speed", "100000",
         "--no-progress"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert produced.returncode == 0, produced.stderr[-2000:]

    # What the master's environment would hold on AWS; here it points at the local stack.
    job_env = {k: v for k, v in os.environ.items() if k.startswith("TRIPCLICK_")}
    job_env.update(
        TRIPCLICK_HOME=str(settings.home),
        TRIPCLICK_JARS_DIR=str(settings.jars_dir),
        TRIPCLICK_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        TRIPCLICK_LAKE_ROOT=settings.lake_root,
        TRIPCLICK_SPARK_MASTER="local[1]",
    )
    conn = {
        "conn_type": "ssh",
        "host": "127.0.0.1",
        "port": sshd["port"],
        "login": sshd["user"],
        "extra": {"key_file": sshd["key_file"], "host_key": sshd["host_key"]},
    }
    env = {
        **airflow_env,
        "AIRFLOW_CONN_TRIPCLICK_SPARK_MASTER": json.dumps(conn),
        "TRIPCLICK_RUNTIME": "aws",
        "TRIPCLICK_LAKE_ROOT": settings.lake_root,
        "TRIPCLICK_SPARK_SUBMIT": str(REPO / ".venv" / "bin" / "spark-submit"),
        "TRIPCLICK_SPARK_MASTER_URL": "local[1]",
        "TRIPCLICK_SPARK_JOBS_DIR": str(REPO / "spark" / "tripclick_spark" / "jobs"),
        "TRIPCLICK_SPARK_PYTHON": str(REPO / ".venv" / "bin" / "python"),
        # On the cluster spark-defaults.conf lists the connector jars; here spark-submit does.
        "TRIPCLICK_SPARK_SUBMIT_ARGS": "--jars "
        + ",".join(sorted(str(p) for p in (settings.jars_dir / "spark").glob("*.jar"))),
        "TRIPCLICK_SPARK_ENV": " ".join(f"{k}={shlex.quote(v)}" for k, v in job_env.items()),
    }
    done = run_airflow(
        env, [str(airflow_bin / "airflow"), "dags", "test", "tripclick_bronze", DATE], 900
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-5000:]

    assert f"jobs/bronze.py --date {DATE}" in out
    assert "spark-submit --master 'local[1]'" in out
    counted = re.search(rf"bronze {DATE}: (\d+) records", out)
    assert counted, out[-5000:]
    assert int(counted.group(1)) >= 188  # every record of the day, duplicates of re-runs included
    assert re.search(rf"bronze partition .*event_date={DATE}/: [1-9]\d* parquet files", out)
    assert f"Accepted publickey for {sshd['user']}" in sshd["log"].read_text()
