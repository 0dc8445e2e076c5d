"""Run-time settings of the DAGs.

Each setting ``name`` is looked up, inside a running task, as the Airflow Variable
``tripclick_<name>`` (so ``AIRFLOW_VAR_TRIPCLICK_<NAME>`` or the secrets backend, e.g. SSM
Parameter Store ``/airflow/variables/tripclick_<name>``), then as the environment variable
``TRIPCLICK_<NAME>`` shared with the payloads, then its default. ``dags/README.md`` lists
them all.

The schedule (its time zone and the daily start) is read when a DAG file is parsed,
because it is defined there; it comes from ``TRIPCLICK_TIMEZONE`` and
``TRIPCLICK_STREAM_START`` in the environment only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from tripclick_dags.contract import (
    DEFAULT_RUNTIME,
    DEFAULT_TIMEZONE,
    REPO_ROOT,
    RUNTIMES,
    default_home,
)

Lookup = Callable[[str], "str | None"]

DEFAULT_AWS_CONN_ID = "aws_default"


class SettingError(ValueError):
    """A setting has a value the DAGs cannot use; the message says which and what to do."""


def schedule_timezone() -> str:
    """The time zone of every schedule (parse time; environment only)."""
    return os.environ.get("TRIPCLICK_TIMEZONE", DEFAULT_TIMEZONE)


def daily_cron() -> str:
    """The daily run's cron: the stream's start (parse time; ``TRIPCLICK_STREAM_START``)."""
    value = os.environ.get("TRIPCLICK_STREAM_START") or "15:00"
    hour, _, minute = value.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise SettingError(f"TRIPCLICK_STREAM_START={value!r} is not a time; use HH:MM")
    return f"{int(minute)} {int(hour)} * * *"


@dataclass(frozen=True)
class Settings:
    runtime: str
    timezone: str
    # The daily flow, as wall-clock times of the run's date in ``timezone``.
    stream_start: str
    bronze_start: str
    gold_start: str
    stream_minutes: int
    # >1 compresses the day: stages start that many times sooner after the run starts.
    time_scale: float
    # Producers: where the TripClick log files are and which day they hold.
    input_dir: str
    source_date: str
    producer_speed: str
    # local runtime
    cli: str
    # aws runtime
    producer_image: str
    docker_conn_ids: tuple[str, str]
    docker_input_dir: str
    # The web host's PEM file with the producers' Kafka certificate and key; mounted read-only
    # into each producer container at the same path (TRIPCLICK_KAFKA_SSL_KEYSTORE), never
    # baked into the image.
    producer_kafka_keystore: str
    kafka_bootstrap: str
    spark_conn_id: str
    spark_submit: str
    spark_master_url: str
    spark_jobs_dir: str
    spark_submit_args: str
    spark_python: str
    spark_env: str
    lake_root: str
    aws_conn_id: str

    @property
    def stream_seconds(self) -> float:
        """How long the streaming window lasts once compressed."""
        return self.stream_minutes * 60 / self.time_scale


def airflow_lookup(name: str) -> str | None:
    """Airflow Variable ``tripclick_<name>``, else ``TRIPCLICK_<NAME>``; only inside a task."""
    from airflow.sdk import Variable

    value = Variable.get(f"tripclick_{name}", default=None)
    if value is None:
        value = os.environ.get(f"TRIPCLICK_{name.upper()}")
    return value


def env_lookup(name: str) -> str | None:
    """``TRIPCLICK_<NAME>`` only: for code that runs outside a task (tests, tools)."""
    return os.environ.get(f"TRIPCLICK_{name.upper()}")


def alert_target(lookup: Lookup = airflow_lookup) -> tuple[str, str]:
    """The SNS topic ARN failure alerts go to ("" = none) and the AWS connection to use.

    Read on their own rather than through ``load``: the alert must still go out when the
    failure is another setting's bad value.
    """
    topic = lookup("alerts_topic_arn") or ""
    return topic.strip(), lookup("aws_conn_id") or DEFAULT_AWS_CONN_ID


def load(lookup: Lookup = airflow_lookup) -> Settings:
    """Resolve every setting; call it inside a task (it may reach the secrets backend)."""

    def get(name: str, default: str) -> str:
        value = lookup(name)
        return default if value in (None, "") else str(value)

    def number(name: str, default: str, minimum: float) -> float:
        raw = get(name, default)
        try:
            value = float(raw)
        except ValueError:
            raise SettingError(f"tripclick_{name}={raw!r} is not a number; set a number") from None
        if value < minimum:
            raise SettingError(f"tripclick_{name}={raw!r} is below {minimum:g}; raise it")
        return value

    runtime = get("runtime", DEFAULT_RUNTIME)
    if runtime not in RUNTIMES:
        raise SettingError(f"tripclick_runtime={runtime!r} is unknown; use one of {RUNTIMES}")
    home = default_home()
    return Settings(
        runtime=runtime,
        timezone=schedule_timezone(),
        stream_start=get("stream_start", "15:00"),
        bronze_start=get("bronze_start", "17:00"),
        gold_start=get("gold_start", "18:00"),
        stream_minutes=int(number("stream_minutes", "60", 1)),
        time_scale=number("time_scale", "1", 1),
        input_dir=get("input_dir", str(REPO_ROOT.parent / "shared" / "data" / "tripclick-sample")),
        source_date=get("source_date", ""),
        producer_speed=get("producer_speed", ""),
        cli=get("cli", str(REPO_ROOT / ".venv" / "bin" / "tripclick")),
        producer_image=get("producer_image", "tripclick-producer:latest"),
        docker_conn_ids=(
            get("web_0_conn_id", "tripclick_web_0"),
            get("web_1_conn_id", "tripclick_web_1"),
        ),
        docker_input_dir=get("docker_input_dir", "/data/tripclick"),
        producer_kafka_keystore=get("producer_kafka_keystore", ""),
        kafka_bootstrap=get("kafka_bootstrap", ""),
        spark_conn_id=get("spark_conn_id", "tripclick_spark_master"),
        spark_submit=get("spark_submit", "/opt/spark/bin/spark-submit"),
        spark_master_url=get("spark_master_url", "spark://127.0.0.1:7077"),
        spark_jobs_dir=get("spark_jobs_dir", "/opt/tripclick/spark/tripclick_spark/jobs"),
        spark_submit_args=get("spark_submit_args", ""),
        spark_python=get("spark_python", ""),
        spark_env=get("spark_env", ""),
        lake_root=get("lake_root", str(home / "lake")),
        aws_conn_id=get("aws_conn_id", DEFAULT_AWS_CONN_ID),
    )
