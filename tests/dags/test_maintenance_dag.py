"""The nightly maintenance DAG through Airflow on the local stack: a backup lands in the
lake and the live partials are pruned (``airflow dags test tripclick_maintenance``)."""

from __future__ import annotations

import pytest
from airflow_run import run_airflow

from tripclick_spark import gold_db

pytestmark = pytest.mark.stack


def test_nightly_run_backs_up_gold_then_prunes(stack_services, airflow_env, airflow_bin, tmp_path):
    gold_db.migrate(stack_services)
    lake = tmp_path / "lake"
    env = {
        **airflow_env,
        "TRIPCLICK_LAKE_ROOT": str(lake),
        "AIRFLOW_VAR_TRIPCLICK_BACKUP_KEEP": "2",
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
