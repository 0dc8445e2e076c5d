"""Helpers of the inventory tests: the Ansible control environment's ansible-inventory."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from ansible_listing import ANSIBLE_INVENTORY, REPO


@pytest.fixture(scope="session")
def ansible_inventory(tmp_path_factory):
    """Run ``ansible-inventory --list`` over a source; returns its JSON."""
    if not ANSIBLE_INVENTORY.exists():
        pytest.fail(f"{ANSIBLE_INVENTORY} is missing: run make test (it builds the Ansible venv)")
    home = tmp_path_factory.mktemp("ansible-home")

    def run(source: Path, env: dict | None = None) -> dict:
        proc = subprocess.run(
            [str(ANSIBLE_INVENTORY), "-i", str(source), "--list"],
            env={
                **(env or os.environ),
                "ANSIBLE_HOME": str(home),
                "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true",
            },
            capture_output=True,
            text=True,
            timeout=180,
            cwd=REPO,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return _plain(json.loads(proc.stdout))

    return run


def _plain(value):
    """Drop Ansible's ``{"__ansible_unsafe": ...}`` wrapper around strings from outside sources."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
