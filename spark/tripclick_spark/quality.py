"""The data-quality gates of a date: Soda Core's checks on the day's marts in PostgreSQL.

The checks are SodaCL (``quality_checks.yml``): volume against the trailing week, sessions
per click, session lengths, titles in the popular list, the fields' empty rates, the
quarantine rate and the live marts' freshness. They run after the staged day reconciles
and before it is published (ARCHITECTURE 4): an error stops publication, a warning is
stored and alerted only. Each run replaces the date's rows in ``gold.dq_results`` and
writes the same results to the lake (``reports/quality``).

Why Soda Core: the marts are already in PostgreSQL, where SodaCL's checks run as SQL with
warn and fail thresholds (the two severities) and structured results, without bringing
a day back into Python. Its Spark data source does not support Spark 4, so the clicks'
per-field counts the empty-rate checks need are computed by the gold load (:func:`profile`)
and staged with the marts.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick_spark import figures, gold_db, lake

CHECKS = "quality_checks.yml"
# Soda's global configuration, ours rather than one it writes into the home directory:
# usage telemetry off (hosts reach no collector, and a data platform sends nothing out).
SODA_CONFIG = "soda_config.yml"
DATA_SOURCE = "gold"

# The clicks' optional text fields, whose empty rates the checks bound. The required ones
# (session, document, time) never reach silver empty: validation quarantines them.
PROFILED_FIELDS = ("url", "title", "doi", "clinical_areas", "keywords")

# Soda's outcomes as the gates name them; a check Soda could not evaluate is an error.
OUTCOMES = {"pass": "pass", "warn": "warning", "fail": "error"}


class QualityGateFailed(UserError):
    """An error-severity check failed; the message names each one with its value."""


@dataclass(frozen=True)
class CheckResult:
    check_name: str
    dataset: str
    outcome: str  # pass | warning | error
    value: float | None
    thresholds: dict[str, Any]


@dataclass(frozen=True)
class Report:
    event_date: str
    checked: str  # staged | published
    checks: list[CheckResult]
    # Soda's own error lines (a query that failed, the database unreachable).
    problems: list[str]

    @property
    def errors(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome == "error"]

    @property
    def warnings(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome == "warning"]

    @property
    def passed(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_date": self.event_date,
            "checked": self.checked,
            "passed": self.passed,
            "checks": [asdict(c) for c in self.checks],
            "problems": self.problems,
        }


def _empty(column: str, kind: str) -> Any:
    if kind == "array":
        return F.col(column).isNull() | (F.size(column) == 0)
    return F.col(column).isNull() | (F.trim(F.col(column)) == "")


def profile(clicks: DataFrame, event_date: str) -> DataFrame:
    """One row per profiled field of the day's silver clicks: records and empty ones."""
    kinds = {f.name: f.dataType.typeName() for f in clicks.schema.fields}
    aggs = [F.count(F.lit(1)).alias("records")] + [
        F.sum(_empty(name, kinds[name]).cast("long")).alias(name) for name in PROFILED_FIELDS
    ]
    row = clicks.agg(*aggs).first()
    records = int(row["records"])
    rows = [(event_date, name, records, int(row[name] or 0)) for name in PROFILED_FIELDS]
    spark = clicks.sparkSession
    return spark.createDataFrame(
        rows, "event_date string, field string, records long, empty long"
    ).withColumn("event_date", F.to_date("event_date"))


def _soda_scan():
    """A Soda scan object, with Soda's global configuration read from our packaged file."""
    from soda.common.config_helper import ConfigHelper

    # Soda logs every query error with its SQL and stack to the console; the report keeps
    # them (``problems``) and the failure message names the first, which is what to read.
    logging.getLogger("soda").setLevel(logging.CRITICAL)
    with resources.as_file(resources.files(__package__) / SODA_CONFIG) as path:
        ConfigHelper.get_instance(str(path))
    from soda.scan import Scan

    return Scan()


def _data_source_yaml(settings: Settings, schema: str) -> str:
    import yaml

    p = settings.pg_params
    source = {
        "type": "postgres",
        "host": p["host"],
        "port": p["port"],
        "username": p["user"],
        "password": p["password"],
        "database": p["dbname"],
        "schema": schema,
        # Soda passes sslmode itself (default "prefer"), which would override libpq's
        # PGSSLMODE: the cluster's verify-full must reach it. The CA stays PGSSLROOTCERT.
        "sslmode": os.environ.get("PGSSLMODE", "prefer"),
    }
    return yaml.safe_dump({f"data_source {DATA_SOURCE}": source})


def _result(check: dict[str, Any]) -> CheckResult:
    diagnostics = check.get("diagnostics") or {}
    value = diagnostics.get("value")
    return CheckResult(
        check_name=check["name"],
        dataset=check.get("table") or "",
        outcome=OUTCOMES.get(check.get("outcome") or "", "error"),
        value=None if value is None else float(value),
        thresholds={k: diagnostics[k] for k in ("warn", "fail") if diagnostics.get(k)},
    )


