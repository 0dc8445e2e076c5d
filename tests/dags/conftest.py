"""Fixtures of the DAG tests: Airflow runs in its own environment, as a subprocess.

The pytest environment (.venv) never imports Airflow; it drives the Airflow
environment's ``airflow`` and ``python`` with the local runtime's settings.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from airflow_run import AIRFLOW_BIN, local_airflow, run_airflow


@pytest.fixture(scope="session")
def airflow_bin() -> Path:
    if not (AIRFLOW_BIN / "airflow").exists():
        pytest.fail(
            f"Airflow is not installed in {AIRFLOW_BIN.parent}; run make test (or make airflow-setup)"
        )
    return AIRFLOW_BIN


@pytest.fixture(scope="session")
def airflow_env(settings, airflow_bin) -> dict[str, str]:
    """The environment of Airflow on the local runtime, with its metadata DB migrated."""
    env = {**os.environ, **local_airflow.environment(settings)}
    Path(env["AIRFLOW_HOME"]).mkdir(parents=True, exist_ok=True)
    done = run_airflow(env, [str(airflow_bin / "airflow"), "db", "migrate"], 300)
    assert done.returncode == 0, (
        f"airflow db migrate failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return env
