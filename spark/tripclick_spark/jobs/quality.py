"""Quality: run a date's data-quality gates from the CLI or spark-submit.

The gold load runs the same gates on the staged day before it publishes; this job runs
them on demand: on the staged marts when a load has staged the date (a day the gates
stopped, say), else on the published ones. The results replace the date's rows in
``gold.dq_results`` and its report in the lake; an error exits non-zero.
"""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import SparkSession

from tripclick.config import Settings
from tripclick_spark import gold_db, quality, runner


def _execute(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> None:
    gold_db.migrate(settings)
    checked = quality.staged_or_published(settings, args.date)
    report = quality.run_checks(settings, args.date, checked)
    quality.save(spark, settings, report)
    print("\n".join(quality.lines(report)))
    if not report.passed:
        raise quality.QualityGateFailed(quality.failure_message(report))


COMMAND = runner.Job(
    "quality",
    "run a date's data-quality checks (staged day if any, else published); fail on an error",
    _execute,
)


def main(argv: list[str] | None = None) -> int:
    return runner.main(COMMAND, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
