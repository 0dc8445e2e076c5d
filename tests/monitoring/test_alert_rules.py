"""The alert rules (monitoring/rules): promtool's syntax check and unit tests, and what
promtool cannot see: every alert tested firing and silent, documented in the runbook, and
the publication deadline written in the schedule's time zone."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from tripclick.contract import DEFAULT_TIMEZONE

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "monitoring" / "rules" / "tripclick.rules.yml"
UNIT_TESTS = Path(__file__).with_name("tripclick.rules.test.yml")
RUNBOOK = REPO / "docs" / "runbook.md"


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed: run make test (it installs Debian's prometheus)")
    return path


def _alerts() -> dict[str, dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {r["alert"]: r for g in groups for r in g["rules"] if "alert" in r}


def _run(promtool: str, *args: str) -> None:
    run = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_rules_parse(promtool: str) -> None:
    _run(promtool, "check", "rules", str(RULES))


def test_rules_unit_tests_pass(promtool: str) -> None:
    _run(promtool, "test", "rules", str(UNIT_TESTS))


def test_issue_alerts_exist() -> None:
    assert set(_alerts()) == {
        "KafkaBrokerDown",
        "KafkaUnderReplicatedPartitions",
        "SilverConsumerLagGrowing",
        "AirflowDagRunFailed",
        "ReconciliationFailed",
        "DataQualityGateFailed",
        "DayNotPublished",
        "DiskAlmostFull",
        "CertificateExpiresSoon",
    }


def test_every_alert_is_tested_firing_and_silent() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for case in yaml.safe_load(UNIT_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    alerts = set(_alerts())
    assert alerts - firing == set(), "alerts never tested firing"
    assert alerts - silent == set(), "alerts never tested staying silent"


def test_every_alert_has_a_runbook_section() -> None:
    headings = set(re.findall(r"^### (\w+)$", RUNBOOK.read_text(), flags=re.M))
    for name, rule in _alerts().items():
        assert name in headings, f"docs/runbook.md has no '### {name}' section"
        assert rule["annotations"]["runbook_url"] == f"docs/runbook.md#{name.lower()}"
        assert rule["labels"]["severity"] in ("warning", "critical"), name


def test_publication_deadline_is_18_30_in_the_schedule_zone() -> None:
    # PromQL has only UTC: the rule shifts time() by the zone's offset, which must be the
    # same all year (a zone with daylight saving needs two rules).
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    offsets = {
        dt.datetime(2024, month, 1, tzinfo=zone).utcoffset().total_seconds() for month in (1, 7)
    }
    assert len(offsets) == 1, f"{DEFAULT_TIMEZONE} has daylight saving; split DayNotPublished"
    [offset] = offsets
    expr = _alerts()["DayNotPublished"]["expr"]
    assert expr.count(f"time() + {int(offset)}") == 2
    assert ">= 66600" in expr  # 18:30 = 18.5 h
