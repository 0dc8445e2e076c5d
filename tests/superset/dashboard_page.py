"""Superset dashboards in a real browser: Debian's Chromium, headless, driven by Playwright.

Shared by the local dashboards' tests (tests/superset) and the fleet's (tests/fleet), which
reach Superset through the jump host's tunnel.
"""

from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Each dashboard's charts, by slug (superset/dashboards/).
CHARTS = {
    "tripclick-daily": [
        "Clicks",
        "Daily traffic",
        "Peak hour per day",
        "Top documents",
        "Clinical areas",
        "Session length distribution",
    ],
    "tripclick-live": [
        "Traffic per minute",
        "Anomalous sessions",
        "Top documents, last hour",
        "Clinical areas, last 24 hours",
    ],
    "tripclick-operations": [
        "Stage times",
        "Failed stage runs",
        "Records per layer",
        "Quarantine rate",
        "Checks, latest day",
        "Check outcomes per day",
        "Reconciliation",
    ],
    "tripclick-overview": [
        "Clicks per day, by source",
        "Sessions per day",
        "Top documents, latest day",
        "Clinical areas per day",
        "Speed layer accuracy",
    ],
}
# Superset renders a failed chart as an error alert inside the chart's holder.
ERROR_SELECTOR = ".error-alert, .ant-alert-error, [data-test='error-tooltip']"
# A chart is done when it shows its content (or an error, which the test then reports).
RENDERED_SELECTOR = (
    "[data-test='slice-container'] :is(svg, canvas, table, .header-line), " + ERROR_SELECTOR
)
WAIT_MS = 120_000


def settled_screenshot(page, path: Path, attempts: int = 30) -> None:
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
def rendered_dashboard(
    url: str, user: str, password: str, slug: str, capsys, artifacts: str = "superset"
):
    """A logged-in page on the dashboard at Superset's ``url`` once its charts rendered;
    yields (page, data calls).

    The settled screenshot is saved to ``test-artifacts/<artifacts>/<slug>.png``.
    """
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing; run make chromium (apt-get install -y chromium)")
    folder = ARTIFACTS / artifacts
    folder.mkdir(parents=True, exist_ok=True)
    screenshot = folder / f"{slug}.png"
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
            page.goto(f"{url}/login/")
            page.fill("#username", user)
            page.fill("#password", password)
            page.keyboard.press("Enter")
            page.wait_for_url("**/superset/welcome/**")

            page.goto(f"{url}/superset/dashboard/{slug}/")
            page.wait_for_selector("[data-test='dashboard-header-container']")
            # Done when every chart has rendered content and no spinner is left.
            page.wait_for_function(
                """({n, rendered}) => {
                  const charts = document.querySelectorAll("[data-test='chart-grid-component']");
                  return charts.length === n && [...charts].every(c =>
                    !c.querySelector("[data-test='loading-indicator'], .loading") &&
                    c.querySelector(rendered));
                }""",
                arg={"n": len(CHARTS[slug]), "rendered": RENDERED_SELECTOR},
            )
            page.wait_for_load_state("networkidle")
            settled_screenshot(page, screenshot)
            with capsys.disabled():
                print(f"\nscreenshot of the dashboard: {screenshot}")
            yield page, data_calls
        finally:
            browser.close()


def chart_names_and_errors(page) -> tuple[list[str], list[str]]:
    names = page.eval_on_selector_all(
        "[data-test='chart-grid-component']",
        "els => els.map(e => e.getAttribute('data-test-chart-name'))",
    )
    errors = page.eval_on_selector_all(
        f"[data-test='chart-grid-component'] :is({ERROR_SELECTOR})",
        "els => els.map(e => e.innerText)",
    )
    return names, errors
