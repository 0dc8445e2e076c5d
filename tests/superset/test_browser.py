"""The dashboards in a real browser: Debian's Chromium, headless, driven by Playwright."""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from tripclick_devstack.dashboards.server import ADMIN_USER

pytestmark = pytest.mark.stack

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "superset"
CHARTS = 6
# Superset renders a failed chart as an error alert inside the chart's holder.
ERROR_SELECTOR = ".error-alert, .ant-alert-error, [data-test='error-tooltip']"
# A chart is done when it shows its content (or an error, which the test then reports).
RENDERED_SELECTOR = (
    "[data-test='slice-container'] :is(svg, canvas, table, .header-line), " + ERROR_SELECTOR
)
WAIT_MS = 120_000


def _settled_screenshot(page, path: Path, attempts: int = 30) -> None:
    """Save a screenshot once two in a row are identical (ECharts animates bars in)."""
    previous = None
    for _ in range(attempts):
        current = page.screenshot(full_page=True, animations="disabled")
        if current == previous:
            break
        previous = current
        page.wait_for_timeout(500)
    path.write_bytes(current)


@contextmanager
def _rendered_dashboard(superset, slug: str, charts: int, capsys):
    """A logged-in page on the dashboard once its charts rendered; yields (page, data calls).

    The settled screenshot is saved to ``test-artifacts/superset/<slug>.png``.
    """
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; run make chromium (apt-get install -y chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / f"{slug}.png"
    data_calls: list[tuple[str, int]] = []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        browser = pw.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
            ],
            viewport={"width": 1600, "height": 1300},
        )  # fmt: skip
        try:
            page = browser.new_page()
            page.set_default_timeout(WAIT_MS)
            page.on(
                "response",
                lambda r: data_calls.append((r.url, r.status)) if "/chart/data" in r.url else None,
            )
            page.goto(f"{superset.url}/login/")
            page.fill("#username", ADMIN_USER)
            page.fill("#password", superset.admin_password)
            page.keyboard.press("Enter")
            page.wait_for_url("**/superset/welcome/**")

            page.goto(f"{superset.url}/superset/dashboard/{slug}/")
            page.wait_for_selector("[data-test='dashboard-header-container']")
            # Done when every chart has rendered content and no spinner is left.
            page.wait_for_function(
                """({n, rendered}) => {
                  const charts = document.querySelectorAll("[data-test='chart-grid-component']");
                  return charts.length === n && [...charts].every(c =>
                    !c.querySelector("[data-test='loading-indicator'], .loading") &&
                    c.querySelector(rendered));
                }""",
                arg={"n": charts, "rendered": RENDERED_SELECTOR},
            )
            page.wait_for_load_state("networkidle")
            _settled_screenshot(page, screenshot)
            with capsys.disabled():
                print(f"\nscreenshot of the dashboard: {screenshot}")
            yield page, data_calls
        finally:
            browser.close()


def _chart_names_and_errors(page) -> tuple[list[str], list[str]]:
    names = page.eval_on_selector_all(
        "[data-test='chart-grid-component']",
        "els => els.map(e => e.getAttribute('data-test-chart-name'))",
    )
    errors = page.eval_on_selector_all(
        f"[data-test='chart-grid-component'] :is({ERROR_SELECTOR})",
        "els => els.map(e => e.innerText)",
    )
    return names, errors


def test_dashboard_renders_without_errors(superset, gold_marts, capsys):
    with gold_marts.cursor() as cur:
        cur.execute("SELECT sum(total_events) FROM gold.mart_daily_traffic")
        (clicks,) = cur.fetchone()

    with _rendered_dashboard(superset, "tripclick-daily", CHARTS, capsys) as (page, data_calls):
        assert superset.dashboard_url.endswith("/tripclick-daily/")
        names, errors = _chart_names_and_errors(page)
        big_number = page.inner_text("[data-test-viz-type='big_number_total'] .header-line")
        filters = page.eval_on_selector_all(
            "[data-test='filter-control-name']", "els => els.map(e => e.innerText.trim())"
        )

    assert errors == []
    assert sorted(names) == sorted(
        [
            "Clicks",
            "Daily traffic",
            "Peak hour per day",
            "Top documents",
            "Clinical areas",
            "Session length distribution",
        ]
    )
    assert len(data_calls) >= CHARTS and all(status == 200 for _, status in data_calls), data_calls
    assert big_number.replace(",", "").strip() == str(clicks)
    assert filters == ["Date"]


def test_live_dashboard_renders_without_errors(superset, live_marts, capsys):
    with _rendered_dashboard(superset, "tripclick-live", 4, capsys) as (page, data_calls):
        names, errors = _chart_names_and_errors(page)
    assert errors == []
    assert sorted(names) == sorted(
        [
            "Traffic per minute",
            "Anomalous sessions",
            "Top documents, last hour",
            "Clinical areas, last 24 hours",
        ]
    )
    assert len(data_calls) >= 4 and all(status == 200 for _, status in data_calls), data_calls
