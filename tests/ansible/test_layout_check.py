"""site.yml's first play: Terraform's ports and broker layout against the playbooks' own.

The inventory is the one terraform/scripts/write_inventory.py writes from the dev outputs;
the play (ansible/layout_check.yml, imported first by site.yml) contacts no host, and stops
the converge on the first disagreement, naming both sides.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from ansible_tools import ANSIBLE_DIR, REPO, ansible_env, tool

OUTPUTS = REPO / "tests" / "terraform" / "fixtures" / "dev-outputs.json"


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    path = tmp_path_factory.mktemp("layout") / "dev.yml"
    script = REPO / "terraform" / "scripts" / "write_inventory.py"
    subprocess.run(
        [sys.executable, str(script), str(OUTPUTS), "--out", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def check(inventory, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("ansible-playbook"), "-i", str(inventory), "layout_check.yml", *extra],
        cwd=ANSIBLE_DIR,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_terraform_and_playbooks_agree_on_the_dev_layout(inventory):
    done = check(inventory)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Assert the ports and brokers" in done.stdout


@pytest.mark.parametrize(
    "override, named",
    [
        ({"postgresql_port": 5433}, "'postgres': 5433"),
        ({"tripclick_kafka_port_step": 20}, "'kafka_port_step': 20"),
        ({"tripclick_kafka_broker_count": 2}, "Brokers: Terraform"),
    ],
)
def test_a_disagreement_stops_the_converge_naming_both_sides(inventory, override, named):
    done = check(inventory, "-e", json.dumps(override))
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "Terraform and the playbooks disagree" in out and named in out, out[-3000:]
