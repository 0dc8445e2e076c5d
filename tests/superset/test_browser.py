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