def staged_or_published(settings: Settings, event_date: str) -> str:
    """``staged`` when a load has staged the date, else ``published``; raises when neither."""
    if gold_db.total_events(settings, event_date, staged=True) is not None:
        return "staged"
    if gold_db.total_events(settings, event_date) is not None:
        return "published"
    raise UserError(
        f"gold holds nothing for {event_date}; run `tripclick gold load --date {event_date}`"
    )


def run_checks(settings: Settings, event_date: str, checked: str) -> Report:
    """Run every check of the date on its ``staged`` or ``published`` marts."""
    schema = gold_db.STAGE_SCHEMA if checked == "staged" else gold_db.SCHEMA
    scan = _soda_scan()
    scan.set_scan_definition_name(f"tripclick-quality-{event_date}")
    scan.set_data_source_name(DATA_SOURCE)
    scan.add_configuration_yaml_str(_data_source_yaml(settings, schema))
    scan.add_variables({"event_date": event_date, "schema": schema})
    sodacl = (resources.files(__package__) / CHECKS).read_text(encoding="utf-8")
    scan.add_sodacl_yaml_str(sodacl, CHECKS)
    try:
        scan.execute()
    finally:
        _close_connections(scan)
    found = {c.check_name: c for c in map(_result, scan.get_scan_results().get("checks", []))}
    problems = [log.message.splitlines()[0] for log in scan.get_error_logs()]
    if not found:
        raise UserError(
            f"the quality checks of {event_date} did not run: "
            + (problems[0] if problems else "Soda parsed no check")
        )
    # Soda leaves a check whose query returned no value out of its results; the gate
    # counts it as not evaluated (an error) rather than let it vanish.
    checks = [
        found.get(name) or CheckResult(name, dataset, "error", None, {})
        for name, dataset in declared_checks(sodacl)
    ]
    return Report(event_date, checked, checks, problems)


def _close_connections(scan) -> None:
    """Close the scan's PostgreSQL connection, which Soda 3.5 leaves open.

    Its ``close_all_connections`` only closes named connections; the data source's own
    stays open in a transaction, holding its read locks for as long as the process lives
    (a gold load in a long-lived process would block a later DROP or ALTER of gold).
    """
    for source in scan._data_source_manager.data_sources.values():
        if source.connection is not None:
            source.connection.close()
            source.connection = None


def declared_checks(sodacl: str) -> list[tuple[str, str]]:
    """Each check's name and dataset, in the order the SodaCL file declares them."""
    import yaml

    out = []
    for section, items in yaml.safe_load(sodacl).items():
        dataset = section.removeprefix("checks for ").strip()
        for item in items:
            (definition,) = item.values()
            out.append((definition["name"], dataset))
    return out


def save(spark, settings: Settings, report: Report) -> None:
    """Replace the date's rows of ``gold.dq_results`` and its report in the lake; push the
    gate's figures."""
    rows = [
        (
            report.event_date,
            c.check_name,
            c.dataset,
            c.outcome,
            c.value,
            json.dumps(c.thresholds),
            report.checked,
        )
        for c in report.checks
    ]
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        cur.execute(
            f"delete from {gold_db.SCHEMA}.dq_results where event_date = %s", (report.event_date,)
        )
        cur.executemany(
            f"insert into {gold_db.SCHEMA}.dq_results "
            "(event_date, check_name, dataset, outcome, value, thresholds, checked) "
            "values (%s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    lake.write_text(
        spark,
        lake.quality_report(settings, report.event_date),
        json.dumps(report.as_dict(), indent=2) + "\n",
    )
    figures.quality_gate(settings, report.event_date, [c.outcome for c in report.checks])


def failure_message(report: Report) -> str:
    failed = "; ".join(
        f"{c.check_name} = {'not evaluated' if c.value is None else f'{c.value:.4g}'} ({c.dataset})"
        for c in report.errors
    )
    hint = f" ({report.problems[0]})" if report.problems else ""
    outcome = "nothing published" if report.checked == "staged" else "the published day stays"
    return (
        f"data-quality gate of {report.event_date} failed: {failed}{hint}; {outcome}."
        f" See `tripclick quality --date {report.event_date}` and docs/runbook.md"
        ' "DataQualityGateFailed"'
    )


def gate(spark, settings: Settings, event_date: str, checked: str = "staged") -> Report:
    """Run, store and judge the date's checks; raise :class:`QualityGateFailed` on an error."""
    report = run_checks(settings, event_date, checked)
    save(spark, settings, report)
    if not report.passed:
        raise QualityGateFailed(failure_message(report))
    return report


def warned(checked: dict[str, Any]) -> list[str]:
    """The names of the warning checks of a report in its :meth:`Report.as_dict` form."""
    return [c["check_name"] for c in checked["checks"] if c["outcome"] == "warning"]


def lines(report: Report) -> list[str]:
    """The report as the CLI prints it: one line per check, then the verdict."""
    out = [f"{'check':<30} {'dataset':<24} {'outcome':<8} value"]
    for c in report.checks:
        value = "-" if c.value is None else f"{c.value:.4g}"
        out.append(f"{c.check_name:<30} {c.dataset:<24} {c.outcome:<8} {value}")
    verdict = "passed" if report.passed else "FAILED"
    out.append(
        f"quality {report.event_date} ({report.checked}): {verdict},"
        f" {len(report.errors)} errors, {len(report.warnings)} warnings"
    )
    return out
