"""Freshness benchmark: how long a click takes from its produce to silver and to the live marts.

A generated day is replayed in realtime mode at a fixed rate (default 2,000 clicks/s for
60 s) into a fresh topic, while silver streams the same date in its own process
(``tripclick_devstack.cli silver``, a fixed trigger interval, default 10 s) into a fresh
lake, feeding the live marts in PostgreSQL. The day is generated flat (every session
starts at a uniformly drawn time of day), so the replay's rate holds for the whole run.
Before the replay, 2,000 other clicks of the date warm the query up (its first batch,
with the JVM's and Spark's first jobs, takes several times a warm one); they are reported
apart and left out of the latencies.

Per click, from its ``produced_at`` (in the record's value, kept by silver):

- to silver: the end of its micro-batch's silver write (the mtime of the batch's
  ``batch_id=N/_SUCCESS``, the moment its rows are readable in the lake);
- to the live marts: the first poll (every 0.1 s) that sees its batch's rows in
  ``gold.live_minutes`` (a batch's partials go in in one transaction; nothing in PostgreSQL
  records when, so the poll is the clock);
- where the time goes: the batch's start (mtime of the checkpoint's ``offsets/N``,
  written when the batch has fixed its offsets), and its checkpoint commit (``commits/N``,
  written after the live marts).

Usage: ``make bench-freshness`` or ``.venv/bin/python bench/freshness_bench.py
[--seconds 60] [--rate 2000] [--trigger-seconds 10]``. Results:
``bench/results/freshness.json`` and ``freshness.png``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import fresh
import host
import plots
import stats

from tripclick import config
from tripclick.generator import DaySpec, generate_day
from tripclick.producer import produce_files
from tripclick_devstack import stack
from tripclick_spark import gold_db, lake, live_marts
from tripclick_spark.jobs import silver

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "bench" / "results" / "freshness.json"
# A date of its own: the run's live partials are deleted at the end, so the serving layer
# never shows it.
DAY = dt.date(2098, 6, 1)
SEED = 2016
GOAL_P95_OVER_TRIGGER = 2
REPLAY_WINDOW_S = 3600  # realtime mode compresses the day into its default 60-minute window
WARMUP_CLICKS = 2000
SAMPLES = 4000  # clicks per target kept in the JSON for the plot


def log(text: str) -> None:
    print(f"[freshness-bench] {text}", file=sys.stderr, flush=True)


def flat_day(settings: config.Settings, clicks: int):
    """A day whose sessions start uniformly over the 24 hours (a 24-hour "peak" holding
    every session), so a paced replay sends at an even rate."""
    spec = DaySpec(
        DAY, clicks, seed=SEED, duplicate_rate=0.01, malformed_rate=0.001,
        window_start=dt.time(0, 0), window_minutes=24 * 60, peak_share=1.0,
    )  # fmt: skip
    folder = settings.home / "bench" / f"freshness-day-{clicks}"
    return generate_day(spec, folder)


class LivePoller(threading.Thread):
    """Notes the first time each batch id of the date shows in ``gold.live_minutes``."""

    def __init__(self, settings: config.Settings, event_date: str, every_s: float = 0.1):
        super().__init__(daemon=True)
        self.settings, self.event_date, self.every_s = settings, event_date, every_s
        self.first_seen: dict[int, float] = {}
        self.polls = 0
        self.done = threading.Event()

    def run(self) -> None:
        with gold_db.connect(self.settings) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                while not self.done.is_set():
                    cur.execute(
                        "select distinct batch_id from gold.live_minutes where event_date = %s",
                        (self.event_date,),
                    )
                    now = time.time()
                    self.polls += 1
                    for (batch_id,) in cur.fetchall():
                        self.first_seen.setdefault(int(batch_id), now)
                    self.done.wait(self.every_s)


def clear_live(settings: config.Settings, event_date: str) -> None:
    gold_db.migrate(settings)  # a new stack's database has no live tables before silver runs
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        for table in live_marts.PARTIALS:
            cur.execute(f"delete from gold.{table} where event_date = %s", (event_date,))


def _mtimes(folder: Path, pattern: str) -> dict[int, float]:
    """Batch id -> mtime of ``folder``'s entries named by ``pattern`` ({} = the id)."""
    out = {}
    for path in folder.glob(pattern.format("*")):
        name = path.parent.name if path.name == "_SUCCESS" else path.name
        digits = name.removeprefix("batch_id=")
        if digits.isdigit():
            out[int(digits)] = path.stat().st_mtime
    return out


