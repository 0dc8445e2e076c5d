"""The data-quality gates (tripclick_spark.quality, Soda Core over PostgreSQL).

Most cases stage a day of the real sample directly into ``gold_stage`` (marts computed in
plain Python, the field profile by the gold load's own Spark function), on dates of their
own, and run the gates on it: a clean day passes, half the usual volume and empty titles
are errors that stop publication, a quarantine rate of 2% only warns. One case runs a bad
day through the whole pipeline (Kafka, silver, bronze, gold) and the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest
from expected_marts import clicks, marts

from tripclick_devstack import run_day
from tripclick_spark import gold_db, lake, quality
from tripclick_spark.jobs import gold

pytestmark = [pytest.mark.stack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
TRIPCLICK = str(REPO / ".venv" / "bin" / "tripclick")
SAMPLE_DATE = dt.date(2016, 1, 1)
# The staged cases: a week of history, then the day checked.
DAY = dt.date(2015, 6, 8)
HISTORY = [DAY - dt.timedelta(days=n) for n in range(7, 0, -1)]
# The whole-pipeline case: a date with no history.
PIPELINE_DAY = dt.date(2015, 7, 8)
TABLES = ("dq_results", "reconciliation", *gold_db.PUBLISHED)


def _sample_lines(sample_files) -> list[dict]:
    return [json.loads(line) for p in sample_files for line in p.read_text().splitlines()]


def _profile_frame(spark, lines: list[dict]):
    """Silver's profiled columns of the lines, as the gold load sees them."""
    rows = [
        (
            r["Url"],
            r["Title"],
            r["DOI"],
            [a.strip() for a in r["ClinicalAreas"].split(",") if a.strip()],
            r["Keywords"],
        )
        for r in lines
    ]
    schema = "url string, title string, doi string, clinical_areas array<string>, keywords string"
    return spark.createDataFrame(rows, schema)


def _stage(spark, settings, day: dt.date, lines: list[dict], sample_files, *, keep=None):
    """Stage the sample's marts moved to ``day`` (only the first ``keep`` sessions if given)."""
    rows = clicks(sample_files)
    shift = day - SAMPLE_DATE
    sessions = sorted({r["session"] for r in rows})[:keep] if keep else None
    titles = {(r["SessionId"], r["DocumentId"]): r["Title"] for r in lines}
    picked = [
        {**r, "ts": r["ts"] + shift, "title": titles[(r["session"], r["doc"])]}
        for r in rows
        if sessions is None or r["session"] in sessions
    ]
    kept = [r for r in lines if sessions is None or r["SessionId"] in sessions]
    tables = {
        name: pa.Table.from_pylist(data).select(list(gold_db.MARTS[name]))
        for name, data in marts(picked).items()
    }
    tables["field_profile"] = quality.profile(
        _profile_frame(spark, kept), day.isoformat()
    ).toArrow()
    gold_db.migrate(settings)
    gold_db.stage_date(settings, day.isoformat(), tables)
    distinct = len(picked)
    return distinct


def _reconciled(settings, day: dt.date, silver: int, quarantined: int = 0) -> None:
    gold_db.save_reconciliation(
        settings,
        {
            "event_date": day.isoformat(),
            "kafka_records": silver + quarantined,
            "bronze_records": silver + quarantined,
            "bronze_distinct": silver + quarantined,
            "silver_records": silver,
            "quarantine_records": quarantined,
            "quarantine_distinct": quarantined,
            "gold_total_events": silver,
            "passed": True,
            "mismatches": [],
        },
    )


def _forget(settings, days) -> None:
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        for table in TABLES:
            for schema in ("gold", "gold_stage"):
                cur.execute("select to_regclass(%s)", (f"{schema}.{table}",))
                if cur.fetchone()[0] is not None:
                    cur.execute(
                        f"delete from {schema}.{table} where event_date = any(%s::date[])",
                        ([d.isoformat() for d in days],),
                    )


def _published(settings, day: dt.date) -> int | None:
    return gold_db.total_events(settings, day.isoformat())


