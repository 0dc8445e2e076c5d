"""A task that fails for good retries with backoff, then logs one clear alert line.

The bad value comes from an Airflow Variable in the environment
(``AIRFLOW_VAR_TRIPCLICK_TIME_SCALE``), which wins over ``TRIPCLICK_TIME_SCALE``:
settings are read inside the running task, through Airflow's secrets backends.
"""

from __future__ import annotations

import re

from airflow_run import run_airflow


def test_bad_setting_fails_the_run_with_one_alert_line(airflow_env, airflow_bin):
    env = {
        **airflow_env,
        "TRIPCLICK_TIME_SCALE": "2",
        "AIRFLOW_VAR_TRIPCLICK_TIME_SCALE": "fast",
    }
    done = run_airflow(
        env, [str(airflow_bin / "airflow"), "dags", "test", "tripclick_silver", "2016-03-01"], 600
    )
    out = done.stdout + done.stderr
    assert done.returncode != 0
    alerts = re.findall(r"TRIPCLICK ALERT: .*", out)
    assert len(alerts) == 1, out[-4000:]
    assert re.match(
        r"TRIPCLICK ALERT: task plan_day of DAG tripclick_silver failed \(run \S+, try 3\):"
        r" SettingError: tripclick_time_scale='fast' is not a number; set a number",
        alerts[0],
    ), alerts[0]
    # The stream never started: its upstream failed.
    assert "running: " not in out
