"""The ``aws`` runtime: producers in Docker on the web servers, Spark jobs over SSH.

The operators are built inside the running task from configuration read then (Airflow
connections and variables, so the secrets backend can serve them) and executed at once;
the DAG's task graph is the same for both runtimes.

Connections (see ``dags/README.md``):

- ``tripclick_web_0`` / ``tripclick_web_1``: a web server's Docker API. ``host``, ``port``
  (2376), and in ``extra`` the PEM paths ``ca_cert``, ``client_cert``, ``client_key`` of the
  mutual-TLS client. A plain-text API (2375, or missing certificates) is refused.
- ``tripclick_spark_master``: SSH to the Spark master (``host``, ``login``, ``extra.key_file``).
"""

from __future__ import annotations

import shlex
import signal
from typing import TYPE_CHECKING, Any

from tripclick_dags.commands import StageCommand
from tripclick_dags.settings import SettingError, Settings

if TYPE_CHECKING:
    from airflow.providers.docker.operators.docker import DockerOperator
    from airflow.providers.ssh.operators.ssh import SSHOperator
    from airflow.sdk import Connection

DOCKER_TLS_PORT = 2376
# A bounded stream ends by itself; this margin covers spark-submit start-up and the
# final micro-batch before the SSH command is declared hung.
STREAM_MARGIN_SECONDS = 15 * 60
BATCH_TIMEOUT_SECONDS = 60 * 60
TLS_FILES = ("ca_cert", "client_cert", "client_key")


def docker_operator(
    settings: Settings, conn: Connection, stage: StageCommand, task_id: str
) -> DockerOperator:
    """The producer container on a web server, reached only through mutual TLS on 2376."""
    from airflow.providers.docker.operators.docker import DockerOperator
    from docker.types import Mount

    extra = conn.extra_dejson
    port = conn.port or DOCKER_TLS_PORT
    if port != DOCKER_TLS_PORT:
        raise SettingError(
            f"connection {conn.conn_id} points at Docker port {port}; the Docker API is served"
            f" only over TLS on {DOCKER_TLS_PORT}: set its port to {DOCKER_TLS_PORT}"
        )
    missing = [name for name in TLS_FILES if not extra.get(name)]
    if not conn.host or missing:
        raise SettingError(
            f"connection {conn.conn_id} needs a host and extra {', '.join(TLS_FILES)} (PEM paths);"
            f" missing: {', '.join(missing or ['host'])}"
        )
    environment = {"TRIPCLICK_RUNTIME": "aws", "TRIPCLICK_TIMEZONE": settings.timezone}
    if settings.kafka_bootstrap:
        environment["TRIPCLICK_KAFKA_BOOTSTRAP"] = settings.kafka_bootstrap
    mounts = [
        Mount(
            target=settings.docker_input_dir,
            source=extra.get("input_dir", settings.docker_input_dir),
            type="bind",
            read_only=True,
        )
    ]
    if settings.producer_kafka_keystore:  # who the producer is to the brokers' ACLs
        keystore = settings.producer_kafka_keystore
        environment["TRIPCLICK_KAFKA_SSL_KEYSTORE"] = keystore
        mounts.append(Mount(target=keystore, source=keystore, type="bind", read_only=True))
    return DockerOperator(
        task_id=task_id,
        image=settings.producer_image,
        command=stage.argv,
        docker_url=f"tcp://{conn.host}:{port}",
        tls_ca_cert=extra["ca_cert"],
        tls_client_cert=extra["client_cert"],
        tls_client_key=extra["client_key"],
        tls_verify=True,
        tls_hostname=extra.get("tls_hostname", conn.host),
        environment=environment,
        mounts=mounts,
        mount_tmp_dir=False,
        auto_remove="success",
        # A bridge, not the host's network: the metadata service's hop limit of 1 then keeps
        # the instance profile's credentials out of the container.
        network_mode="bridge",
    )


def spark_submit_command(settings: Settings, stage: StageCommand) -> str:
    """The shell command run on the Spark master."""
    if stage.job is None:
        raise ValueError(f"{stage.command} is not a Spark job")
    # The job's own settings (TRIPCLICK_LAKE_ROOT, TRIPCLICK_KAFKA_BOOTSTRAP, ...) travel in
    # the command line: sshd passes no client environment by default.
    assignments = shlex.split(settings.spark_env)
    if settings.spark_python:
        assignments.append(f"PYSPARK_PYTHON={settings.spark_python}")
    bad = [a for a in assignments if "=" not in a]
    if bad:
        raise SettingError(f"tripclick_spark_env: {bad[0]!r} is not NAME=VALUE")
    prefix = ["env", *assignments] if assignments else []
    argv = [
        *prefix,
        settings.spark_submit,
        "--master",
        settings.spark_master_url,
        "--name",
        f"tripclick-{stage.job}",
        *shlex.split(settings.spark_submit_args),
        f"{settings.spark_jobs_dir.rstrip('/')}/{stage.job}.py",
        *stage.job_args,
    ]
    return shlex.join(argv)


def ops_command(settings: Settings, stage: StageCommand) -> str:
    """A maintenance command (``python -m tripclick_spark.ops_cli ...``) on the Spark master."""
    from tripclick_dags.commands import OPS_MODULE

    assignments = shlex.split(settings.spark_env)
    bad = [a for a in assignments if "=" not in a]
    if bad:
        raise SettingError(f"tripclick_spark_env: {bad[0]!r} is not NAME=VALUE")
    prefix = ["env", *assignments] if assignments else []
    return shlex.join([*prefix, settings.spark_python or "python3", "-m", OPS_MODULE, *stage.argv])


def ssh_operator(
    settings: Settings, stage: StageCommand, task_id: str, stream_seconds: float | None = None
) -> SSHOperator:
    """spark-submit on the master (a maintenance command as it is); a stream's command may
    run its window plus a margin."""
    from airflow.providers.ssh.operators.ssh import SSHOperator

    timeout = (
        int(stream_seconds) + STREAM_MARGIN_SECONDS
        if stream_seconds is not None
        else BATCH_TIMEOUT_SECONDS
    )
    return SSHOperator(
        task_id=task_id,
        ssh_conn_id=settings.spark_conn_id,
        command=ops_command(settings, stage)
        if stage.job is None
        else spark_submit_command(settings, stage),
        cmd_timeout=timeout,
        conn_timeout=30,
        # A terminal for the command: when the task times out or is killed its SSH session
        # closes, the terminal hangs up and spark-submit (driver and Python worker) dies
        # with it, so a retry never meets the old driver on the same checkpoint.
        get_pty=True,
        do_xcom_push=False,
    )


def run_producer(settings: Settings, source_index: int, stage: StageCommand, context: Any) -> None:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(settings.docker_conn_ids[source_index])
    producer = docker_operator(settings, conn, stage, context["ti"].task_id)
    # The container runs on the web host whatever becomes of this process, and the task
    # runner only tells this task's own operator that it is killed (SIGTERM when the run is
    # marked failed) or times out: stop the container on either, so a retry never meets an
    # old producer still sending.
    previous = signal.getsignal(signal.SIGTERM)

    def stop(signum: int, frame: Any) -> None:
        producer.on_kill()
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, stop)
    try:
        producer.execute(context)
    except BaseException:
        producer.on_kill()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_spark(
    settings: Settings, stage: StageCommand, context: Any, stream_seconds: float | None = None
) -> None:
    ssh_operator(settings, stage, context["ti"].task_id, stream_seconds).execute(context)
