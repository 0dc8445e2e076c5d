"""The data-quality gates (tripclick_spark.quality, Soda Core over PostgreSQL).

Most cases stage a day of the real sample directly into ``gold_stage`` (marts computed in
plain Python, the field profile by the gold load's own Spark function), on dates of their
own, and run the gates on it: a clean day passes, half the usual volume and empty titles
are errors that stop publication, a quarantine rate of 2% only warns. One case runs a bad
day through the whole pipeline (Kafka, silver, bronze, gold) and the CLI.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pyarrow as pa
import pytest
from expected_marts import clicks, marts
from kafka_certs import free_port
from prometheus_client.parser import text_string_to_metric_families

from tripclick_devstack import run_day
from tripclick_spark import figures, gold_db, lake, quality
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


def test_a_warning_alerts_and_publication_goes_on(week, spark, pipeline, sample_files, pushgateway):
    settings = dataclasses.replace(pipeline, pushgateway=pushgateway)
    n = _stage(spark, settings, DAY, week, sample_files)
    _reconciled(settings, DAY, n, quarantined=12)  # 12 / 574 = 2.1%
    checked = gold.check_and_publish(spark, settings, DAY.isoformat())
    assert checked["passed"] is True
    warnings = [
        (c["check_name"], c["value"]) for c in checked["checks"] if c["outcome"] == "warning"
    ]
    assert warnings == [
        ("quarantine_rate", pytest.approx(12 / 574)),
        ("live_marts_lag_minutes", -1),
    ]
    assert _published(settings, DAY) == 562
    assert _stored(settings, DAY)["quarantine_rate"][0] == "warning"
    pushed = _pushed(pushgateway)
    of_day = frozenset({("event_date", DAY.isoformat())})
    assert pushed[("tripclick_dq_gate_passed", of_day)] == 1
    assert pushed[("tripclick_dq_checks", of_day | {("outcome", "warning")})] == 2
    newest = dt.datetime.fromisoformat(gold_db.newest_published(settings)).replace(tzinfo=dt.UTC)
    assert pushed[("tripclick_last_published_date_seconds", frozenset())] == newest.timestamp()


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


@pytest.fixture
def pushgateway(tmp_path):
    """Debian's Pushgateway on a free 127.0.0.1 port, stopped after the test."""
    binary = shutil.which("prometheus-pushgateway")
    if binary is None:
        pytest.fail("prometheus-pushgateway is not installed: run make test (it installs it)")
    address = f"127.0.0.1:{free_port()}"
    log = (tmp_path / "pushgateway.log").open("w")
    # In memory only: Debian's build persists to /var/lib/prometheus by default.
    args = [binary, f"--web.listen-address={address}", "--persistence.file="]
    proc = subprocess.Popen(args, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://{address}/-/ready", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail(
                        f"the Pushgateway did not start: {(tmp_path / 'pushgateway.log').read_text()}"
                    )
                time.sleep(0.2)
        yield address
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _pushed(address: str) -> dict[tuple[str, frozenset], float]:
    """The Pushgateway's figures of the pipeline's job: (name, labels) -> value.

    ``job`` and the gateway's empty ``instance`` label are left out of the labels.
    """
    text = urllib.request.urlopen(f"http://{address}/metrics", timeout=5).read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("job") == figures.JOB:
                labels = {k: v for k, v in sample.labels.items() if k not in ("job", "instance")}
                out[(sample.name, frozenset(labels.items()))] = sample.value
    return out


def test_a_gateway_that_does_not_answer_costs_one_line(pipeline, capsys):
    settings = dataclasses.replace(pipeline, pushgateway=f"127.0.0.1:{free_port()}")
    assert figures.quality_gate(settings, "2015-06-08", ["pass"]) is False
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        f"figures: not pushed to the Pushgateway at {settings.pushgateway}: "
    )
    assert (
        figures.quality_gate(dataclasses.replace(pipeline, pushgateway=""), "2015-06-08", [])
        is False
    )


def test_a_bad_day_through_the_pipeline_is_stopped_before_publication(
    spark, pipeline_factory, sample_files, tmp_path, pushgateway
):
    settings = dataclasses.replace(pipeline_factory(tmp_path / "lake"), pushgateway=pushgateway)
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

        # The stages pushed the date's figures, under the names the alert rules read.
        pushed = _pushed(pushgateway)
        of_day = frozenset({("event_date", day)})
        assert pushed[("tripclick_reconciliation_passed", of_day)] == 1
        assert pushed[("tripclick_dq_gate_passed", of_day)] == 0
        assert pushed[("tripclick_dq_checks", of_day | {("outcome", "error")})] == 2
        for layer in ("kafka", "bronze", "silver", "gold"):
            assert pushed[("tripclick_layer_records", of_day | {("layer", layer)})] == 562
        assert pushed[("tripclick_quarantine_ratio", of_day)] == 0
        # The stream's progress: caught up with its topic when it ended.
        topic = frozenset({("topic", settings.topic)})
        assert pushed[("tripclick_silver_offsets_behind_latest", topic)] == 0
        # Nothing published: no newest date was pushed.
        assert not [k for k in pushed if k[0] == "tripclick_last_published_date_seconds"]

        # The CLI runs the same checks on the staged day: a table, then one error line.
        env = {
            **os.environ,
            "TRIPCLICK_TOPIC": settings.topic,
            "TRIPCLICK_LAKE_ROOT": settings.lake_root,
            "TRIPCLICK_PUSHGATEWAY": pushgateway,
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
        # The CLI's stage pushed its time and its failure.
        quality_stage = frozenset({("event_date", day), ("stage", "quality")})
        pushed = _pushed(pushgateway)
        assert pushed[("tripclick_stage_succeeded", quality_stage)] == 0
        assert pushed[("tripclick_stage_duration_seconds", quality_stage)] > 0
    finally:
        _forget(settings, [PIPELINE_DAY])