def _stored(settings, day: dt.date) -> dict[str, tuple[str, float | None]]:
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select check_name, outcome, value from gold.dq_results where event_date = %s",
            (day,),
        )
        return {name: (outcome, value) for name, outcome, value in cur.fetchall()}


@pytest.fixture(scope="module")
def week(spark, pipeline, sample_files):
    """Seven published days of the sample before DAY; everything removed at the end."""
    lines = _sample_lines(sample_files)
    _forget(pipeline, [*HISTORY, DAY])
    for day in HISTORY:
        n = _stage(spark, pipeline, day, lines, sample_files)
        _reconciled(pipeline, day, n)
        gold_db.publish(pipeline, day.isoformat())
    yield lines
    _forget(pipeline, [*HISTORY, DAY])


def test_a_clean_day_passes_every_check(week, spark, pipeline, sample_files):
    n = _stage(spark, pipeline, DAY, week, sample_files)
    _reconciled(pipeline, DAY, n)
    report = quality.gate(spark, pipeline, DAY.isoformat())
    outcomes = {c.check_name: c.outcome for c in report.checks}
    # Staged without a stream, the day has no live partials: their freshness only warns.
    assert outcomes.pop("live_marts_lag_minutes") == "warning"
    assert set(outcomes.values()) == {"pass"}, outcomes
    assert len(report.checks) == len(quality.declared_checks(_checks_text())) == 12
    values = {c.check_name: c.value for c in report.checks}
    assert values["volume_vs_trailing_7d"] == pytest.approx(1.0)
    assert values["sessions_per_click"] == pytest.approx(144 / 562)
    assert values["title_empty_rate"] == 0
    assert values["clinical_areas_empty_rate"] == pytest.approx(71 / 562)
    # Stored in gold and in the lake, one row per check.
    assert _stored(pipeline, DAY)["volume_vs_trailing_7d"] == ("pass", pytest.approx(1.0))
    saved = json.loads(lake.read_text(spark, lake.quality_report(pipeline, DAY.isoformat())))
    assert saved["passed"] is True and len(saved["checks"]) == 12


def test_half_the_usual_clicks_is_an_error_that_stops_publication(
    week, spark, pipeline, sample_files
):
    n = _stage(spark, pipeline, DAY, week, sample_files, keep=50)
    _reconciled(pipeline, DAY, n)
    assert n < 562 / 2
    with pytest.raises(quality.QualityGateFailed) as failed:
        gold.check_and_publish(spark, pipeline, DAY.isoformat())
    message = str(failed.value)
    assert "\n" not in message
    assert f"data-quality gate of {DAY} failed: volume_vs_trailing_7d = " in message
    assert message.endswith(
        "nothing published. See `tripclick quality --date 2015-06-08` and "
        'docs/runbook.md "DataQualityGateFailed"'
    )
    assert _published(pipeline, DAY) is None
    assert gold_db.total_events(pipeline, DAY.isoformat(), staged=True) == n
    outcome, value = _stored(pipeline, DAY)["volume_vs_trailing_7d"]
    assert outcome == "error" and value == pytest.approx(n / 562)


def test_a_day_of_empty_titles_is_an_error(week, spark, pipeline, sample_files):
    blank = [{**r, "Title": ""} for r in week]
    n = _stage(spark, pipeline, DAY, blank, sample_files)
    _reconciled(pipeline, DAY, n)
    report = quality.run_checks(pipeline, DAY.isoformat(), "staged")
    errors = {c.check_name: c.value for c in report.errors}
    assert errors == {
        "top_documents_without_title": 20,
        "title_empty_rate": 1.0,
    }, errors
    assert {c.check_name for c in report.warnings} == {
        "documents_without_title",
        "live_marts_lag_minutes",
    }
    assert not report.passed


