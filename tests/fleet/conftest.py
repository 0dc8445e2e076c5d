"""The dev fleet, brought up once per session and removed at its end.

A fleet that was already up when the session started (someone's converged fleet) is used as
found and left up: the test that takes the fleet down is then skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tripclick_devstack.fleet.fleet import LABEL, Fleet

ENV = "dev"


def _running(env: str) -> bool:
    if shutil.which("docker") is None:
        return False
    result = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label={LABEL}={env}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return bool(result.stdout.strip())


@pytest.fixture(scope="session")
def fleet():
    if os.geteuid() != 0:
        pytest.skip("the fleet needs root (dockerd, iptables, mmdebstrap)")
    was_up = _running(ENV)
    fleet = Fleet(ENV, log=lambda message: print(f"fleet: {message}"))
    fleet.up()
    fleet.was_up = was_up
    yield fleet
    if not was_up:
        fleet.down()
