"""A task that fails for good retries with backoff, then alerts: one line in its log and
the same line published to the SNS topic of ``tripclick_alerts_topic_arn``.

The bad value comes from an Airflow Variable in the environment
(``AIRFLOW_VAR_TRIPCLICK_TIME_SCALE``), which wins over ``TRIPCLICK_TIME_SCALE``:
settings are read inside the running task, through Airflow's secrets backends. SNS is a
moto server (the ``aws_endpoint`` fixture) with an SQS queue subscribed to the topic, so
the test reads what a subscriber receives. One Airflow run covers both: runs are slow.
"""

from __future__ import annotations

import json
import re
import subprocess
import textwrap

import boto3
from airflow_run import DAGS, run_airflow

ALERT = (
    r"TRIPCLICK ALERT: task plan_day of DAG tripclick_silver failed \(run \S+, try 3\):"
    r" SettingError: tripclick_time_scale='fast' is not a number; set a number"
)


def _aws(aws_endpoint, service: str):
    env = aws_endpoint["env"]
    return boto3.client(
        service,
        endpoint_url=aws_endpoint["url"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def _aws_env(aws_endpoint) -> dict[str, str]:
    """The AWS part of the moto environment: endpoint, test credentials, region."""
    return {k: v for k, v in aws_endpoint["env"].items() if k.startswith("AWS_")}


def _subscribed_queue(aws_endpoint) -> tuple[str, str]:
    """A fresh SNS topic with an SQS queue subscribed to it: (topic ARN, queue URL)."""
    sns, sqs = _aws(aws_endpoint, "sns"), _aws(aws_endpoint, "sqs")
    topic_arn = sns.create_topic(Name="tripclick-test-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="tripclick-test-alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    sqs.purge_queue(QueueUrl=queue_url)
    return topic_arn, queue_url


def _received(aws_endpoint, queue_url: str) -> list[dict]:
    """The SNS notifications in the queue (the envelope: Subject, Message, ...)."""
    sqs = _aws(aws_endpoint, "sqs")
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_bad_setting_fails_the_run_with_one_alert_line_and_one_sns_message(
    airflow_env, airflow_bin, aws_endpoint
):
    topic_arn, queue_url = _subscribed_queue(aws_endpoint)
    env = {
        **airflow_env,
        **_aws_env(aws_endpoint),
        "TRIPCLICK_TIME_SCALE": "2",
        "AIRFLOW_VAR_TRIPCLICK_TIME_SCALE": "fast",
        "AIRFLOW_VAR_TRIPCLICK_ALERTS_TOPIC_ARN": topic_arn,
        # As on the fleet: a connection with a region only; the endpoint and credentials
        # come from the environment (there, the instance profile).
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(
            {"conn_type": "aws", "extra": {"region_name": aws_endpoint["env"]["AWS_REGION"]}}
        ),
    }
    done = run_airflow(
        env, [str(airflow_bin / "airflow"), "dags", "test", "tripclick_silver", "2016-03-01"], 600
    )
    out = done.stdout + done.stderr
    assert done.returncode != 0
    alerts = re.findall(r"TRIPCLICK ALERT: .*", out)
    assert len(alerts) == 1, out[-4000:]
    assert re.match(ALERT, alerts[0]), alerts[0]
    assert "alert not published" not in out, out[-4000:]
    # The stream never started: its upstream failed.
    assert "running: " not in out

    notes = _received(aws_endpoint, queue_url)
    assert len(notes) == 1, notes
    assert notes[0]["TopicArn"] == topic_arn
    assert notes[0]["Subject"] == "TripClick: tripclick_silver.plan_day failed"
    line, _, rest = notes[0]["Message"].partition("\n")
    assert re.fullmatch(ALERT, line), line
    log_url = r"Log: http\S+/dags/tripclick_silver/runs/\S+/tasks/plan_day\S*"
    assert re.fullmatch(log_url, rest), rest


# The callback as Airflow calls it, on a task instance's stand-in, in Airflow's environment.
CALL_ON_FAILURE = textwrap.dedent(
    """
    import logging, sys, types
    sys.path.insert(0, sys.argv[1])
    from tripclick_dags import alerts
    from tripclick_dags.settings import env_lookup
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ti = types.SimpleNamespace(task_id="gold_load", dag_id="tripclick_gold", run_id="manual_1",
                               try_number=3)
    alerts.on_failure({"ti": ti, "exception": RuntimeError("boom")}, lookup=env_lookup)
    print("callback returned")
    """
)


def _call_on_failure(airflow_bin, tmp_path, **extra: str) -> str:
    """Run the callback in Airflow's environment, SNS at an address nothing listens on."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        # Port 9 (discard) of 127.0.0.1: nothing answers, the connection is refused at once.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-northeast-2",
        "AWS_MAX_ATTEMPTS": "1",
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws"}),
        **extra,
    }
    done = subprocess.run(
        [str(airflow_bin / "python"), "-c", CALL_ON_FAILURE, str(DAGS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = done.stdout + done.stderr
    # The callback returns: the task's own failure is what Airflow records.
    assert done.returncode == 0, out[-4000:]
    assert "callback returned" in done.stdout
    assert (
        "TRIPCLICK ALERT: task gold_load of DAG tripclick_gold failed (run manual_1, try 3):"
        " RuntimeError: boom"
    ) in out
    return out


def test_a_failed_publish_logs_one_line_and_lets_the_failure_stand(airflow_bin, tmp_path):
    topic = "arn:aws:sns:ap-northeast-2:123456789012:tripclick-alerts"
    out = _call_on_failure(airflow_bin, tmp_path, TRIPCLICK_ALERTS_TOPIC_ARN=topic)
    # Airflow's logging decorates the line (time, level, logger); the text is the contract.
    failed = re.findall(r"alert not published to (\S+): (\w+)", out)
    assert failed == [(topic, "EndpointConnectionError")], out[-4000:]


def test_without_a_topic_the_log_line_is_the_only_alert(airflow_bin, tmp_path):
    out = _call_on_failure(airflow_bin, tmp_path)
    # No attempt at all: a publish would have failed against the dead endpoint.
    assert "not published" not in out and "sns" not in out.lower(), out[-4000:]
