"""Fixtures shared by every test folder.

The ``stack`` fixture starts the local stack for the test session (unless it already
runs, for example after ``make up``) and stops, at the end, what it started itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tripclick import config, stack
from tripclick.errors import UserError

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO.parent / "shared" / "data" / "tripclick-sample"


@pytest.fixture(scope="session")
def settings() -> config.Settings:
    return config.load()


@pytest.fixture(scope="session")
def sample_files() -> list[Path]:
    files = sorted(SAMPLE_DIR.glob("*.jsonl"))
    if len(files) != 2:
        pytest.fail(f"the TripClick sample is missing: expected 2 .jsonl files in {SAMPLE_DIR}")
    return files


@pytest.fixture(scope="session")
def stack_services(settings):
    """The local stack, healthy, for the whole test session."""
    started = []
    try:
        for svc in stack.services(settings):
            if svc.is_healthy():
                continue
            svc.ensure_started()
            started.append(svc)
        stack.ensure_topic(settings)
    except UserError as err:
        for svc in reversed(started):
            svc.stop()
        pytest.fail(f"the local stack did not start: {err}")
    yield settings
    for svc in reversed(started):
        svc.stop()
