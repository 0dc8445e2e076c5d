"""The gold-load benchmark's code path at a tiny size, on the local stack's PostgreSQL.

A generated day of 3,000 clicks through ``bench/gold_load_bench.py`` (two rounds): the
JSON has every figure the README describes, the published and the raw-COPYed rows equal
the generated marts value for value, and the throwaway database is gone afterwards.
Nothing here looks at how long anything took.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tripclick_spark import gold_db

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "gold_load_bench.py"
SIDES = ("raw", "raw_key_order", "publish", "republish")
RATIOS = ("ratio_publish_over_raw", "ratio_republish_over_raw", "ratio_publish_over_raw_key_order")


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def report(stack_services, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("gold-load") / "gold_load.json"
    done = _bench("--clicks", "3000", "--rounds", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())


def test_every_mart_is_loaded_equal_to_the_generated_rows(report) -> None:
    assert set(report["rows"]) == set(gold_db.MARTS)
    assert report["rows"]["mart_daily_traffic"] == 1
    assert report["rows"]["mart_session_analysis"] > 100
    assert report["rows_total"] == sum(report["rows"].values())
    for mart, rows in report["rows"].items():
        assert report["loaded"][mart] == {
            "generated": rows,
            "published": rows,
            "raw_copied": rows,
            "equal": True,
        }


def test_the_json_holds_each_side_its_rounds_and_the_ratios(report) -> None:
    assert report["database"].startswith("tripclick_bench_gold_load_")
    assert report["rounds"] == 2 and report["clicks"] == 3000 and report["goal_ratio"] == 0.5
    assert {"cpus", "load_avg_1m_at_start", "load_avg_1m_at_end", "postgresql"} <= set(
        report["machine"]
    )
    for side in SIDES:
        figures = report[side]
        assert len(figures["rounds_s"]) == 2
        assert figures["best_s"] == min(figures["rounds_s"])
        assert figures["rows_per_s_best"] >= figures["rows_per_s_median"] > 0
    for ratio in RATIOS:
        assert len(report[ratio]["rounds"]) == 2
        assert report[ratio]["best"] > 0 and report[ratio]["median"] > 0
    profile = report["publish"]["profile_median_s"]
    assert {"stage_date_s", "publish_s"} <= set(profile)
    # The production path's statements, as they reached the server.
    assert "copy gold_stage.mart_session_analysis" in profile
    assert "insert gold.mart_session_analysis" in profile
    assert "delete gold.mart_session_analysis" in report["republish"]["profile_median_s"]


def test_the_throwaway_database_is_dropped(report, settings) -> None:
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (report["database"],))
        assert cur.fetchall() == []


def test_a_wrong_argument_is_one_line_and_exit_2(stack_services) -> None:
    done = _bench("--rounds", "0")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: --clicks and --rounds must be at least 1"]
