"""The benchmarks' pure figures: the pipeline's scaling table and the latency percentiles."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import stats


def _size(records: int, silver: float, duck: float) -> dict:
    return {
        "records": records,
        "spark_stages_s": {"silver": silver, "spark start": 5.0},
        "end_to_end_s": silver + 5.0,
        "duckdb_marts_s": duck,
    }


def test_scaling_table_gives_seconds_per_million_and_the_growth_exponent() -> None:
    table = stats.scaling_table([_size(1_000_000, 40.0, 2.0), _size(100_000, 4.0, 1.0)])
    assert [row["records"] for row in table["rows"]] == [100_000, 1_000_000]
    small, big = table["rows"]
    assert small["s"]["silver"] == 4.0 and small["s_per_million"]["silver"] == 40.0
    assert big["s_per_million"]["duckdb"] == 2.0
    assert "gold" not in big["s"]  # a stage the result lacks is left out, not zero
    (growth,) = table["growth"]
    assert growth["exponent"]["silver"] == 1.0  # ten times the clicks, ten times the time
    assert growth["exponent"]["spark start"] == 0.0
    assert growth["exponent"]["duckdb"] == pytest.approx(0.3, abs=0.01)


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert stats.percentile(values, 50) == 3.0
    assert stats.percentile(values, 95) == pytest.approx(4.8)
    assert stats.percentile(values, 0) == 1.0 and stats.percentile(values, 100) == 5.0
    assert stats.percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        stats.percentile([], 50)


def test_latency_summary_sets_p95_against_the_trigger() -> None:
    summary = stats.latency_summary([float(i) for i in range(1, 101)], trigger_s=10)
    assert summary["count"] == 100
    assert summary["p95_s"] == pytest.approx(95.05)
    assert summary["p95_over_trigger"] == pytest.approx(9.505, abs=0.001)
    assert summary["max_s"] == 100.0
