"""Fixtures of the Superset tests: gold and live marts filled from the sample day, a Superset server.

The server runs on 127.0.0.1 at ``TRIPCLICK_SUPERSET_PORT`` from its own virtualenv; the
fixture stops it at the end unless it was already running before the tests.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests

from tripclick.errors import UserError
from tripclick_devstack.dashboards.server import ADMIN_USER, VENV, Superset

REPO = Path(__file__).resolve().parents[2]
TRIPCLICK = REPO / ".venv" / "bin" / "tripclick"
# The day of the TripClick sample, the one ``tripclick run-day`` loads here.
SAMPLE_DATE = "2016-01-01"


def _tripclick(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> None:
    done = subprocess.run(
        [str(TRIPCLICK), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        pytest.fail(f"tripclick {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="session")
def sample_date() -> str:
    return SAMPLE_DATE


@pytest.fixture(scope="session")
def gold_schema(stack_services):
    """The gold schema after ``tripclick gold migrate``; yields a connection to it."""
    _tripclick("gold", "migrate")
    conn = psycopg2.connect(**stack_services.pg_params)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def superset_lake(tmp_path_factory) -> Path:
    """The lake of the sample day the dashboards show."""
    return tmp_path_factory.mktemp("lake")


@pytest.fixture(scope="session")
def gold_marts(gold_schema, stack_services, sample_files, superset_lake):
    """The marts filled by ``tripclick run-day`` with the sample day (2016-01-01).

    The run gets a topic and a lake of its own, so records other tests produced on the
    shared broker cannot reach it; the gold database is the shared one Superset reads.
    """
    from kafka.admin import KafkaAdminClient, NewTopic

    topic = f"tripclick_raw_logs_superset_{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=stack_services.kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 3, replication_factor=1)])
        _tripclick(
            "run-day", "--input", *map(str, sample_files),
            env={"TRIPCLICK_TOPIC": topic,
                 "TRIPCLICK_LAKE_ROOT": str(superset_lake)},
        )  # fmt: skip
    finally:
        admin.delete_topics([topic])
        admin.close()
    return gold_schema


@pytest.fixture(scope="session")
def live_marts(gold_marts, superset_lake):
    """The live marts of the sample day, batch by batch from its silver, plus one crawler."""
    done = subprocess.run(
        [str(REPO / ".venv" / "bin" / "python"), str(Path(__file__).with_name("live_fill.py")),
         SAMPLE_DATE],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "TRIPCLICK_LAKE_ROOT": str(superset_lake)},
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"filling the live marts failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    yield gold_marts
    from tripclick_spark.live_marts import PARTIALS

    # The crawler's date is test data only: its day partials too, or serving would keep
    # answering 2099-12-31 from the speed layer.
    with gold_marts, gold_marts.cursor() as cur:
        for table in PARTIALS:
            cur.execute(f"DELETE FROM gold.{table} WHERE event_date = '2099-12-31'")


@pytest.fixture(scope="session")
def serving_days(gold_marts, superset_lake, settings):
    """The serving layer with a date from each source after every published one
    (serving_fill.py). Yields {"batch": the date gold published, "speed": the date only
    the speed layer has}."""
    from serving_fill import clean, next_dates

    published, speed = next_dates(settings, SAMPLE_DATE)
    clean(settings, published, speed)
    try:
        done = subprocess.run(
            [str(REPO / ".venv" / "bin" / "python"),
             str(Path(__file__).with_name("serving_fill.py")), SAMPLE_DATE, published, speed],
            capture_output=True, text=True, timeout=600,
            env={**os.environ, "TRIPCLICK_LAKE_ROOT": str(superset_lake)},
        )  # fmt: skip
        if done.returncode != 0:
            pytest.fail(f"filling the serving layer failed:\n{done.stdout}\n{done.stderr[-3000:]}")
        yield {"batch": published, "speed": speed}
    finally:
        clean(settings, published, speed)


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
