"""Pure figures the benchmarks build from their measurements (tested in tests/bench)."""

from __future__ import annotations

import itertools
import math

# The pipeline's stages as the scaling table lists them, and where each comes from in a
# size's result: a stage of ``spark_stages_s``, or a key of the size's result itself.
SCALING_STAGES = {
    "spark start": ("spark_stages_s", "spark start"),
    "produce": ("spark_stages_s", "produce"),
    "silver": ("spark_stages_s", "silver"),
    "bronze": ("spark_stages_s", "bronze"),
    "gold": ("spark_stages_s", "gold"),
    "reconcile": ("spark_stages_s", "reconcile"),
    "end to end": (None, "end_to_end_s"),
    "duckdb": (None, "duckdb_marts_s"),
}


def scaling_table(sizes: list[dict]) -> dict:
    """Per size, each stage's seconds and seconds per million clicks; per stage and pair of
    consecutive sizes, the growth exponent ``log(t2/t1) / log(n2/n1)`` (1 = linear, above 1
    grows faster than the clicks)."""
    rows = []
    for size in sorted(sizes, key=lambda s: s["records"]):
        seconds = {}
        for stage, (group, key) in SCALING_STAGES.items():
            held = size.get(group, {}) if group else size
            if key in held:
                seconds[stage] = held[key]
        per_million = {k: round(v * 1_000_000 / size["records"], 2) for k, v in seconds.items()}
        rows.append({"records": size["records"], "s": seconds, "s_per_million": per_million})
    growth = []
    for a, b in itertools.pairwise(rows):
        exponents = {}
        for stage in SCALING_STAGES:
            t1, t2 = a["s"].get(stage), b["s"].get(stage)
            if t1 and t2 and t1 > 0 and t2 > 0:
                exponents[stage] = round(
                    math.log(t2 / t1) / math.log(b["records"] / a["records"]), 2
                )
        growth.append({"from": a["records"], "to": b["records"], "exponent": exponents})
    return {"stages": list(SCALING_STAGES), "rows": rows, "growth": growth}


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (0..100) by linear interpolation between the closest ranks
    (NumPy's default); ``values`` need not be sorted."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(latencies_s: list[float], trigger_s: float) -> dict:
    """Count, p50/p95/p99/max of the latencies (seconds), and p95 over the trigger interval."""
    p95 = percentile(latencies_s, 95)
    return {
        "count": len(latencies_s),
        "p50_s": round(percentile(latencies_s, 50), 3),
        "p95_s": round(p95, 3),
        "p99_s": round(percentile(latencies_s, 99), 3),
        "max_s": round(max(latencies_s), 3),
        "p95_over_trigger": round(p95 / trigger_s, 3),
    }
