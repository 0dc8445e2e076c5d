"""A gzip file and lines too large for Kafka through ``run-day``: the gzip file is read as
its text, each too-large line becomes one rejection (and one small stand-in record), the
run goes on and the day reconciles. Before, the first such line aborted the run, through
run-day's process pool as a pickling error."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip

import pytest

from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import run_day
from tripclick_spark.jobs import silver

pytestmark = [pytest.mark.stack, pytest.mark.slow]

DAY = "2016-01-02"


def test_a_gzip_file_and_oversized_lines_go_through_run_day(spark, pipeline, tmp_path):
    spec = DaySpec(dt.date.fromisoformat(DAY), 600, seed=23, malformed_rate=0.02)
    day = generate_day(spec, tmp_path / "day")
    plain, packed = day.files
    # Over the cap (4 MiB here): refused as it is read. Under the cap but over Kafka's
    # 1,000,000 bytes: refused by produce() itself (MSG_SIZE_TOO_LARGE).
    over_cap = b'{"SessionId": "big", "Title": "' + b"x" * 5_000_000 + b'"}'
    over_kafka = b'{"SessionId": "big", "Title": "' + b"y" * 1_500_000 + b'"}'
    text = plain.read_bytes().splitlines(keepends=True)
    plain.write_bytes(
        b"".join([*text[:100], over_cap + b"\n", *text[100:200], over_kafka + b"\n", *text[200:]])
    )
    gz = packed.with_name(packed.name + ".gz")
    gz.write_bytes(gzip.compress(packed.read_bytes()))
    packed.unlink()
    settings = dataclasses.replace(pipeline, max_line_bytes=4 * 1024 * 1024)

    lines, valid, rejected = run_day.produce(settings, [plain, gz], DAY)
    assert (lines, valid, rejected) == (602, day.valid, day.malformed + 2)
    rejects = (settings.home / "rejects" / f"{DAY}_web-0.jsonl").read_text().splitlines()
    too_large = [r for r in rejects if '"reason": "too_large"' in r]
    assert len(too_large) == 2
    assert "longer than 4,194,304 bytes (TRIPCLICK_MAX_LINE_BYTES)" in too_large[0]
    assert "Kafka refused the record as too large" in too_large[1]
    assert "also missing_date_created" in too_large[1]  # bad, and too large to send

    result = run_day.run(settings, [plain, gz], DAY, spark=spark, produce_input=False)
    rec = result.reconciliation
    assert rec["passed"], rec
    assert rec["kafka_records"] == 602
    assert rec["silver_records"] == day.valid
    quarantine = silver.read_quarantine(spark, settings, DAY)
    assert quarantine.count() == day.malformed + 2
    # The stand-ins carry the line's first bytes, not the whole line.
    assert quarantine.where("length(value) = 512").count() == 2


def test_a_producer_error_that_does_not_pickle_reaches_run_day_as_one_line(monkeypatch, tmp_path):
    import pickle

    from confluent_kafka import KafkaError, KafkaException

    import tripclick.producer
    from tripclick.errors import UserError

    def broken(*_args, **_kwargs):
        raise KafkaException(KafkaError(KafkaError._TRANSPORT, "broker went away"))

    monkeypatch.setattr(tripclick.producer, "produce_files", broken)
    with pytest.raises(UserError) as err:
        run_day._produce_file((tmp_path / "a.jsonl", "web-0", DAY, None))
    # What the pool sends back to run-day: it pickles, and says what happened in one line.
    back = pickle.loads(pickle.dumps(err.value))
    assert (
        str(back)
        == f"producing {tmp_path / 'a.jsonl'} failed: KafkaException: {KafkaError(KafkaError._TRANSPORT, 'broker went away')}"
    )
