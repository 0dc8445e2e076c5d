"""Superset imports the bundle against the local gold DB; every chart's data API returns rows."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
import yaml
from superset_api import list_objects

from tripclick_devstack.dashboards import bundle

pytestmark = pytest.mark.stack


def _bundle_uuids(kind: str) -> set[str]:
    return {body["uuid"] for body in bundle.of_kind(bundle.load(), kind).values()}


def test_reimport_updates_without_duplicates(superset, api):
    superset.import_dashboards()  # the fixture imported once already
    for kind, key in (("chart", "charts"), ("dataset", "datasets"), ("dashboard", "dashboards")):
        found = [o["uuid"] for o in list_objects(api, superset, kind, ["id", "uuid"])]
        ours = [u for u in found if u in _bundle_uuids(key)]
        assert sorted(ours) == sorted(_bundle_uuids(key)), kind
    databases = list_objects(api, superset, "database", ["id", "uuid", "database_name"])
    assert [d["database_name"] for d in databases].count("TripClick gold") == 1
    (dashboard,) = [
        d
        for d in list_objects(api, superset, "dashboard", ["id", "slug", "dashboard_title"])
        if d["slug"] == "tripclick-daily"
    ]
    assert dashboard["dashboard_title"] == "TripClick — daily"


def test_reimport_updates_the_dashboard(superset, api, tmp_path):
    def title() -> str:
        (dashboard,) = [
            d
            for d in list_objects(api, superset, "dashboard", ["slug", "dashboard_title"])
            if d["slug"] == "tripclick-daily"
        ]
        return dashboard["dashboard_title"]

    copy = tmp_path / "superset"
    shutil.copytree(bundle.BUNDLE_DIR, copy, ignore=shutil.ignore_patterns("*.py", "*.txt"))
    path = copy / "dashboards" / "tripclick_daily.yaml"
    edited = yaml.safe_load(path.read_text())
    edited["dashboard_title"] = "TripClick — daily (edited)"
    path.write_text(yaml.safe_dump(edited, allow_unicode=True))
    try:
        superset.import_dashboards(copy)
        assert title() == "TripClick — daily (edited)"
    finally:
        superset.import_dashboards()
    assert title() == "TripClick — daily"


def _chart_data(api, superset) -> dict[str, dict]:
    """Each bundle chart's data API answer, by the chart file's name."""
    imported = {
        c["uuid"]: c for c in list_objects(api, superset, "chart", ["id", "uuid", "datasource_id"])
    }
    answers = {}
    for name, chart in bundle.of_kind(bundle.load(), "charts").items():
        query_context = json.loads(chart["query_context"])
        # The bundle cannot know the dataset's id in this Superset: take the imported one.
        query_context["datasource"] = {
            "id": imported[chart["uuid"]]["datasource_id"],
            "type": "table",
        }
        resp = api.post(f"{superset.url}/api/v1/chart/data", json=query_context, timeout=120)
        assert resp.status_code == 200, f"{name}: {resp.status_code} {resp.text[:500]}"
        answers[name] = resp.json()
    return answers


def test_every_chart_returns_rows(superset, api, gold_marts, live_marts, serving_days):
    answers = _chart_data(api, superset)
    assert len(answers) == 22
    for name, answer in answers.items():
        for result in answer["result"]:
            assert result.get("error") is None, f"{name}: {result['error']}"
            assert result["rowcount"] > 0, f"{name}: no rows"

    with gold_marts.cursor() as cur:
        cur.execute("SELECT sum(total_events) FROM gold.mart_daily_traffic")
        (clicks,) = cur.fetchone()
        cur.execute(
            "SELECT clinical_area, sum(search_count) FROM gold.mart_clinical_areas "
            "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
        )
        top_area = cur.fetchone()
    (big_number,) = answers["charts/clicks_total.yaml"]["result"][0]["data"]
    assert big_number["clicks"] == clicks > 0
    first_area = answers["charts/clinical_areas.yaml"]["result"][0]["data"][0]
    assert (first_area["clinical_area"], first_area["clicks"]) == tuple(top_area)

    # The live dashboard: the crawler live_fill.py adds is the one anomalous session, and
    # the traffic chart's clicks are every click of the live marts.
    (anomalous,) = answers["charts/live_anomalous_sessions.yaml"]["result"][0]["data"]
    assert (anomalous["session_id"], anomalous["peak"]) == ("superset-test-crawler", 25)
    with live_marts.cursor() as cur:
        cur.execute("SELECT sum(clicks) FROM gold.live_traffic_per_minute")
        (live_clicks,) = cur.fetchone()
    traffic = answers["charts/live_traffic_per_minute.yaml"]["result"][0]["data"]
    assert sum(row["clicks"] for row in traffic) == live_clicks


def _dataset_rows(conn, name: str) -> list[dict]:
    """The rows of the bundle's virtual dataset ``name``, read straight from PostgreSQL."""
    (dataset,) = [
        d for d in bundle.of_kind(bundle.load(), "datasets").values() if d["table_name"] == name
    ]
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM ({dataset['sql']}) AS virtual_table")
        names = [d.name for d in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    conn.rollback()
    return rows


def _epoch_ms(day: dt.date) -> int:
    """A date as Superset's data API returns a temporal column: ms since the epoch (UTC)."""
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def test_operations_charts_show_the_runs_and_checks(superset, api, gold_marts, sample_date):
    # The sample day's run wrote its stage times and its checks.
    with gold_marts.cursor() as cur:
        cur.execute(
            "SELECT array_agg(DISTINCT stage ORDER BY stage) FROM gold.stage_runs "
            "WHERE event_date = %s",
            (sample_date,),
        )
        (stages,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM gold.dq_results WHERE event_date = %s", (sample_date,))
        (checks,) = cur.fetchone()
    gold_marts.rollback()
    assert {"produce", "silver", "bronze", "gold", "reconcile"} <= set(stages or [])
    assert checks > 0

    answers = _chart_data(api, superset)
    data = {name: answer["result"][0]["data"] for name, answer in answers.items()}
    # Each chart against the same rows read from PostgreSQL (the newest day decides them).
    runs = _dataset_rows(gold_marts, "ops_stage_runs")
    stage_times = data["charts/ops_stage_times.yaml"]
    assert {r["stage"] for r in stage_times} == {r["stage"] for r in runs}
    assert sum(r["seconds"] for r in stage_times) == pytest.approx(sum(r["seconds"] for r in runs))
    (failures,) = data["charts/ops_failed_stage_runs.yaml"]
    assert failures["failed_runs"] == sum(r["failed_runs"] for r in runs)

    days = _dataset_rows(gold_marts, "ops_reconciliation")
    layers = data["charts/ops_records_per_layer.yaml"]
    assert sum(r["kafka"] for r in layers) == sum(d["kafka_records"] for d in days) > 0
    assert sum(r["gold"] for r in layers) == sum(d["gold_total_events"] or 0 for d in days)
    rates = {r["event_date"]: r["quarantine_rate"] for r in data["charts/ops_quarantine_rate.yaml"]}
    assert rates == {
        _epoch_ms(d["event_date"]): (
            pytest.approx(d["quarantine_distinct"] / d["bronze_distinct"])
            if d["bronze_distinct"]
            else None
        )
        for d in days
    }
    reconciliation = data["charts/ops_reconciliation.yaml"]
    assert [r["result"] for r in reconciliation] == [
        d["result"] for d in sorted(days, key=lambda d: d["event_date"], reverse=True)
    ]

    latest = _dataset_rows(gold_marts, "ops_dq_results_latest_day")
    table = data["charts/ops_checks_latest_day.yaml"]
    assert sorted(r["check_name"] for r in table) == sorted(r["check_name"] for r in latest)
    assert "volume_vs_trailing_7d" in {r["check_name"] for r in table}
    severity = {"error": 1, "warning": 2, "pass": 3}
    order = [(severity[r["outcome"]], r["check_name"]) for r in table]
    assert order == sorted(order)  # errors, then warnings, then passes

    outcomes = _dataset_rows(gold_marts, "ops_dq_results")
    per_day: dict[tuple[int, str], int] = {
        (r["event_date"], r["outcome"]): r["checks"] for r in data["charts/ops_check_outcomes.yaml"]
    }
    expected: dict[tuple[int, str], int] = {}
    for r in outcomes:
        key = (_epoch_ms(r["event_date"]), r["outcome"])
        expected[key] = expected.get(key, 0) + 1
    assert per_day == expected
    assert sum(per_day.values()) == len(outcomes) > 0


def test_overview_charts_give_the_serving_layer(
    superset, api, gold_marts, serving_days, sample_date
):
    """Each overview chart against the same rows read from PostgreSQL's serving views: both
    sources, each date once, and the speed layer's accuracy recorded at publication."""
    data = {
        name: answer["result"][0]["data"] for name, answer in _chart_data(api, superset).items()
    }

    days = _dataset_rows(gold_marts, "overview_daily_traffic")
    sources = {_epoch_ms(d["event_date"]): d["source"] for d in days}
    assert len(sources) == len(days)  # one answer per date
    assert sources[_epoch_ms(dt.date.fromisoformat(serving_days["batch"]))] == "batch"
    assert sources[_epoch_ms(dt.date.fromisoformat(serving_days["speed"]))] == "speed"
    clicks = {(r["event_date"], r["source"]): r["clicks"]
              for r in data["charts/overview_clicks_by_source.yaml"]}  # fmt: skip
    assert clicks == {(_epoch_ms(d["event_date"]), d["source"]): d["total_events"] for d in days}
    sessions = {(r["event_date"], r["source"]): r["sessions"]
                for r in data["charts/overview_sessions_per_day.yaml"]}  # fmt: skip
    assert sessions == {
        (_epoch_ms(d["event_date"]), d["source"]): d["unique_sessions"] for d in days
    }
    # The speed day's clicks are every click of the sample day, counted by the speed layer.
    with gold_marts.cursor() as cur:
        cur.execute(
            "SELECT total_events FROM gold.mart_daily_traffic WHERE event_date = %s",
            (sample_date,),
        )
        (sample_clicks,) = cur.fetchone()
    gold_marts.rollback()
    speed_ms = _epoch_ms(dt.date.fromisoformat(serving_days["speed"]))
    assert clicks[(speed_ms, "speed")] == sample_clicks > 0

    # The 10 busiest clinical areas, per day.
    areas = _dataset_rows(gold_marts, "overview_clinical_areas")
    totals: dict[str, int] = {}
    per_day: dict[tuple[int, str], int] = {}
    for r in areas:
        totals[r["clinical_area"]] = totals.get(r["clinical_area"], 0) + r["search_count"]
        key = (_epoch_ms(r["event_date"]), r["clinical_area"])
        per_day[key] = per_day.get(key, 0) + r["search_count"]
    chart = {(r["event_date"], r["clinical_area"]): r["searches"]
             for r in data["charts/overview_clinical_areas.yaml"]}  # fmt: skip
    shown = {area for _, area in chart}
    assert len(shown) == min(10, len(totals)) > 0
    assert min(totals[a] for a in shown) >= max(
        [totals[a] for a in totals if a not in shown], default=0
    )
    assert chart == {k: v for k, v in per_day.items() if k[1] in shown}

    # The newest date's documents, ranked, with their source and as_of.
    documents = sorted(
        _dataset_rows(gold_marts, "overview_top_documents_latest_day"), key=lambda r: r["rank"]
    )[:15]
    table = data["charts/overview_top_documents.yaml"]
    assert [(r["rank"], r["document_id"], r["title"], r["source"]) for r in table] == [
        (d["rank"], d["document_id"], d["title"], d["source"]) for d in documents
    ]
    assert [r["as_of"] for r in table] == [int(d["as_of"].timestamp() * 1000) for d in documents]

    # The accuracy of the published day the speed layer had counted: clicks are exact.
    accuracy = _dataset_rows(gold_marts, "overview_speed_accuracy")
    rows = data["charts/overview_speed_accuracy.yaml"]
    assert sorted(
        (r["event_date"], r["mart"], r["metric"], r["largest_relative_diff"]) for r in rows
    ) == sorted(
        (_epoch_ms(a["event_date"]), a["mart"], a["metric"], a["largest_relative_diff"])
        for a in accuracy
    )
    order = [(-r["event_date"], -r["largest_relative_diff"], r["mart"], r["metric"]) for r in rows]
    assert order == sorted(order)  # newest date, largest difference first
    published = _epoch_ms(dt.date.fromisoformat(serving_days["batch"]))
    (total,) = [
        r for r in rows
        if (r["event_date"], r["mart"], r["metric"]) == (published, "daily_traffic", "total_events")
    ]  # fmt: skip
    assert (total["speed_value"], total["batch_value"], total["largest_relative_diff"]) == (
        sample_clicks,
        sample_clicks,
        0,
    )