def clicks_by_batch(settings: config.Settings, event_date: str) -> list[tuple[int, float]]:
    """Every silver click as (batch id, produced_at in Unix seconds)."""
    folder = lake.partition(settings, lake.SILVER, event_date)
    con = duckdb.connect()
    return con.execute(
        f"select batch_id, epoch(produced_at) from read_parquet("
        f"'{folder}/batch_id=*/*.parquet', hive_partitioning = true)"
    ).fetchall()


def _components(rows, batches: dict[int, dict]) -> dict:
    """Per click, the pieces of its way: waiting for its batch, the batch's silver write,
    silver to the live marts' rows; p50 and p95 of each."""
    parts = {"trigger_wait": [], "silver_write": [], "live_write": [], "checkpoint_commit": []}
    for batch_id, produced in rows:
        b = batches[batch_id]
        parts["trigger_wait"].append(b["started"] - produced)
        parts["silver_write"].append(b["silver"] - b["started"])
        if b.get("live") is not None:
            parts["live_write"].append(b["live"] - b["silver"])
        if b.get("committed") is not None:
            parts["checkpoint_commit"].append(b["committed"] - b["silver"])
    return {
        k: {
            "p50_s": round(stats.percentile(v, 50), 3),
            "p95_s": round(stats.percentile(v, 95), 3),
        }
        for k, v in parts.items()
        if v
    }


