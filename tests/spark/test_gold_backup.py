"""Backup and restore of gold (tripclick backup): load the sample day, back it up into the
lake on the S3 endpoint, drop the gold schema, restore, and get every mart back row for row.

The day runs on a topic and lake of its own (not the session's ``pipeline`` topic), so the
Kafka counts other tests assert for the sample day stay theirs.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tripclick_devstack import run_day
from tripclick_spark import gold_backup, gold_db

pytestmark = [pytest.mark.stack, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
TRIPCLICK = str(REPO / ".venv" / "bin" / "tripclick")
SAMPLE_DATE = "2016-01-01"


@pytest.fixture(scope="module")
def own_day(spark, pipeline_factory, sample_files, tmp_path_factory):
    settings = pipeline_factory(tmp_path_factory.mktemp("backup-lake"))
    result = run_day.run(settings, sample_files, spark=spark)
    assert result.reconciliation["passed"] is True
    yield settings


def _tripclick(lake_root: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRIPCLICK_LAKE_ROOT": lake_root}
    return subprocess.run([TRIPCLICK, *args], env=env, capture_output=True, text=True, timeout=300)


def _table_counts(settings) -> dict[str, int]:
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_schema in ('gold', 'gold_stage', 'serving')"
            " and table_type = 'BASE TABLE'"
        )
        tables = sorted(r[0] for r in cur.fetchall())
        counts = {}
        for table in tables:
            cur.execute(f"select count(*) from {table}")
            counts[table] = cur.fetchone()[0]
    return counts


def test_backup_drop_restore_gives_the_marts_back_row_for_row(own_day) -> None:
    lake = f"s3a://{own_day.s3_bucket}/test-backup-{uuid.uuid4().hex[:8]}"
    before = _tripclick(lake, "gold", "dump", "--date", SAMPLE_DATE)
    assert before.returncode == 0, before.stderr
    marts = json.loads(before.stdout)
    assert len(marts["mart_session_analysis"]) > 100
    counts_before = _table_counts(own_day)

    # Two nightly runs with --keep 1: the second deletes the first.
    first = _tripclick(lake, "backup", "create", "--keep", "1")
    assert first.returncode == 0, first.stderr
    second = _tripclick(lake, "backup", "create", "--keep", "1")
    assert second.returncode == 0, second.stderr
    print(first.stdout + second.stdout)
    listed = _tripclick(lake, "backup", "list").stdout.split()
    assert len(listed) == 1 and listed[0] in second.stdout
    assert "deleted gold-" in second.stdout

    with gold_db.connect(own_day) as conn, conn, conn.cursor() as cur:
        cur.execute("drop schema gold cascade")
    gone = _tripclick(lake, "gold", "dump", "--date", SAMPLE_DATE)
    assert gone.returncode != 0

    restored = _tripclick(lake, "backup", "restore")
    assert restored.returncode == 0, restored.stderr
    after = _tripclick(lake, "gold", "dump", "--date", SAMPLE_DATE)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == marts
    assert _table_counts(own_day) == counts_before
    # serving's views read gold's tables (dropped with them above): restored too, they answer.
    with gold_db.connect(own_day) as conn, conn.cursor() as cur:
        cur.execute(
            "select source, total_events from serving.daily_traffic where event_date = %s",
            (SAMPLE_DATE,),
        )
        assert cur.fetchall() == [("batch", marts["mart_daily_traffic"][0]["total_events"])]
    print("restored row counts:", {t: len(rows) for t, rows in marts.items()})


def test_restore_of_an_unknown_backup_is_one_line_and_leaves_gold(own_day) -> None:
    lake = f"s3a://{own_day.s3_bucket}/test-backup-{uuid.uuid4().hex[:8]}"
    run = _tripclick(lake, "backup", "restore")
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"tripclick backup: error: no backup in {lake}/backups/gold;"
        " run tripclick backup create first"
    ]
    assert gold_db.total_events(own_day, SAMPLE_DATE) is not None


def test_only_the_newest_backups_are_kept() -> None:
    names = [f"gold-2016010{d}T000000Z.dump" for d in (3, 1, 2)]
    assert gold_backup.to_delete(names, 2) == ["gold-20160101T000000Z.dump"]
    assert gold_backup.to_delete(names, 5) == []
