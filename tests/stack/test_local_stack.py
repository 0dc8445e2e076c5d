"""The local stack (issue: foundation): real Kafka, moto S3 and PostgreSQL on 127.0.0.1."""

from __future__ import annotations

import base64
import subprocess
import uuid

import pytest

from tripclick_devstack.stack import kafka, process, s3

pytestmark = pytest.mark.stack


def test_kafka_record_round_trip(stack_services):
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    settings = stack_services
    topic = f"roundtrip-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 3, replication_factor=1)])
        described = admin.describe_topics([topic])
        assert len(described[0]["partitions"]) == 3

        producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
        producer.send(topic, key=b"session-1", value=b"hello tripclick").get(timeout=30)
        producer.close()

        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=20000,
            enable_auto_commit=False,
        )
        records = []
        for record in consumer:
            records.append(record)
            break
        consumer.close()
        assert [(r.key, r.value) for r in records] == [(b"session-1", b"hello tripclick")]
    finally:
        admin.delete_topics([topic])
        admin.close()


def test_clickstream_topic_has_three_partitions(stack_services):
    from kafka.admin import KafkaAdminClient

    settings = stack_services
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    try:
        (topic,) = admin.describe_topics([settings.topic])
        assert len(topic["partitions"]) == 3
    finally:
        admin.close()


def test_boto3_put_get_on_moto(stack_services):
    client = s3.client(stack_services)
    key = f"probe/{uuid.uuid4().hex}.txt"
    client.put_object(Bucket=stack_services.s3_bucket, Key=key, Body=b"lake")
    body = client.get_object(Bucket=stack_services.s3_bucket, Key=key)["Body"].read()
    assert body == b"lake"
    enc = client.get_bucket_encryption(Bucket=stack_services.s3_bucket)
    rule = enc["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_spark_dataframe_round_trip_through_s3a(stack_services):
    from tripclick_spark import session

    spark = session.build(stack_services, "s3a-probe", master="local[1]")
    path = f"s3a://{stack_services.s3_bucket}/probe/{uuid.uuid4().hex}"
    rows = [(1, "oncology"), (2, "surgery"), (3, "cardiology")]
    spark.createDataFrame(rows, "id int, area string").write.parquet(path)
    back = sorted(tuple(r) for r in spark.read.parquet(path).collect())
    assert back == rows


def test_postgres_select_one(stack_services):
    import psycopg2

    with psycopg2.connect(**stack_services.pg_params) as conn, conn.cursor() as cur:
        cur.execute("select 1")
        assert cur.fetchone() == (1,)
        cur.execute("select nspname from pg_namespace where nspname = 'gold'")
        assert cur.fetchone() == ("gold",)


def test_postgres_refuses_wrong_password(stack_services):
    import psycopg2

    s = stack_services
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(
            host="127.0.0.1", port=s.pg_port, dbname=s.pg_database, user=s.pg_user,
            password="admin", connect_timeout=5,
        )  # fmt: skip


def test_taken_port_is_one_clear_line(stack_services, tmp_path):
    """A port already in use names the cause and the way out, with no traceback."""
    env = {
        "TRIPCLICK_HOME": str(tmp_path),
        "TRIPCLICK_PG_PORT": str(stack_services.pg_port),  # taken by the running stack
        "TRIPCLICK_JARS_DIR": str(stack_services.jars_dir),
        "PATH": "/usr/bin:/bin",
    }
    import os
    import sys
    from pathlib import Path

    cli = Path(sys.executable).parent / "tripclick"
    proc = subprocess.run(
        [str(cli), "up"], env={**os.environ, **env}, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"port {stack_services.pg_port}" in lines[0] and "already in use" in lines[0]
    assert "Traceback" not in proc.stderr


def test_port_probe_sees_listening_services(stack_services):
    assert process.port_open(stack_services.kafka_port)
    assert process.port_open(stack_services.s3_port)
    assert process.port_open(stack_services.pg_port)


def test_cluster_ids_never_look_like_an_option():
    # One random id in 64 starts with "-", which the storage tool reads as an option
    # ("--cluster-id: expected one argument") and the broker never starts.
    ids = [kafka.new_cluster_id() for _ in range(2_000)]
    assert not [i for i in ids if i.startswith("-")]
    assert all(len(i) == 22 and len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
