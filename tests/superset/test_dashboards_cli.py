"""``tripclick dashboards``: what a person sees at the end of ``make demo``."""

from __future__ import annotations

import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack

TRIPCLICK = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "tripclick"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TRIPCLICK), "dashboards", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ,
    )


def test_check_reports_the_bundle():
    done = _run("check")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "1 databases, 16 datasets, 22 charts, 4 dashboards: every reference resolves"
    )


def test_serve_prints_the_address_and_the_admin_password(superset):
    done = _run("serve")
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(maxsplit=1) for line in done.stdout.splitlines())
    assert lines["superset"].startswith("already running")
    assert (
        lines["dashboard"]
        == f"http://127.0.0.1:{superset.port}/superset/dashboard/tripclick-daily/"
    )
    assert lines["login"] == f"admin / {superset.admin_password}"
    # The generated password is stored for the owner only.
    secret = superset.settings.home / "secrets" / "superset_admin_password"
    assert secret.stat().st_mode & 0o077 == 0
    with urllib.request.urlopen(lines["dashboard"], timeout=30) as resp:
        assert resp.status == 200  # the login page, reached through the redirect
