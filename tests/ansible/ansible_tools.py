"""The Ansible control tools as the tests run them.

Playbooks run against inventory/local (every role group on localhost); site.yml itself is
converged on the simulated fleet (tests/fleet), where its roles run under systemd.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tripclick_devstack.fleet import converge as playbook_log

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "ansible"
ANSIBLE_BIN = REPO / ".local" / "venvs" / "ansible" / "bin"
LOCAL_INVENTORY = REPO / "inventory" / "local"


def tool(name: str) -> str:
    path = ANSIBLE_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing; run: make .local/venvs/ansible/.synced (or make test)")
    return str(path)


def ansible_env() -> dict[str, str]:
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
        "PATH": f"{ANSIBLE_BIN}:{os.environ.get('PATH', '')}",
    }


def run(argv: list[str], env: dict[str, str], log: Path, timeout: float = 1800) -> str:
    """Run an Ansible tool from ansible/; its output streams to log and is returned."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        done = subprocess.run(
            argv,
            cwd=ANSIBLE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    output = log.read_text()
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv[:2])} failed (exit {done.returncode}), log {log}:\n{output[-6000:]}"
        )
    return output


def recap(output: str) -> dict[str, int]:
    """The control node's recap counts, read as the fleet's converge report reads them."""
    counts = playbook_log.recap(output).get("localhost")
    assert counts, f"no PLAY RECAP for localhost in:\n{output[-3000:]}"
    return {key: counts[key] for key in ("ok", "changed", "failed")}
