"""The benchmarks' plots, drawn from their result JSON (so a committed result can be redrawn).

Usage: ``.venv/bin/python bench/plots.py bench/results/pipeline.json`` (or
``freshness.json``) writes the PNG next to the JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import stats


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pipeline(report: dict, out: Path) -> Path:
    """Time against size (clicks), log-log, one line per stage with end to end and DuckDB."""
    plt = _pyplot()
    table = report.get("scaling") or stats.scaling_table(report["sizes"])
    fig, ax = plt.subplots(figsize=(8, 5.5))
    sizes = [row["records"] for row in table["rows"]]
    for stage in table["stages"]:
        points = [(row["records"], row["s"][stage]) for row in table["rows"] if stage in row["s"]]
        if not points:
            continue
        bold = stage in ("end to end", "duckdb")
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker="o",
            linewidth=2.5 if bold else 1.2,
            linestyle="--" if stage == "duckdb" else "-",
            label=stage,
        )
    if len(sizes) > 1:  # a linear reference through end to end's first point
        first = table["rows"][0]["s"].get("end to end")
        if first:
            ax.plot(
                [sizes[0], sizes[-1]],
                [first, first * sizes[-1] / sizes[0]],
                color="grey",
                linestyle=":",
                linewidth=1,
                label="linear (from end to end)",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("clicks in the day")
    ax.set_ylabel("wall time (s)")
    ax.set_title(f"Pipeline stages against size ({report.get('run_at', '')[:10]})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def freshness(report: dict, out: Path) -> Path:
    """Each click's latency over its produce time, and their distributions, both targets."""
    plt = _pyplot()
    samples = report["samples"]
    trigger = report["trigger_s"]
    fig, (over_time, dist) = plt.subplots(1, 2, figsize=(12, 5))
    for target, colour in (("silver", "tab:blue"), ("live", "tab:orange")):
        points = samples.get(target) or []
        if not points:
            continue
        over_time.scatter(
            [p[0] for p in points], [p[1] for p in points], s=2, color=colour, label=target
        )
        lat = sorted(p[1] for p in points)
        dist.plot(lat, [(i + 1) / len(lat) for i in range(len(lat))], color=colour, label=target)
        p95 = report["latency"][target]["p95_s"]
        dist.axvline(p95, color=colour, linestyle=":", linewidth=1)
    for ax in (over_time, dist):
        ax.grid(True, alpha=0.3)
    goal = report.get("goal_p95_over_trigger", 2) * trigger
    over_time.axhline(goal, color="red", linestyle="--", linewidth=1, label=f"goal {goal:g} s")
    dist.axvline(goal, color="red", linestyle="--", linewidth=1, label=f"goal {goal:g} s")
    over_time.set_xlabel("produced (s after the replay started)")
    over_time.set_ylabel("latency (s)")
    over_time.set_title("latency of each sampled click")
    over_time.legend(markerscale=4)
    dist.set_xlabel("latency (s); dotted: p95")
    dist.set_ylabel("share of clicks")
    dist.set_title("distribution (CDF)")
    dist.legend()
    fig.suptitle(
        f"Freshness at {report['achieved_rate_per_s']:,.0f} clicks/s, trigger {trigger:g} s "
        f"({report.get('run_at', '')[:10]})"
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    source = Path(argv[0])
    report = json.loads(source.read_text())
    draw = freshness if "latency" in report else pipeline
    print(draw(report, source.with_suffix(".png")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
