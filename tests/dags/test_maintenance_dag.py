"""The nightly maintenance DAG through Airflow on the local stack: a gold backup lands in the
lake, the live partials are pruned, and Airflow's own metadata is backed up and restores
the same dag_run rows (``airflow dags test tripclick_maintenance``).

Airflow runs here on a home and SQLite database of the module's own, so the restore
writes over nobody else's runs.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest
from airflow_run import DAGS, run_airflow

from tripclick_spark import gold_db

pytestmark = pytest.mark.stack

RUN_KEY = "dag_id, run_id, run_type, logical_date"


@pytest.fixture(scope="module")
def own_airflow(airflow_env, airflow_bin, tmp_path_factory) -> dict[str, str]:
    """Airflow's local environment on a fresh home and metadata database, migrated."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = {
        **airflow_env,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "TRIPCLICK_AIRFLOW_METADATA_URL": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "TRIPCLICK_LAKE_ROOT": str(home / "lake"),
    }
    done = run_airflow(env, [str(airflow_bin / "airflow"), "db", "migrate"], 300)
    assert done.returncode == 0, done.stderr[-3000:]
    return env


def _dag_runs(db: Path) -> list[tuple]:
    with sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True) as conn:
        return conn.execute(f"select {RUN_KEY}, state from dag_run order by {RUN_KEY}").fetchall()


def _backup_cli(env: dict[str, str], airflow_bin: Path, *args: str):
    argv = [str(airflow_bin / "python"), "-m", "tripclick_dags.airflow_backup", *args]
    return run_airflow({**env, "PYTHONPATH": str(DAGS)}, argv, 120)


def test_nightly_run_backs_up_gold_and_airflow_then_prunes(
    stack_services, own_airflow, airflow_bin
):
    gold_db.migrate(stack_services)
    home = Path(own_airflow["AIRFLOW_HOME"])
    lake = home / "lake"
    env = {
        **own_airflow,
        "AIRFLOW_VAR_TRIPCLICK_BACKUP_KEEP": "2",
        "AIRFLOW_VAR_TRIPCLICK_AIRFLOW_BACKUP_KEEP": "2",
        # A century: the path runs, but the live rows other tests of the session wrote stay
        # (what is pruned is tested in tests/spark/test_live_retention.py).
        "AIRFLOW_VAR_TRIPCLICK_LIVE_KEEP_HOURS": "876000",
    }
    done = run_airflow(
        env,
        [str(airflow_bin / "airflow"), "dags", "test", "tripclick_maintenance", "2016-01-02"],
        600,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "TRIPCLICK ALERT" not in out
    backups = sorted((lake / "backups" / "gold").glob("gold-*.dump"))
    assert len(backups) == 1 and backups[0].stat().st_size > 1000
    assert "running: " in out and "backup create --keep 2" in out
    assert "prune-live --keep-hours 876000" in out and "rows deleted" in out

    [metadata] = sorted((lake / "backups" / "airflow").iterdir())
    assert metadata.name.startswith("airflow-") and metadata.suffix == ".sqlite"
    assert f"backup {metadata}: {metadata.stat().st_size} bytes" in out
    print(f"Airflow metadata backup (SQLite): {metadata.stat().st_size} bytes")

    # The backup is a snapshot taken while the run ran: the same runs, this one unfinished.
    db = home / "airflow.db"
    live = _dag_runs(db)
    snapshot = _dag_runs(metadata)
    assert [r[:4] for r in snapshot] == [r[:4] for r in live]
    assert [r[0] for r in snapshot] == ["tripclick_maintenance"]
    assert (snapshot[0][4], live[0][4]) == ("running", "success")

    # Lose the runs, restore, and get the backup's rows back.
    with sqlite3.connect(db) as conn:
        conn.execute("delete from task_instance")
        conn.execute("delete from dag_run")
    assert _dag_runs(db) == []
    restored = _backup_cli(env, airflow_bin, "restore")
    assert restored.returncode == 0, restored.stderr
    assert f"restored Airflow's metadata from {metadata.name}" in restored.stdout
    assert _dag_runs(db) == snapshot
    print(f"restored dag_run rows: {len(snapshot)}")


def test_restore_is_refused_while_the_scheduler_of_that_home_runs(
    stack_services, own_airflow, airflow_bin
):
    # The lake on the S3 endpoint this time, under a prefix of the test's own.
    prefix = f"test-airflow-backup-{uuid.uuid4().hex[:8]}"
    env = {**own_airflow, "TRIPCLICK_LAKE_ROOT": f"s3a://{stack_services.s3_bucket}/{prefix}"}
    created = _backup_cli(env, airflow_bin, "create", "--keep", "3")
    assert created.returncode == 0, created.stderr
    db = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    before = _dag_runs(db)
    scheduler = subprocess.Popen(
        [str(airflow_bin / "airflow"), "scheduler"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        refused = _backup_cli(env, airflow_bin, "restore")
        assert scheduler.poll() is None, "the scheduler ended before the restore was tried"
    finally:
        os.killpg(scheduler.pid, signal.SIGTERM)  # the scheduler and the workers it forked
        try:
            scheduler.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(scheduler.pid, signal.SIGKILL)
            scheduler.wait()
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith(
        f"airflow-backup: error: Airflow still runs on {env['AIRFLOW_HOME']}: scheduler (pid "
    )
    assert f"scheduler (pid {scheduler.pid})" in line
    assert line.endswith("; stop its scheduler and api-server, then restore")

    # Stopped, the same restore goes through, from the S3 lake.
    try:
        restored = _backup_cli(env, airflow_bin, "restore")
        assert restored.returncode == 0, restored.stderr
        assert _dag_runs(db) == before
    finally:
        s3 = _s3(stack_services)
        listed = s3.list_objects_v2(Bucket=stack_services.s3_bucket, Prefix=f"{prefix}/")
        for obj in listed.get("Contents", []):
            s3.delete_object(Bucket=stack_services.s3_bucket, Key=obj["Key"])
    assert [o["Key"].rsplit("/", 1)[-1] for o in listed["Contents"]] == [
        created.stdout.split("/")[-1].split(":")[0]
    ]


def _s3(settings):
    import boto3

    # moto accepts any credentials; these never reach AWS.
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_in_a_task_process_the_url_airflow_hides_comes_from_the_setting(own_airflow, airflow_bin):
    # What Airflow's task supervisor does to a task's process before the task runs.
    script = (
        "import airflow.settings\n"
        "from airflow.sdk.execution_time.supervisor import block_orm_access\n"
        "block_orm_access()\n"
        "from tripclick_dags import airflow_backup\n"
        "print(airflow_backup.configured_url())\n"
    )
    argv = [str(airflow_bin / "python"), "-c", script]
    env = {**own_airflow, "PYTHONPATH": str(DAGS)}
    given = run_airflow(env, argv, 120)
    assert given.returncode == 0, given.stderr[-2000:]
    assert given.stdout.strip() == own_airflow["TRIPCLICK_AIRFLOW_METADATA_URL"]

    unset = run_airflow({**env, "TRIPCLICK_AIRFLOW_METADATA_URL": ""}, argv, 120)
    assert unset.returncode != 0
    assert "set tripclick_airflow_metadata_url" in unset.stderr