def measure(
    settings: config.Settings, files: list[Path], warmup: list[Path], args, workdir: Path
) -> dict:
    event_date = DAY.isoformat()
    checkpoint = Path(lake.checkpoint(settings, silver.JOB, event_date))
    silver_dir = Path(lake.partition(settings, lake.SILVER, event_date))
    clear_live(settings, event_date)
    # Silver's window: its start-up and warm-up batch, the replay, three more triggers.
    window = args.seconds + 3 * args.trigger_seconds + 120
    command = [
        sys.executable, "-m", "tripclick_devstack.cli", "silver", "--date", event_date,
        "--duration-seconds", str(window), "--trigger-seconds", str(args.trigger_seconds),
        "--reset",
    ]  # fmt: skip
    env = {
        **os.environ,
        "TRIPCLICK_TOPIC": settings.topic,
        "TRIPCLICK_LAKE_ROOT": settings.lake_root,
    }
    silver_log = workdir / "silver.log"
    poller = LivePoller(settings, event_date)
    with open(silver_log, "wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            # The query is up once its checkpoint has its metadata.
            deadline = time.monotonic() + 180
            while not (checkpoint / "metadata").exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"silver did not start; see {silver_log}")
                time.sleep(0.2)
            poller.start()
            # A first micro-batch of other clicks of the date warms the query up (the JVM's
            # and Spark's first jobs take several times a warm batch); measured from after it.
            warm = produce_files(
                warmup,
                mode="batch",
                settings=settings,
                topic=settings.topic,
                reject_file=workdir / "warmup-rejects.jsonl",
                workers=1,
            )
            log(f"warm-up: {warm.line()}")
            while not set(_mtimes(checkpoint / "commits", "{}")) & set(
                _mtimes(silver_dir, "batch_id={}/_SUCCESS")
            ):
                if proc.poll() is not None or time.monotonic() > deadline + 180:
                    raise RuntimeError(f"silver committed no warm-up batch; see {silver_log}")
                time.sleep(0.2)
            log(f"silver is warm; replaying {args.rate * args.seconds:,} clicks")
            replay_started = time.time()
            summary = produce_files(
                files,
                mode="realtime",
                day=event_date,
                speed=REPLAY_WINDOW_S / args.seconds,
                settings=settings,
                topic=settings.topic,
                reject_file=workdir / "rejects.jsonl",
            )
            log(summary.line())
            proc.wait(timeout=window + 300)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            poller.done.set()
            if poller.is_alive():
                poller.join(timeout=5)
    if proc.returncode != 0:
        raise RuntimeError(f"silver failed; see {silver_log}:\n{silver_log.read_text()[-3000:]}")

    started = _mtimes(checkpoint / "offsets", "{}")
    written = _mtimes(silver_dir, "batch_id={}/_SUCCESS")
    committed = _mtimes(checkpoint / "commits", "{}")
    batches = {
        b: {
            "started": started[b],
            "silver": written[b],
            "live": poller.first_seen.get(b),
            "committed": committed.get(b),
        }
        for b in sorted(written)
    }
    every = clicks_by_batch(settings, event_date)
    rows = [(b, p) for b, p in every if p >= replay_started]
    warm_batches = sorted({b for b, p in every if p < replay_started})
    counts: dict[int, int] = {}
    for batch_id, _ in rows:
        counts[batch_id] = counts.get(batch_id, 0) + 1

    to_silver = [batches[b]["silver"] - p for b, p in rows]
    live_rows = [(b, p) for b, p in rows if batches[b]["live"] is not None]
    to_live = [batches[b]["live"] - p for b, p in live_rows]
    step = max(1, len(rows) // SAMPLES)
    ordered = sorted(rows, key=lambda r: r[1])[::step]
    samples = {
        "silver": [
            [round(p - replay_started, 3), round(batches[b]["silver"] - p, 3)] for b, p in ordered
        ],
        "live": [
            [round(p - replay_started, 3), round(batches[b]["live"] - p, 3)]
            for b, p in ordered
            if batches[b]["live"] is not None
        ],
    }
    per_batch = [
        {
            "batch_id": b,
            "clicks": counts.get(b, 0),
            "started_s": round(v["started"] - replay_started, 3),
            "silver_write_s": round(v["silver"] - v["started"], 3),
            "live_after_silver_s": None if v["live"] is None else round(v["live"] - v["silver"], 3),
            "commit_after_silver_s": None
            if v["committed"] is None
            else round(v["committed"] - v["silver"], 3),
        }
        for b, v in batches.items()
        if b not in warm_batches or counts.get(b)
    ]
    trigger = float(args.trigger_seconds)
    return {
        "event_date": event_date,
        "trigger_s": trigger,
        "replay_s": args.seconds,
        "wanted_rate_per_s": args.rate,
        "achieved_rate_per_s": round(summary.delivered / summary.elapsed_s, 1),
        "producer": {
            "lines": summary.lines,
            "delivered": summary.delivered,
            "rejected": summary.rejected,
            "elapsed_s": summary.elapsed_s,
        },
        "warmup": {
            "clicks": len(every) - len(rows),
            "batches": warm_batches,
            "silver_write_s": [
                round(batches[b]["silver"] - batches[b]["started"], 3) for b in warm_batches
            ],
        },
        "silver_clicks": len(rows),
        "batches": len(batches),
        "live_batches_seen": sum(1 for v in batches.values() if v["live"] is not None),
        "live_polls": poller.polls,
        "latency": {
            "silver": stats.latency_summary(to_silver, trigger),
            "live": stats.latency_summary(to_live, trigger) if to_live else None,
        },
        "goal_p95_over_trigger": GOAL_P95_OVER_TRIGGER,
        "goal_met": {
            "silver": stats.percentile(to_silver, 95) <= GOAL_P95_OVER_TRIGGER * trigger,
            "live": bool(to_live)
            and stats.percentile(to_live, 95) <= GOAL_P95_OVER_TRIGGER * trigger,
        },
        "where_the_time_goes": _components(rows, batches),
        "per_batch": per_batch,
        "samples": samples,
    }


def render(report: dict) -> str:
    """The result as JSON, indented, with the plot's samples on one line each target."""
    head = json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=2)
    samples = ",\n".join(
        f"    {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}"
        for k, v in report.get("samples", {}).items()
    )
    return f'{head[:-2]},\n  "samples": {{\n{samples}\n  }}\n}}\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="how long the replay runs")
    parser.add_argument("--rate", type=int, default=2000, help="clicks per second replayed")
    parser.add_argument("--trigger-seconds", type=int, default=10, help="silver's trigger")
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args()

    base = config.load()
    stack.up(base, echo=lambda line: log(line))
    day = flat_day(base, args.rate * args.seconds)
    warmup = list(
        generate_day(
            DaySpec(DAY, WARMUP_CLICKS, seed=SEED + 1), base.home / "bench" / "freshness-warmup"
        ).files
    )
    settings = fresh.fresh_settings(base, "freshness")
    workdir = Path(settings.lake_root).parent / "freshness-run"
    workdir.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "realtime replay at a fixed rate: produce -> silver micro-batch "
        "-> live marts in PostgreSQL, latency per click",
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": host.describe(java=True),
    }
    try:
        report.update(measure(settings, list(day.files), warmup, args, workdir))
        report["silver_clicks_expected"] = day.valid
    finally:
        fresh.drop_topic(settings)
        clear_live(settings, DAY.isoformat())
    report["machine"]["load_avg_1m_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(report))
    plots.freshness(report, args.out.with_suffix(".png"))
    shown = {k: v for k, v in report.items() if k not in ("samples", "per_batch")}
    log(json.dumps(shown, indent=2))
    log(f"results in {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
