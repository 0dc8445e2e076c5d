"""Pipeline benchmark: a generated day through the Spark medallion jobs, next to DuckDB.

For each size (default 100k, 1M and 5M clicks): generate the day (two web-server files, 1%
duplicates, 0.1% bad lines; not timed), then time ``run-day``'s stages on the local
stack (produce, silver catch-up, bronze, gold, reconciliation; one SparkSession,
``local[2]``) and, side by side, DuckDB computing the same four marts straight from
the day's JSON files. The marts of both are compared row for row. Each size gets a
fresh topic and a fresh lake, so nothing of an earlier run is counted. The JSON's
``scaling`` table gives each stage's seconds and seconds per million clicks per size, and
``pipeline.png`` plots them (log-log; ``bench/plots.py`` redraws it from the JSON).

Usage: ``make bench-pipeline`` or ``.venv/bin/python bench/pipeline_bench.py
[--sizes 100000 1000000 5000000]``. Results: ``bench/results/pipeline.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path

import duckdb
import fresh
import host
import plots
import stats
from duckdb_marts import duckdb_marts

from tripclick import config
from tripclick.generator import DaySpec, generate_day
from tripclick_devstack import run_day, stack
from tripclick_spark import gold_db, session

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "bench" / "results" / "pipeline.json"
DAY = dt.date(2016, 1, 1)
SEED = 2016
GOAL_5M_SECONDS = 600


def log(text: str) -> None:
    print(f"[pipeline-bench] {text}", file=sys.stderr, flush=True)


def generated_day(settings: config.Settings, records: int) -> list[Path]:
    """The day's files, generated once per spec and reused."""
    spec = DaySpec(DAY, records, seed=SEED, duplicate_rate=0.01, malformed_rate=0.001)
    folder = settings.home / "bench" / f"pipeline-day-{records}"
    marker = folder / "spec.json"
    wanted = json.dumps(dataclasses.asdict(spec), default=str)
    files = [folder / f"{DAY}_part-{i:03d}.jsonl" for i in range(spec.servers)]
    if marker.exists() and marker.read_text() == wanted and all(f.exists() for f in files):
        return files
    log(f"generating {records:,} records into {folder}")
    shutil.rmtree(folder, ignore_errors=True)
    generate_day(spec, folder)
    marker.write_text(wanted)
    return files


def _key(row) -> tuple:
    return tuple(round(v, 3) if isinstance(v, float) else v for v in row)


def compare(settings: config.Settings, event_date: str, duck: dict[str, list[tuple]]) -> dict:
    """Row counts of both sides and whether every mart is equal row for row."""
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        cur.execute("set time zone 'UTC'")
        result = {}
        for name, columns in gold_db.MARTS.items():
            cur.execute(
                f"select {', '.join(columns)} from gold.{name} where event_date = %s",
                (event_date,),
            )
            ours = sorted(_key(_naive(r)) for r in cur.fetchall())
            theirs = sorted(_key(_naive(r)) for r in duck[name])
            result[name] = {
                "spark_rows": len(ours),
                "duckdb_rows": len(theirs),
                "equal": ours == theirs,
            }
    return result


def _naive(row) -> tuple:
    return tuple(
        v.astimezone(dt.UTC).replace(tzinfo=None) if isinstance(v, dt.datetime) and v.tzinfo else v
        for v in row
    )


def bench_size(base: config.Settings, records: int, spark_memory: str) -> dict:
    files = generated_day(base, records)
    settings = fresh.fresh_settings(base, f"pipeline_{records}")
    shuffle = "8" if records > 2_000_000 else "4"
    started = time.monotonic()
    spark = session.build(
        settings,
        f"pipeline-bench-{records}",
        master="local[2]",
        **{"spark.driver.memory": spark_memory, "spark.sql.shuffle.partitions": shuffle},
    )
    spark.sparkContext.setLogLevel("ERROR")
    spark_start = round(time.monotonic() - started, 2)
    try:
        result = run_day.run(settings, files, DAY.isoformat(), spark=spark)
    finally:
        spark.stop()
        fresh.drop_topic(settings)
    log(run_day.summary_table(result, settings))
    stages = {s.name: s.seconds for s in result.stages}
    stages["spark start"] = spark_start
    # Wall times: bronze runs alongside silver and gold, so the stages overlap.
    total = round(result.seconds + spark_start, 2)
    duck_seconds, duck = duckdb_marts(files)
    duck_marts = round(duck_seconds, 2)
    jobs_s = result.seconds - stages["produce"]
    return {
        "records": records,
        "lines": sum(1 for f in files for _ in open(f, "rb")),
        "spark_stages_s": stages,
        "end_to_end_s": total,
        "duckdb_marts_s": duck_marts,
        "ratio_end_to_end_spark_over_duckdb": round(total / duck_marts, 2),
        "ratio_jobs_spark_over_duckdb": round(jobs_s / duck_marts, 2),
        "spark_jobs_s": round(jobs_s, 2),
        "reconciliation": {
            k: v for k, v in result.reconciliation.items() if k not in ("mismatches",)
        },
        "marts_compared": compare(settings, DAY.isoformat(), duck),
        "shuffle_partitions": int(shuffle),
        "goal_5m_under_s": GOAL_5M_SECONDS if records >= 5_000_000 else None,
    }


def machine() -> dict:
    return host.describe(java=True, duckdb=duckdb.__version__)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 5_000_000])
    parser.add_argument("--spark-memory", default="6g", help="driver memory (local mode)")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args()

    base = config.load()
    stack.up(base, echo=lambda line: log(line))
    report = {
        "benchmark": "one generated day through Kafka -> silver -> bronze -> gold -> "
        "reconciliation (Spark local[2]) vs the same four marts in DuckDB from the JSON",
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "sizes": [],
    }
    for records in args.sizes:
        log(f"size {records:,}")
        report["sizes"].append(bench_size(base, records, args.spark_memory))
        report["scaling"] = stats.scaling_table(report["sizes"])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        log(json.dumps(report["sizes"][-1], indent=2))
    plots.pipeline(report, args.out.with_suffix(".png"))
    log(f"results in {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
