"""Paths and a runner for the Airflow environment, shared by the DAG tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
AIRFLOW_BIN = REPO / ".local" / "venvs" / "airflow" / "bin"

# The helpers that need no Airflow (plan, commands) import in .venv too.
sys.path.insert(0, str(DAGS))

from tripclick_devstack import airflow_env as local_airflow  # noqa: E402

__all__ = ["AIRFLOW_BIN", "DAGS", "REPO", "local_airflow", "run_airflow"]


def run_airflow(
    env: dict[str, str], argv: list[str], timeout: float
) -> subprocess.CompletedProcess:
    """Run a command of the Airflow environment; output kept for the assertions."""
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
