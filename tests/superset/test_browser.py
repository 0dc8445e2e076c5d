"""The dashboards in a real browser: Debian's Chromium, headless, driven by Playwright."""

from __future__ import annotations

import pytest
from dashboard_page import CHARTS, chart_names_and_errors, rendered_dashboard

from tripclick_devstack.dashboards.server import ADMIN_USER

pytestmark = pytest.mark.stack


def _open(superset, slug: str, capsys):
    return rendered_dashboard(superset.url, ADMIN_USER, superset.admin_password, slug, capsys)


def test_dashboard_renders_without_errors(superset, gold_marts, capsys):
    with gold_marts.cursor() as cur:
        cur.execute("SELECT sum(total_events) FROM gold.mart_daily_traffic")
        (clicks,) = cur.fetchone()

    with _open(superset, "tripclick-daily", capsys) as (page, data_calls):
        assert superset.dashboard_url.endswith("/tripclick-daily/")
        names, errors = chart_names_and_errors(page)
        big_number = page.inner_text("[data-test-viz-type='big_number_total'] .header-line")
        filters = page.eval_on_selector_all(
            "[data-test='filter-control-name']", "els => els.map(e => e.innerText.trim())"
        )

    assert errors == []
    assert sorted(names) == sorted(CHARTS["tripclick-daily"])
    charts = len(CHARTS["tripclick-daily"])
    assert len(data_calls) >= charts and all(status == 200 for _, status in data_calls), data_calls
    assert big_number.replace(",", "").strip() == str(clicks)
    assert filters == ["Date"]


def test_live_dashboard_renders_without_errors(superset, live_marts, capsys):
    with _open(superset, "tripclick-live", capsys) as (page, data_calls):
        names, errors = chart_names_and_errors(page)
    assert errors == []
    assert sorted(names) == sorted(CHARTS["tripclick-live"])
    charts = len(CHARTS["tripclick-live"])
    assert len(data_calls) >= charts and all(status == 200 for _, status in data_calls), data_calls


def _table(page, chart: str) -> tuple[list[str], list[list[str]]]:
    """A table chart's header and rows, as the cells' text."""
    holder = f"[data-test-chart-name='{chart}'] table"
    header = page.eval_on_selector_all(
        f"{holder} thead th", "els => els.map(e => e.innerText.trim())"
    )
    rows = page.eval_on_selector_all(
        f"{holder} tbody tr",
        "rows => rows.map(r => [...r.querySelectorAll('td')].map(c => c.innerText.trim()))",
    )
    return header, rows


def test_operations_dashboard_renders_without_errors(superset, gold_marts, capsys):
    with gold_marts.cursor() as cur:
        cur.execute(
            "SELECT check_name, outcome FROM gold.dq_results "
            "WHERE event_date = (SELECT max(event_date) FROM gold.dq_results)"
        )
        checks = dict(cur.fetchall())
    gold_marts.rollback()
    assert "volume_vs_trailing_7d" in checks

    with _open(superset, "tripclick-operations", capsys) as (page, data_calls):
        names, errors = chart_names_and_errors(page)
        stages = page.query_selector_all(
            "[data-test-chart-name='Stage times'] [data-test='slice-container'] canvas"
        )
        header, table = _table(page, "Checks, latest day")
        _, reconciliation = _table(page, "Reconciliation")

    assert errors == []
    assert sorted(names) == sorted(CHARTS["tripclick-operations"])
    charts = len(CHARTS["tripclick-operations"])
    assert len(data_calls) >= charts and all(status == 200 for _, status in data_calls), data_calls
    assert stages, "the stage times chart drew nothing"
    # Every check of the newest checked day is a row of the table, with its outcome.
    assert header[:2] == ["Check", "Outcome"], header
    assert {row[0]: row[1] for row in table} == checks, table
    severity = [{"error": 1, "warning": 2, "pass": 3}[row[1]] for row in table]
    assert severity == sorted(severity), table  # errors, then warnings, then passes
    assert reconciliation and {row[1] for row in reconciliation} <= {"passed", "failed"}


def test_overview_dashboard_renders_without_errors(superset, gold_marts, serving_days, capsys):
    with gold_marts.cursor() as cur:
        cur.execute(
            "SELECT source, count(*) FROM serving.popular_documents "
            "WHERE event_date = (SELECT max(event_date) FROM serving.popular_documents) "
            "GROUP BY source"
        )
        latest = cur.fetchall()
        cur.execute(
            "SELECT count(*) FROM serving.speed_accuracy_summary WHERE event_date > "
            "(SELECT max(event_date) FROM serving.speed_accuracy_summary) - 30"
        )
        (accuracy_rows,) = cur.fetchone()
    gold_marts.rollback()
    ((source, documents),) = latest  # the newest date comes from one source

    with _open(superset, "tripclick-overview", capsys) as (page, data_calls):
        names, errors = chart_names_and_errors(page)
        bars = page.query_selector_all(
            "[data-test-chart-name='Clicks per day, by source'] [data-test='slice-container'] canvas"
        )
        header, top = _table(page, "Top documents, latest day")
        _, accuracy = _table(page, "Speed layer accuracy")

    assert errors == []
    assert sorted(names) == sorted(CHARTS["tripclick-overview"])
    charts = len(CHARTS["tripclick-overview"])
    assert len(data_calls) >= charts and all(status == 200 for _, status in data_calls), data_calls
    assert bars, "the clicks chart drew nothing"
    # The newest date's documents, ranked, each marked with its source.
    source_column = header.index("Source")
    assert [row[0] for row in top] == [str(rank) for rank in range(1, min(15, documents) + 1)]
    assert {row[source_column] for row in top} == {source}, top
    assert len(accuracy) == min(20, accuracy_rows) > 0
