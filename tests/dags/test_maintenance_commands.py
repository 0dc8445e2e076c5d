"""The commands of the nightly maintenance DAG, for both runtimes (no Airflow imported)."""

from __future__ import annotations

import shlex

import airflow_run  # noqa: F401  (puts dags/ on the path)
import pytest

from tripclick_dags import aws_runner, commands
from tripclick_dags.settings import SettingError, load


def test_local_commands_are_the_tripclick_cli():
    assert commands.backup_gold(7).argv == ["backup", "create", "--keep", "7"]
    assert commands.prune_live(48).argv == ["prune-live", "--keep-hours", "48"]
    assert commands.backup_gold(7).job is None  # not a spark-submit


def test_aws_runs_the_ops_module_on_the_spark_master_with_the_job_environment():
    settings = load(
        {
            "spark_env": "TRIPCLICK_RUNTIME=aws TRIPCLICK_LAKE_ROOT=s3a://lake",
            "spark_python": "/opt/tripclick/venv/bin/python",
        }.get
    )
    line = aws_runner.ops_command(settings, commands.backup_gold(3))
    assert shlex.split(line) == [
        "env",
        "TRIPCLICK_RUNTIME=aws",
        "TRIPCLICK_LAKE_ROOT=s3a://lake",
        "/opt/tripclick/venv/bin/python",
        "-m",
        "tripclick_spark.ops_cli",
        "backup",
        "create",
        "--keep",
        "3",
    ]


def test_a_bad_job_environment_is_refused():
    settings = load({"spark_env": "oops"}.get)
    with pytest.raises(SettingError, match="'oops' is not NAME=VALUE"):
        aws_runner.ops_command(settings, commands.prune_live(48))
