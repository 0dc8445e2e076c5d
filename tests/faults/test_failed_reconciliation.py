"""A gold load whose reconciliation fails publishes nothing: readers keep the date's
previously published marts, the failed numbers stay in ``gold_stage`` to be looked at, and
the load that reconciles afterwards publishes the new day in one swap."""

from __future__ import annotations

import datetime as dt

import pytest

from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import run_day
from tripclick_spark import gold_db
from tripclick_spark.jobs import bronze, gold, reconcile, silver

pytestmark = [pytest.mark.stack, pytest.mark.slow]

DATE = "2099-06-03"


def _staged_total(settings) -> int | None:
    return gold_db.total_events(settings, DATE, staged=True)


def test_a_failed_reconciliation_leaves_the_published_day_untouched(spark, pipeline, tmp_path):
    spec = DaySpec(dt.date.fromisoformat(DATE), 300, seed=31, duplicate_rate=0.05)
    day = generate_day(spec, tmp_path / "day")
    published = run_day.run(pipeline, day.files, DATE, spark=spark)
    assert published.reconciliation["passed"]
    before = gold_db.dump(pipeline, DATE)
    assert before["mart_daily_traffic"][0]["total_events"] == day.valid
    assert _staged_total(pipeline) is None  # publishing empties the stage

    # More clicks of the date reach Kafka and silver, but bronze is not re-run: the
    # reconciliation of the next gold load must fail (bronze distinct < silver).
    more = generate_day(DaySpec(dt.date.fromisoformat(DATE), 100, seed=37), tmp_path / "more")
    run_day.produce(pipeline, more.files, DATE)
    grown = silver.run(spark, pipeline, DATE, available_now=True).silver_rows
    assert grown > 0
    with pytest.raises(reconcile.ReconciliationError) as failed:
        gold.run(spark, pipeline, DATE)
    assert f"silver {day.valid + grown}" in str(failed.value)

    assert gold_db.dump(pipeline, DATE) == before  # readers see the old day, unchanged
    assert _staged_total(pipeline) == day.valid + grown  # the failed numbers, unpublished

    bronze.run(spark, pipeline, DATE)
    again = gold.run(spark, pipeline, DATE)
    assert again["reconciliation"]["passed"]
    after = gold_db.dump(pipeline, DATE)
    assert after["mart_daily_traffic"][0]["total_events"] == day.valid + grown
    assert _staged_total(pipeline) is None
