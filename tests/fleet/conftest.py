"""The dev fleet, brought up once per session and removed at its end, and site.yml
converged over it twice (`make fleet-converge`).

A fleet that was already up when the session started (someone's converged fleet) is used as
found and left up: the test that takes the fleet down is then skipped.

Nothing here uses the local stack, so these tests run beside the rest of the suite, whose
tests stop and start that stack's services.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass

import pytest
import yaml

from tripclick_devstack.fleet import converge
from tripclick_devstack.fleet.fleet import LABEL, Fleet
from tripclick_devstack.fleet.hcl import REPO

ANSIBLE_BIN = REPO / ".local" / "venvs" / "ansible" / "bin"

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


@dataclass
class Converge:
    """One `make fleet-converge`: its log, exit code, duration and recap."""

    log: str
    returncode: int
    seconds: float

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        return converge.recap(self.log)


def make_converge() -> Converge:
    started = time.monotonic()
    done = subprocess.run(
        ["make", "--no-print-directory", "fleet-converge", f"ENV={ENV}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    return Converge(done.stdout + done.stderr, done.returncode, time.monotonic() - started)


@pytest.fixture(scope="session")
def converged(fleet) -> list[Converge]:
    """site.yml over the fleet twice, by `make fleet-converge` as a user runs it."""
    runs = []
    for n in (1, 2):
        run = make_converge()
        runs.append(run)
        print(f"converge {n}: {run.seconds:.0f} s, exit {run.returncode}")
        if run.returncode != 0:
            pytest.fail(
                f"converge {n} failed (exit {run.returncode}):\n"
                + "\n".join(converge.report(run.log))
                + "\n"
                + run.log[-4000:]
            )
    timings = fleet.paths.root / "converge-seconds.json"
    timings.write_text(json.dumps([round(r.seconds, 1) for r in runs]))
    return runs


@pytest.fixture(scope="session")
def secrets(converged) -> dict[str, str]:
    """The fleet's vault, decrypted as Ansible reads it."""
    vault = REPO / ".local" / "secrets" / f"ansible-vault-fleet-{ENV}.yml"
    password = REPO / ".local" / "secrets" / f"vault-password-fleet-{ENV}"
    done = subprocess.run(
        [
            str(ANSIBLE_BIN / "ansible-vault"),
            "view",
            "--vault-password-file",
            str(password),
            str(vault),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return yaml.safe_load(done.stdout)