def test_a_warning_alerts_and_publication_goes_on(week, spark, pipeline, sample_files):
    n = _stage(spark, pipeline, DAY, week, sample_files)
    _reconciled(pipeline, DAY, n, quarantined=12)  # 12 / 574 = 2.1%
    report = quality.gate(spark, pipeline, DAY.isoformat())
    assert report.passed
    assert [(c.check_name, round(c.value, 4)) for c in report.warnings] == [
        ("quarantine_rate", round(12 / 574, 4)),
        ("live_marts_lag_minutes", -1),
    ]
    gold_db.publish(pipeline, DAY.isoformat())
    assert _published(pipeline, DAY) == 562
    assert _stored(pipeline, DAY)["quarantine_rate"][0] == "warning"


def test_a_check_without_a_value_is_an_error_not_a_pass(week, spark, pipeline, sample_files):
    n = _stage(spark, pipeline, DAY, week, sample_files)
    _reconciled(pipeline, DAY, n)
    with gold_db.connect(pipeline) as conn, conn, conn.cursor() as cur:
        cur.execute("delete from gold_stage.field_profile where event_date = %s", (DAY,))
    report = quality.run_checks(pipeline, DAY.isoformat(), "staged")
    missing = {
        c.check_name: (c.outcome, c.value) for c in report.checks if c.dataset == "field_profile"
    }
    assert missing == {
        name: ("error", None)
        for name in (
            "title_empty_rate",
            "url_empty_rate",
            "clinical_areas_empty_rate",
            "keywords_empty_rate",
        )
    }


def _checks_text() -> str:
    return (REPO / "spark" / "tripclick_spark" / quality.CHECKS).read_text()


def _bad_day_files(sample_files, day: dt.date, folder: Path) -> list[Path]:
    """The sample moved to ``day`` with every title emptied, one file per web server."""
    shift_ms = (day - SAMPLE_DATE).days * 86_400_000
    out = []
    for i, path in enumerate(sample_files):
        lines = []
        for line in path.read_text().splitlines():
            r = json.loads(line)
            ms = int(r["DateCreated"][6:-2]) + shift_ms
            ts = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
            r.update(
                DateCreated=f"/Date({ms})/",
                Title="",
                event_ts=ts.isoformat(),
                event_date=ts.date().isoformat(),
            )
            lines.append(json.dumps(r))
        target = folder / f"{day.isoformat()}_part-{i:03d}.jsonl"
        target.write_text("\n".join(lines) + "\n")
        out.append(target)
    return out


def test_a_bad_day_through_the_pipeline_is_stopped_before_publication(
    spark, pipeline_factory, sample_files, tmp_path
):
    settings = pipeline_factory(tmp_path / "lake")
    _forget(settings, [PIPELINE_DAY])
    try:
        files = _bad_day_files(sample_files, PIPELINE_DAY, tmp_path)
        with pytest.raises(quality.QualityGateFailed, match="title_empty_rate = 1"):
            run_day.run(settings, files, spark=spark)
        day = PIPELINE_DAY.isoformat()
        # Reconciled, checked, stopped: staged for a look, nothing published.
        assert gold_db.total_events(settings, day, staged=True) == 562
        assert _published(settings, PIPELINE_DAY) is None
        stored = _stored(settings, PIPELINE_DAY)
        assert stored["title_empty_rate"] == ("error", 1.0)
        assert stored["volume_vs_trailing_7d"] == ("pass", 1.0)  # no history: no baseline

        # The CLI runs the same checks on the staged day: a table, then one error line.
        env = {
            **os.environ,
            "TRIPCLICK_TOPIC": settings.topic,
            "TRIPCLICK_LAKE_ROOT": settings.lake_root,
        }
        done = subprocess.run(
            [TRIPCLICK, "quality", "--date", day],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode != 0
        assert "title_empty_rate               field_profile            error    1" in done.stdout
        assert f"quality {day} (staged): FAILED, 2 errors, 1 warnings" in done.stdout
        errors = [line for line in done.stderr.splitlines() if "error:" in line]
        assert errors == [
            f"tripclick quality: error: {quality.failure_message(quality.run_checks(settings, day, 'staged'))}"
        ], done.stderr[-2000:]
        assert "Traceback" not in done.stderr
    finally:
        _forget(settings, [PIPELINE_DAY])
