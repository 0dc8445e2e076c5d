"""The Docker engine the fleet runs on: started by devstack/fleet-engine.sh, driven by its CLI."""

from __future__ import annotations

import subprocess

from tripclick_devstack.fleet.hcl import REPO

ENGINE_SCRIPT = REPO / "devstack" / "fleet-engine.sh"


class FleetError(Exception):
    """A fleet step that cannot go on; printed as one line."""


def ensure_engine() -> None:
    """Install and start dockerd if it is missing or not answering (idempotent)."""
    result = subprocess.run(["bash", str(ENGINE_SCRIPT), "start"], check=False)
    if result.returncode != 0:
        raise FleetError("the Docker engine did not start; see .local/run/logs/fleet-dockerd.log")


def docker(*args: str, check: bool = True, capture: bool = False, input: str | None = None):
    """Run the docker CLI; with capture, its output is in .stdout."""
    result = subprocess.run(
        ["docker", *args],
        check=False,
        text=True,
        input=input,
        capture_output=capture,
    )
    if check and result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-1:] if capture else []
        raise FleetError(f"docker {' '.join(args[:3])} failed{': ' + detail[0] if detail else ''}")
    return result


def output(*args: str) -> str:
    return docker(*args, capture=True).stdout.strip()
