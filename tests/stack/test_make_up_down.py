"""`make up` is idempotent and `make down` leaves nothing listening.

Runs a second stack on shifted ports in a temporary state dir, so the session's own
stack (used by the other tests) is not disturbed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tripclick import config
from tripclick_devstack.stack import process

pytestmark = pytest.mark.stack

REPO = config.REPO_ROOT


def _make(target: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_up_twice_then_down(settings):
    # Under the project's state dir, not /tmp/pytest-of-root (0700): as root the
    # database server runs as the postgres user, which must reach its data dir.
    state = Path(tempfile.mkdtemp(prefix="stack-test-", dir=settings.home))
    state.chmod(0o755)
    env = {
        **os.environ,
        "TRIPCLICK_HOME": str(state),
        "TRIPCLICK_JARS_DIR": str(settings.jars_dir),
        "TRIPCLICK_PORT_OFFSET": "211",
    }
    # The broker's JMX exporter agent (TRIPCLICK_KAFKA_METRICS_PORT) starts with it.
    ports = [19092 + 211, 19093 + 211, 19094 + 211, 15000 + 211, 15432 + 211]
    assert not any(process.port_open(p) for p in ports), "test ports already taken"
    try:
        first = _make("up", env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert all(process.port_open(p) for p in ports)
        second = _make("up", env)
        assert second.returncode == 0, second.stdout + second.stderr
        assert second.stdout.count("already running") == 3
        status = _make("status", env)
        assert status.returncode == 0 and status.stdout.count("healthy") == 3
    finally:
        down = _make("down", env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert [p for p in ports if process.port_open(p)] == []
    leftovers = subprocess.run(
        ["pgrep", "-f", str(state)], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == [], f"processes left behind: {leftovers}"
    shutil.rmtree(state, ignore_errors=True)
