"""Fixtures shared by every test folder.

The ``stack`` fixture starts the local stack for the test session (unless it already
runs, for example after ``make up``) and stops, at the end, what it started itself.
``spark`` is one local[1] SparkSession; ``pipeline`` gives settings with a topic and a
lake of the test session's own, so a test run never sees records or checkpoints of an
earlier run or of a developer's day (the Spark and fault tests use both).
"""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling

from tripclick import config
from tripclick.errors import UserError
from tripclick_devstack import stack

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO.parent / "shared" / "data" / "tripclick-sample"


# The tests that use no local stack: the infrastructure's (Terraform, the inventories, the
# playbooks, site.yml over the fleet), the tree's structure, and the modules that need no
# service (pure code, a Spark session of their own, Spark's metrics endpoints), which even out
# the two workers' time.
NO_STACK_TESTS = (
    "tests/ansible/",
    "tests/fleet/",
    "tests/inventory/",
    "tests/structure/",
    "tests/terraform/",
    "tests/bench/test_stats.py",
    "tests/payloads/test_bad_lines.py",
    "tests/payloads/test_dedup.py",
    "tests/payloads/test_events.py",
    "tests/payloads/test_fast_paths.py",
    "tests/payloads/test_generator.py",
    "tests/payloads/test_sending.py",
    "tests/payloads/test_timeshift.py",
    "tests/spark/test_gold_csv.py",
    "tests/spark/test_spark_metrics.py",
    "tests/spark/test_transforms.py",
    "tests/spark/test_value_check.py",
)


class InfrastructureBesideTheStack(LoadScopeScheduling):
    """`make test`'s two workers (`pytest -n 2`). One runs the tests that use no local stack,
    the fleet's among them, which spend much of their time waiting on installs and on the
    fleet's containers; the other, all the rest, which share one local stack and stop and start its
    services. Each worker runs its tests in collection order."""

    def _split_scope(self, nodeid: str) -> str:
        return "infrastructure" if nodeid.startswith(NO_STACK_TESTS) else "stack"


def pytest_xdist_make_scheduler(config, log):
    return InfrastructureBesideTheStack(config, log)


@pytest.fixture(scope="session")
def settings() -> config.Settings:
    return config.load()


@pytest.fixture(scope="session")
def sample_files() -> list[Path]:
    files = sorted(SAMPLE_DIR.glob("*.jsonl"))
    if len(files) != 2:
        pytest.fail(f"the TripClick sample is missing: expected 2 .jsonl files in {SAMPLE_DIR}")
    return files


@pytest.fixture(scope="session")
def stack_services(settings):
    """The local stack, healthy, for the whole test session."""
    started = []
    try:
        for svc in stack.services(settings):
            if svc.is_healthy():
                continue
            svc.ensure_started()
            started.append(svc)
        stack.ensure_topic(settings)
    except UserError as err:
        for svc in reversed(started):
            svc.stop()
        pytest.fail(f"the local stack did not start: {err}")
    yield settings
    for svc in reversed(started):
        svc.stop()


@pytest.fixture(scope="session")
def aws_endpoint():
    """A moto server on a free 127.0.0.1 port standing in for the AWS APIs (EC2, S3, STS...).

    Yields the environment a boto3 or Ansible subprocess needs to talk to it; the server
    is stopped at the end of the session.
    """
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = REPO / ".local" / "logs" / "aws-moto-test.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"moto server did not start on {url}; see {log}")
            time.sleep(0.3)
    env = {
        **os.environ,
        # moto accepts any credentials; these never reach AWS.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "AWS_REGION": "ap-northeast-2",
        "AWS_ENDPOINT_URL": url,  # boto3
        "AWS_URL": url,  # the amazon.aws inventory plugin
    }
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    try:
        yield {"url": url, "env": env}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def spark(settings: config.Settings):
    from tripclick_spark import session

    spark = session.build(
        settings,
        "tripclick-tests",
        master="local[1]",
        **{
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.driver.memory": "1g",
        },
    )
    spark.sparkContext.setLogLevel("ERROR")
    yield spark
    spark.stop()


@pytest.fixture(scope="session")
def pipeline_factory(stack_services):
    """Makes settings of isolated pipelines, each with a fresh topic (3 partitions) and the lake
    folder it is given; every topic made is deleted at the end of the session."""
    from kafka.admin import KafkaAdminClient, NewTopic

    topics: list[str] = []

    def make(lake_root) -> config.Settings:
        topic = f"tripclick_raw_logs_test_{uuid.uuid4().hex[:8]}"
        admin = KafkaAdminClient(bootstrap_servers=stack_services.kafka_bootstrap)
        try:
            admin.create_topics([NewTopic(topic, 3, replication_factor=1)])
        finally:
            admin.close()
        topics.append(topic)
        return dataclasses.replace(stack_services, topic=topic, lake_root=str(lake_root))

    yield make
    if topics:
        admin = KafkaAdminClient(bootstrap_servers=stack_services.kafka_bootstrap)
        try:
            admin.delete_topics(topics)
        finally:
            admin.close()


@pytest.fixture(scope="session")
def pipeline(pipeline_factory, tmp_path_factory) -> config.Settings:
    """Settings of an isolated pipeline for the session: a fresh topic and a fresh local lake."""
    return pipeline_factory(tmp_path_factory.mktemp("lake"))
