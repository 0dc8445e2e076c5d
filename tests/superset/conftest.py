"""Fixtures of the Superset tests: gold marts filled from the sample day, a Superset server.

The server runs on 127.0.0.1 at ``TRIPCLICK_SUPERSET_PORT`` from its own virtualenv; the
fixture stops it at the end unless it was already running before the tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
import requests
from tripclick import cli
from tripclick.dashboards.server import ADMIN_USER, VENV, Superset
from tripclick.errors import UserError

sys.path.insert(0, str(Path(__file__).parent))
import gold_sample

REPO = Path(__file__).resolve().parents[2]
TRIPCLICK = REPO / ".venv" / "bin" / "tripclick"
MARTS = (
    "mart_daily_traffic",
    "mart_session_analysis",
    "mart_clinical_areas",
    "mart_popular_documents",
)


def _tripclick(*args: str, timeout: float = 900) -> None:
    done = subprocess.run(
        [str(TRIPCLICK), *args], capture_output=True, text=True, timeout=timeout, env=os.environ
    )
    if done.returncode != 0:
        pytest.fail(f"tripclick {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def gold_marts(stack_services, sample_files):
    """The four gold marts, holding the sample day (2016-01-01); yields a connection."""
    settings = stack_services
    has_gold = "gold" in cli.COMMAND_MODULES
    has_run_day = "run_day" in cli.COMMAND_MODULES or "pipeline" in cli.COMMAND_MODULES
    if has_gold:
        _tripclick("gold", "migrate")
    conn = psycopg2.connect(settings.pg_dsn)
    if has_run_day:
        _tripclick("run-day", "--input", *map(str, sample_files))
    else:
        # The daily Spark run is not wired up here: derive the marts with plain SQL.
        gold_sample.fill(conn, sample_files, create_tables=not has_gold)
    print(f"gold marts: migration={'tripclick gold migrate' if has_gold else 'test DDL'}, "
          f"rows={'tripclick run-day' if has_run_day else 'SQL over the sample'}")  # fmt: skip
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def superset(gold_marts, settings):
    """Superset with the bundle imported, serving on 127.0.0.1."""
    if not (VENV / "bin" / "superset").exists():
        pytest.fail(f"Superset's virtualenv is missing ({VENV}); run make dashboards")
    server = Superset(settings)
    try:
        server.import_dashboards()
        was_running = server.pid() is not None and server.is_healthy()
        server.ensure_started()
    except UserError as err:
        pytest.fail(f"Superset did not start: {err}")
    yield server
    if not was_running:
        server.stop()


@pytest.fixture(scope="session")
def api(superset) -> requests.Session:
    """A requests session logged in to Superset's REST API as the admin."""
    session = requests.Session()
    resp = session.post(
        f"{superset.url}/api/v1/security/login",
        json={
            "username": ADMIN_USER,
            "password": superset.admin_password,
            "provider": "db",
            "refresh": False,
        },
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
    csrf = session.get(f"{superset.url}/api/v1/security/csrf_token/", timeout=30)
    session.headers["X-CSRFToken"] = csrf.json()["result"]
    session.headers["Referer"] = superset.url
    return session


def list_objects(api: requests.Session, superset: Superset, kind: str, columns: list[str]):
    """Every object of a kind (chart, dataset, dashboard, database) via the REST API."""
    query = json.dumps({"page_size": 100, "columns": columns})
    resp = api.get(f"{superset.url}/api/v1/{kind}/", params={"q": query}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]
