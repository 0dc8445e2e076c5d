"""Hostile values written straight onto the topic, past our producer, as a buggy or
compromised client would: silver quarantines each with its reason, the good records of the
day go on, and the reconciliation still adds up. Exact counts, no crash, no date lost."""

from __future__ import annotations

import collections
import datetime as dt

import pytest
from confluent_kafka import Producer
from tripclick_hostile_values import DAY, HOSTILE_VALUES, good_value

from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import run_day
from tripclick_spark.jobs import silver

pytestmark = [pytest.mark.stack, pytest.mark.slow]

# Noon of DAY in Kafka timestamps: a value with no date of its own (and no header) is
# filed under the broker's date, so it must belong to DAY for this run to see it.
NOON_MS = int(dt.datetime.fromisoformat(f"{DAY}T12:00:00+00:00").timestamp() * 1000)


def _send_raw(settings, values: list[bytes]) -> None:
    """Each value as a record of its own: no key, no headers, Kafka timestamp in DAY."""
    producer = Producer(
        {"bootstrap.servers": settings.kafka_bootstrap, "message.max.bytes": 1_000_000}
    )
    for value in values:
        producer.produce(settings.topic, value, timestamp=NOON_MS)
    assert producer.flush(30) == 0


def test_silver_quarantines_each_hostile_value_and_keeps_the_good_ones(spark, pipeline, tmp_path):
    spec = DaySpec(
        dt.date.fromisoformat(DAY), 800, seed=17, duplicate_rate=0.02, malformed_rate=0.02
    )
    day = generate_day(spec, tmp_path / "day")
    lines, _, rejected = run_day.produce(pipeline, day.files, DAY)
    assert (lines, rejected) == (800, day.malformed)

    # A foreign client's one good record, then every hostile value once.
    _send_raw(pipeline, [good_value(), *(value for _, value, _ in HOSTILE_VALUES)])

    result = run_day.run(pipeline, day.files, DAY, spark=spark, produce_input=False)

    clicks = silver.read_silver(spark, pipeline, DAY)
    assert clicks.count() == day.valid + 1  # the distinct good clicks and the foreign one
    assert clicks.where("session_id = 'hostile-session'").count() == 1
    assert {r["event_date"] for r in clicks.select("event_date").distinct().collect()} == {
        dt.date.fromisoformat(DAY)
    }
    # No hostile value moved the day's event times: all within DAY.
    bounds = clicks.selectExpr("min(event_ts) lo", "max(event_ts) hi").first()
    assert bounds.lo.date().isoformat() == DAY == bounds.hi.date().isoformat()

    quarantine = silver.read_quarantine(spark, pipeline, DAY)
    got = collections.Counter(r["reason"] for r in quarantine.select("reason").collect())
    hostile = collections.Counter(reason for _, _, reason in HOSTILE_VALUES)
    assert quarantine.where("source is null").count() == len(HOSTILE_VALUES)
    foreign = collections.Counter(
        r["reason"] for r in quarantine.where("source is null").select("reason").collect()
    )
    assert foreign == hostile
    assert sum(got.values()) == day.malformed + len(HOSTILE_VALUES)

    rec = result.reconciliation
    assert rec["passed"], rec
    assert rec["kafka_records"] == 800 + 1 + len(HOSTILE_VALUES)
    assert rec["silver_records"] == rec["gold_total_events"] == day.valid + 1
    assert rec["bronze_distinct"] == rec["silver_records"] + rec["quarantine_distinct"]
