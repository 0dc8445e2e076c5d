"""A whole day through Kafka, silver, bronze, gold and the reconciliation (issue 4).

One run per day is shared by the tests of that day (module fixtures), to keep the
folder fast on a small machine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
import uuid

import pytest
from expected_marts import clicks, marts
from pipeline_env import env_of

from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import run_day
from tripclick_spark import gold_db, lake
from tripclick_spark.jobs import bronze, gold, reconcile, silver

pytestmark = [pytest.mark.stack, pytest.mark.slow]

SAMPLE_DATE = "2016-01-01"
GENERATED_DATE = "2016-03-01"


def _normalise(dump: dict) -> dict:
    """Round durations (float) so both sides compare exactly."""
    for row in dump["mart_session_analysis"]:
        row["session_duration_sec"] = round(row["session_duration_sec"], 3)
    return dump


@pytest.fixture(scope="module")
def sample_day(spark, pipeline, sample_files):
    result = run_day.run(pipeline, sample_files, spark=spark)
    print(run_day.summary_table(result, pipeline))
    return result, _normalise(gold_db.dump(pipeline, SAMPLE_DATE))


@pytest.fixture(scope="module")
def generated_day(spark, pipeline, tmp_path_factory):
    spec = DaySpec(
        day=dt.date.fromisoformat(GENERATED_DATE),
        records=3000,
        seed=11,
        duplicate_rate=0.05,
        malformed_rate=0.01,
    )
    summary = generate_day(spec, tmp_path_factory.mktemp("generated"))
    result = run_day.run(pipeline, summary.files, spark=spark)
    print(run_day.summary_table(result, pipeline))
    return summary, result


def test_sample_day_silver_has_every_click(sample_day, spark, pipeline):
    result, _ = sample_day
    rows = silver.read_silver(spark, pipeline, SAMPLE_DATE)
    assert rows.count() == 562
    assert rows.select("dedup_key").distinct().count() == 562
    rec = result.reconciliation
    assert rec["passed"] is True
    assert (rec["silver_records"], rec["quarantine_records"], rec["gold_total_events"]) == (
        562,
        0,
        562,
    )
    # Bronze ran alongside silver and gold, and is reported between them.
    stages = {s.name: s for s in result.stages}
    assert list(stages) == ["produce", "silver", "bronze", "gold", "reconcile"]
    assert stages["bronze"].records == rec["bronze_records"] == 562
    assert stages["bronze"].note.startswith("alongside")


def test_sample_day_marts_match_plain_python(sample_day, sample_files):
    _, dump = sample_day
    expected = _normalise(marts(clicks(sample_files)))
    assert dump["mart_daily_traffic"] == expected["mart_daily_traffic"]
    assert dump["mart_clinical_areas"] == expected["mart_clinical_areas"]
    assert dump["mart_popular_documents"] == expected["mart_popular_documents"]
    assert dump["mart_session_analysis"] == expected["mart_session_analysis"]


def test_gold_dump_command_prints_the_marts_as_one_json_object(sample_day, pipeline):
    out = subprocess.run(
        [sys.executable, "-m", "tripclick_devstack.cli", "gold", "dump", "--date", SAMPLE_DATE],
        env=env_of(pipeline),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert _normalise(json.loads(out)) == sample_day[1]


def test_generated_day_silver_is_the_distinct_good_and_quarantine_the_bad(generated_day):
    summary, result = generated_day
    assert summary.duplicates > 0 and summary.malformed > 0
    rec = result.reconciliation
    assert rec["passed"] is True, rec
    assert rec["kafka_records"] == rec["bronze_records"] == summary.lines
    assert rec["silver_records"] == summary.valid
    assert rec["quarantine_records"] == summary.malformed
    assert rec["bronze_distinct"] == summary.valid + rec["quarantine_distinct"]
    assert rec["gold_total_events"] == summary.valid


def test_generated_day_marts_match_plain_python(generated_day, pipeline):
    summary, _ = generated_day
    expected = _normalise(marts(clicks(summary.files)))
    dump = _normalise(gold_db.dump(pipeline, GENERATED_DATE))
    assert dump == expected


def test_rerunning_bronze_and_gold_changes_no_count(generated_day, spark, pipeline):
    _, result = generated_day
    before = {
        k: v
        for k, v in result.reconciliation.items()
        if k.endswith(("records", "distinct", "events"))
    }
    marts_before = gold_db.dump(pipeline, GENERATED_DATE)
    bronze.run(spark, pipeline, GENERATED_DATE)
    again = gold.run(spark, pipeline, GENERATED_DATE)
    after = {k: again["reconciliation"][k] for k in before}
    assert after == before
    assert again["loaded"] == result.loaded
    assert gold_db.dump(pipeline, GENERATED_DATE) == marts_before
    stored = json.loads(lake.read_text(spark, lake.report(pipeline, GENERATED_DATE)))
    assert stored["passed"] is True
    assert {k: stored[k] for k in before} == before


def test_a_mismatch_fails_the_reconciliation_with_the_numbers(generated_day, spark, pipeline):
    # Remove one click from gold: the reconciliation must name both sides.
    with gold_db.connect(pipeline) as conn, conn, conn.cursor() as cur:
        cur.execute(
            "update gold.mart_daily_traffic set total_events = total_events - 1 "
            "where event_date = %s returning total_events",
            (GENERATED_DATE,),
        )
        gold_total = cur.fetchone()[0]
    summary, _ = generated_day
    try:
        with pytest.raises(reconcile.ReconciliationError) as err:
            reconcile.run(spark, pipeline, GENERATED_DATE)
        assert f"silver {summary.valid} != gold total_events {gold_total}" in str(err.value)
        with gold_db.connect(pipeline) as conn, conn.cursor() as cur:
            cur.execute(
                "select passed, mismatches from gold.reconciliation where event_date = %s",
                (GENERATED_DATE,),
            )
            passed, mismatches = cur.fetchone()
        assert passed is False and len(mismatches) == 1
    finally:
        with gold_db.connect(pipeline) as conn, conn, conn.cursor() as cur:
            cur.execute(
                "update gold.mart_daily_traffic set total_events = total_events + 1 "
                "where event_date = %s",
                (GENERATED_DATE,),
            )


def test_the_same_day_through_s3a_on_moto_gives_the_same_marts(sample_day, spark, pipeline):
    s3_settings = dataclasses.replace(
        pipeline, lake_root=f"s3a://{pipeline.s3_bucket}/test-lake-{uuid.uuid4().hex[:8]}"
    )
    result = run_day.run(s3_settings, [], SAMPLE_DATE, spark=spark, produce_input=False)
    print(run_day.summary_table(result, s3_settings))
    assert result.reconciliation["passed"] is True
    assert result.reconciliation["silver_records"] == 562
    assert lake.exists(spark, lake.report(s3_settings, SAMPLE_DATE))
    assert _normalise(gold_db.dump(pipeline, SAMPLE_DATE)) == sample_day[1]
