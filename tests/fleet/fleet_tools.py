"""Commands the fleet tests run: on this machine, on a host through the jump host, and Docker's view."""

from __future__ import annotations

import subprocess

from tripclick_devstack.fleet.fleet import LABEL


def run(args: list[str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def on(fleet, key: str, command: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a shell command on a host over SSH, through the jump host as Ansible does."""
    return run(fleet.ssh_command(fleet.topology.host(key), command), timeout=timeout)


def docker_ids(kind: str, env: str) -> list[str]:
    ls = ["ps", "-aq"] if kind == "container" else [kind, "ls", "-q"]
    return run(["docker", *ls, "--filter", f"label={LABEL}={env}"]).stdout.split()
