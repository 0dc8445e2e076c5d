"""Terraform's alerts topic reaches Airflow as the variable tripclick_alerts_topic_arn.

The inventory is the one terraform/scripts/write_inventory.py writes from the dev outputs,
with and without the ``alerts_topic_arn`` output; ``ansible`` reads the Airflow host's
``airflow_variables`` (rendered into AIRFLOW_VAR_* by the airflow role) through the
playbooks' group_vars, contacting no host.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from ansible_tools import ANSIBLE_DIR, REPO, ansible_env, tool

OUTPUTS = REPO / "tests" / "terraform" / "fixtures" / "dev-outputs.json"
TOPIC = "arn:aws:sns:ap-northeast-2:123456789012:tripclick-dev-alerts"


def airflow_variable(tmp_path, outputs: dict, name: str) -> str:
    source, inventory = tmp_path / "outputs.json", tmp_path / "dev.yml"
    source.write_text(json.dumps(outputs))
    script = REPO / "terraform" / "scripts" / "write_inventory.py"
    subprocess.run(
        [sys.executable, str(script), str(source), "--out", str(inventory)],
        check=True,
        capture_output=True,
    )
    done = subprocess.run(
        [
            tool("ansible"),
            "-i",
            str(inventory),
            "--playbook-dir",
            str(ANSIBLE_DIR),
            "tripclick-dev-airflow-0",
            "-m",
            "debug",
            "-a",
            f"msg=value<{{{{ airflow_variables.{name} }}}}>",
        ],
        cwd=ANSIBLE_DIR,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    [value] = re.findall(r"msg: value<(.*)>", done.stdout)
    return value


@pytest.mark.parametrize(
    ("topic", "expected"),
    [(TOPIC, TOPIC), (None, "")],
    ids=["terraform-topic", "no-topic-output"],
)
def test_the_topic_arn_becomes_an_airflow_variable(tmp_path, topic, expected):
    outputs = json.loads(OUTPUTS.read_text())
    if topic:
        outputs["alerts_topic_arn"] = {"sensitive": False, "type": "string", "value": topic}
    assert airflow_variable(tmp_path, outputs, "tripclick_alerts_topic_arn") == expected
