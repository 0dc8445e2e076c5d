"""Silver's checkpoint deleted after a run of several micro-batches: the next run without
``--reset`` refuses in one line naming it and leaves silver as it was; with ``--reset`` it
gives the same silver, quarantine and live marts again, exactly, not twice. (Before, the
new query started at batch 0, overwrote only the batches it wrote again, and the first
run's higher batches stayed next to them.)"""

from __future__ import annotations

import datetime as dt

import pytest

from tripclick.errors import UserError
from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import run_day
from tripclick_spark import gold_db, lake
from tripclick_spark.jobs import silver

pytestmark = [pytest.mark.stack, pytest.mark.slow]

DATE = "2099-06-02"


def _counts(spark, settings) -> tuple[int, int, int, int]:
    """(silver rows, distinct dedup keys, quarantined rows, live-mart clicks) of the date."""
    clicks = silver.read_silver(spark, settings, DATE)
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select coalesce(sum(clicks), 0) from gold.live_session_minutes where event_date = %s",
            (DATE,),
        )
        live = int(cur.fetchone()[0])
    return (
        clicks.count(),
        clicks.select("dedup_key").distinct().count(),
        silver.read_quarantine(spark, settings, DATE).count(),
        live,
    )


def test_a_lost_checkpoint_never_doubles_silver(spark, pipeline, tmp_path):
    day = generate_day(
        DaySpec(
            dt.date.fromisoformat(DATE), 200, seed=29, duplicate_rate=0.05, malformed_rate=0.02
        ),
        tmp_path / "day",
    )
    run_day.produce(pipeline, day.files, DATE)
    first = silver.run(spark, pipeline, DATE, available_now=True, max_offsets_per_trigger=100)
    assert first.batches >= 2, "the test wants batches above 0 to be left behind"
    expected = (day.valid, day.valid, day.malformed, day.valid)
    assert _counts(spark, pipeline) == expected

    lake.delete(spark, lake.checkpoint(pipeline, silver.JOB, DATE))
    with pytest.raises(UserError) as refused:
        silver.run(spark, pipeline, DATE, available_now=True)
    message = str(refused.value)
    assert "\n" not in message
    assert f"silver for {DATE} has output" in message and "--reset" in message
    assert _counts(spark, pipeline) == expected  # refused before anything was written

    again = silver.run(spark, pipeline, DATE, available_now=True, fresh=True)
    assert (again.silver_rows, again.quarantined_rows) == (day.valid, day.malformed)
    assert _counts(spark, pipeline) == expected
