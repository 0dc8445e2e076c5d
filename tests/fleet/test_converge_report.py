"""The converge report: each failure with its host and task, and the recap, from a site.yml log."""

from __future__ import annotations

import subprocess
import sys

from tripclick_devstack.fleet import converge
from tripclick_devstack.fleet.hcl import REPO

LOG = """\
TASK [common : Install the base packages.] *************************************
ok: [tripclick-dev-web-0]

TASK [spark : Ensure the virtualenv holds exactly the pinned packages.] ********
[ERROR]: Task failed: Data could not be sent to remote host "10.0.2.5". Make sure this host can be reached over ssh:
Origin: /work/main/ansible/roles/spark/tasks/install.yml:104:3
fatal: [tripclick-dev-spark-master-0]: UNREACHABLE! =>
    changed: false

TASK [kafka : Ensure the brokers accept TLS connections.] **********************
[ERROR]: Task failed: Module failed: Timeout when waiting for 10.0.2.4:9093
fatal: [tripclick-dev-kafka-0]: FAILED! =>
    changed: false

PLAY RECAP *********************************************************************
localhost                  : ok=2    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
tripclick-dev-kafka-0      : ok=52   changed=33   unreachable=0    failed=1    skipped=2    rescued=0    ignored=0
tripclick-dev-spark-master-0 : ok=32   changed=21   unreachable=1    failed=0    skipped=1    rescued=0    ignored=0
tripclick-dev-web-0        : ok=11   changed=6    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0
"""


def test_each_failure_names_its_host_and_task():
    found = converge.failures(LOG)
    assert [(f.host, f.task, f.kind) for f in found] == [
        (
            "tripclick-dev-spark-master-0",
            "spark : Ensure the virtualenv holds exactly the pinned packages.",
            "UNREACHABLE",
        ),
        ("tripclick-dev-kafka-0", "kafka : Ensure the brokers accept TLS connections.", "FAILED"),
    ]
    assert found[1].message == "Module failed: Timeout when waiting for 10.0.2.4:9093"
    assert str(found[0]).startswith(
        "tripclick-dev-spark-master-0: unreachable at task [spark : Ensure the virtualenv"
    )


def test_the_recap_counts_every_host():
    counts = converge.recap(LOG)
    assert set(counts) == {
        "localhost",
        "tripclick-dev-kafka-0",
        "tripclick-dev-spark-master-0",
        "tripclick-dev-web-0",
    }
    assert counts["tripclick-dev-kafka-0"] == {
        "ok": 52,
        "changed": 33,
        "unreachable": 0,
        "failed": 1,
    }
    assert converge.report(LOG)[-1] == (
        "4 hosts, 60 changes, failed on tripclick-dev-kafka-0, tripclick-dev-spark-master-0"
    )


def test_the_report_command_reads_a_log_and_refuses_a_missing_one(tmp_path):
    log = tmp_path / "converge.log"
    log.write_text(LOG)
    cli = [sys.executable, "-m", "tripclick_devstack.fleet", "converge-report"]
    env = {"PYTHONPATH": str(REPO / "devstack"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([*cli, str(log)], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 3 and "failed on" in done.stdout
    missing = subprocess.run(
        [*cli, str(tmp_path / "none.log")], capture_output=True, text=True, env=env, check=False
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"error: no converge log at {tmp_path / 'none.log'}; run make fleet-converge"
    ]
