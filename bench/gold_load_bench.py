"""Gold-load benchmark: the publication path against a bare COPY of the same rows.

One generated day (default 1,000,000 clicks, the pipeline benchmark's day) gives the four
marts' real rows, computed by DuckDB with the pipeline benchmark's SQL and shaped as the
gold job hands them over (pyarrow Tables in the tables' column order, timestamps in UTC).
In a throwaway database of the local PostgreSQL, migrated like the real one, the rounds
alternate:

- ``raw``: a bare ``COPY`` of the marts' CSV, made beforehand, into empty tables of the
  same definition (``create table ... (like gold.<mart> including all)``), one transaction;
- ``publish``: the production path, :func:`gold_db.stage_date` then :func:`gold_db.publish`,
  into an empty ``gold`` (a date published for the first time);
- ``republish``: the same again while ``gold`` holds the day (a re-run replacing it).

Each statement of the production path is timed on its way to the server (the profile).
The loaded rows are then compared with the generated ones, and the database is dropped.

Usage: ``make bench-gold-load`` or ``.venv/bin/python bench/gold_load_bench.py
[--clicks N] [--rounds N]``. Writes ``bench/results/gold_load.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import io
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg2
import psycopg2.extensions
import pyarrow as pa

from tripclick import config
from tripclick.errors import UserError
from tripclick_devstack.stack.postgres import ADMIN_USER, Postgres
from tripclick_spark import gold_db

sys.path.insert(0, str(Path(__file__).resolve().parent))
import duckdb_marts
import host

# The generated day has its home in the pipeline benchmark.
import pipeline_bench

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "bench" / "results" / "gold_load.json"
# Its own per process, so a test run beside a benchmark run takes nothing of it.
DATABASE = f"tripclick_bench_gold_load_{os.getpid()}"
RAW_SCHEMA = "bench_raw"
GOAL = 0.5


def log(text: str) -> None:
    print(f"[gold-load-bench] {text}", file=sys.stderr, flush=True)


def mart_tables(files: list[Path]) -> dict[str, pa.Table]:
    """The day's four marts as the gold job stages them: Arrow, columns in table order."""
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.execute("set timezone = 'UTC'")
    con.execute(duckdb_marts.DUCKDB_CLICKS, {"files": [str(f) for f in files]})
    out = {}
    for name, sql in duckdb_marts.DUCKDB_MARTS.items():
        table = con.sql(sql).to_arrow_table().rename_columns(list(gold_db.MARTS[name]))
        out[name] = _utc(table)
    con.close()
    return out


def _utc(table: pa.Table) -> pa.Table:
    # DuckDB's timestamps are naive UTC; Spark's toArrow gives them a zone, which is
    # what makes arrow_csv write the "Z" that timestamptz needs.
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is None:
            table = table.set_column(i, field.name, table.column(i).cast(pa.timestamp("us", "UTC")))
    return table


class TimedCursor(psycopg2.extensions.cursor):
    """A real cursor that adds each statement's time to :data:`PROFILE` under its kind."""

    def execute(self, query, vars=None):
        with _timed(query):
            return super().execute(query, vars)

    def copy_expert(self, sql, file, size=8192):
        with _timed(sql):
            return super().copy_expert(sql, file, size)


PROFILE: dict[str, float] = defaultdict(float)


@contextlib.contextmanager
def _timed(sql: str) -> Iterator[None]:
    words = sql.split()
    # "copy gold_stage.mart_x", "insert into gold.mart_x", "delete from gold_stage.mart_x"
    kind = " ".join(w for w in words[:4] if "." in w or w in ("copy", "insert", "delete"))
    started = time.perf_counter()
    try:
        yield
    finally:
        PROFILE[kind or words[0]] += time.perf_counter() - started


@contextlib.contextmanager
def timed_cursors() -> Iterator[None]:
    """Every psycopg2 connection made meanwhile (gold_db's too) hands out TimedCursors."""
    real = psycopg2.connect

    def connect(*args, **kwargs):
        kwargs.setdefault("cursor_factory", TimedCursor)
        return real(*args, **kwargs)

    psycopg2.connect = connect
    try:
        yield
    finally:
        psycopg2.connect = real


@contextlib.contextmanager
def throwaway_database(base: config.Settings) -> Iterator[config.Settings]:
    """Settings pointing at a fresh database owned by the gold role; dropped on exit."""
    pg = Postgres(base)
    if not pg.is_healthy():
        raise UserError(
            f"PostgreSQL is not running on 127.0.0.1:{base.pg_port}; start the stack with "
            "`tripclick up`"
        )
    admin = dict(
        host=base.pg_host,
        port=base.pg_port,
        dbname="postgres",
        user=ADMIN_USER,
        password=pg.admin_password,
    )

    def as_admin(sql: str) -> None:
        conn = psycopg2.connect(**admin)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    as_admin(f"drop database if exists {DATABASE} with (force)")
    as_admin(f'create database {DATABASE} owner "{base.pg_user}"')
    try:
        settings = dataclasses.replace(base, pg_database=DATABASE)
        gold_db.migrate(settings)
        with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
            cur.execute(f"create schema {RAW_SCHEMA}")
            for mart in gold_db.MARTS:
                cur.execute(
                    f"create table {RAW_SCHEMA}.{mart} (like {gold_db.SCHEMA}.{mart} including all)"
                )
        yield settings
    finally:
        as_admin(f"drop database if exists {DATABASE} with (force)")


def _truncate(settings: config.Settings, schemas: tuple[str, ...]) -> None:
    """Empty the marts' tables (not timed) and vacuum, so each round starts the same."""
    tables = ", ".join(f"{s}.{m}" for s in schemas for m in gold_db.MARTS)
    with gold_db.connect(settings) as conn:
        with conn, conn.cursor() as cur:
            cur.execute(f"truncate {tables}")
        conn.autocommit = True
        with conn.cursor() as cur:
            for schema in schemas:
                for mart in gold_db.MARTS:
                    cur.execute(f"vacuum analyze {schema}.{mart}")


def raw_copy(settings: config.Settings, csv: dict[str, bytes]) -> float:
    """A bare COPY of the prepared CSV into the empty raw tables, one transaction."""
    _truncate(settings, (RAW_SCHEMA,))
    with gold_db.connect(settings) as conn:
        started = time.perf_counter()
        with conn, conn.cursor() as cur:
            for mart, data in csv.items():
                gold_db.copy_csv(cur, mart, gold_db.MARTS[mart], io.BytesIO(data), RAW_SCHEMA)
        return time.perf_counter() - started


def publication(
    settings: config.Settings, event_date: str, marts: dict[str, pa.Table], *, fresh: bool
) -> dict[str, float]:
    """stage_date then publish, as the gold job runs them; ``fresh`` empties gold first."""
    if fresh:
        _truncate(settings, (gold_db.SCHEMA, gold_db.STAGE_SCHEMA))
    PROFILE.clear()
    with timed_cursors():
        started = time.perf_counter()
        gold_db.stage_date(settings, event_date, marts)
        staged = time.perf_counter()
        gold_db.publish(settings, event_date)
        ended = time.perf_counter()
    return {
        "total_s": ended - started,
        "stage_date_s": staged - started,
        "publish_s": ended - staged,
        "statements": dict(PROFILE),
    }


def loaded_equal(settings: config.Settings, marts: dict[str, pa.Table]) -> dict[str, dict]:
    """Per mart: rows generated, published and COPYed raw, and whether both equal the generated.

    Compared value for value (dates, timestamps as instants, floats exactly), in any order.
    """
    out = {}
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        for mart, table in marts.items():
            columns = ", ".join(gold_db.MARTS[mart])
            generated = sorted(tuple(row.values()) for row in table.to_pylist())
            loaded = {}
            for side, schema in (("published", gold_db.SCHEMA), ("raw_copied", RAW_SCHEMA)):
                cur.execute(f"select {columns} from {schema}.{mart}")
                loaded[side] = sorted(cur.fetchall())
            out[mart] = {
                "generated": len(generated),
                **{side: len(rows) for side, rows in loaded.items()},
                "equal": all(rows == generated for rows in loaded.values()),
            }
    return out


def _summary(seconds: list[float], rows: int) -> dict:
    best, median = min(seconds), statistics.median(seconds)
    return {
        "rounds_s": [round(s, 3) for s in seconds],
        "best_s": round(best, 3),
        "median_s": round(median, 3),
        "rows_per_s_best": round(rows / best),
        "rows_per_s_median": round(rows / median),
    }


def run(base: config.Settings, files: list[Path], rounds: int) -> dict:
    log(f"computing the marts of {sum(f.stat().st_size for f in files):,} bytes of JSON")
    marts = mart_tables(files)
    rows = {m: t.num_rows for m, t in marts.items()}
    total = sum(rows.values())
    event_date = marts["mart_daily_traffic"].column("event_date")[0].as_py().isoformat()
    # Arrow's first compute call in a process loads its kernels (seconds); not the rows' cost.
    gold_db.arrow_csv(marts["mart_session_analysis"].slice(0, 1))
    started = time.perf_counter()
    csv = {m: gold_db.arrow_csv(t).getvalue() for m, t in marts.items()}
    arrow_csv_s = time.perf_counter() - started
    log(f"rows per mart: {rows}; arrow -> CSV {arrow_csv_s:.2f} s")

    times: dict[str, list[float]] = {"raw": [], "raw_key_order": [], "publish": [], "republish": []}
    profiles: dict[str, list[dict]] = {"publish": [], "republish": []}
    with throwaway_database(base) as settings:
        csv_key_order = {
            m: gold_db.arrow_csv(t).getvalue() for m, t in key_order(settings, marts).items()
        }
        for n in range(rounds):
            times["raw"].append(raw_copy(settings, csv))
            for kind in ("publish", "republish"):
                result = publication(settings, event_date, marts, fresh=kind == "publish")
                times[kind].append(result["total_s"])
                profiles[kind].append(result)
            times["raw_key_order"].append(raw_copy(settings, csv_key_order))
            log(f"round {n + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()))
        compared = loaded_equal(settings, marts)

    raw = _summary(times["raw"], total)
    out = {"rows": rows, "rows_total": total, "arrow_csv_s": round(arrow_csv_s, 3), "raw": raw}
    out["raw_key_order"] = _summary(times["raw_key_order"], total)
    for kind in ("publish", "republish"):
        side = _summary(times[kind], total)
        side["profile_median_s"] = _profile(profiles[kind])
        out[kind] = side
        out[f"ratio_{kind}_over_raw"] = _ratio(times["raw"], times[kind])
    out["ratio_publish_over_raw_key_order"] = _ratio(times["raw_key_order"], times["publish"])
    out["loaded"] = compared
    return out


def _ratio(raw: list[float], ours: list[float]) -> dict:
    """rows/s of ours ÷ rows/s of the raw COPY (the same rows, so raw time ÷ our time)."""
    return {
        "best": round(min(raw) / min(ours), 3),
        "median": round(statistics.median(raw) / statistics.median(ours), 3),
        # each round against the raw COPY of the same round
        "rounds": [round(r / o, 3) for r, o in zip(raw, ours, strict=True)],
    }


def key_order(settings: config.Settings, marts: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """The marts sorted by their primary keys, as stage_date sorts them."""
    with gold_db.connect(settings) as conn, conn.cursor() as cur:
        return {
            m: t.sort_by([(c, "ascending") for c in gold_db.unique_key(cur, f"gold.{m}")])
            for m, t in marts.items()
        }


def _profile(results: list[dict]) -> dict[str, float]:
    """Median per part: stage_date, publish and each statement kind."""
    parts = ["stage_date_s", "publish_s"]
    out = {p: round(statistics.median(r[p] for r in results), 3) for p in parts}
    for kind in results[0]["statements"]:
        out[kind] = round(statistics.median(r["statements"].get(kind, 0.0) for r in results), 3)
    return out


def machine() -> dict:
    return host.describe(duckdb=duckdb.__version__, pyarrow=pa.__version__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=1_000_000, help="lines of the day")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    try:
        if args.clicks < 1 or args.rounds < 1:
            raise UserError("--clicks and --rounds must be at least 1")
        base = config.load()
        files = pipeline_bench.generated_day(base, args.clicks)
        report = {
            "benchmark": "the gold publication (gold_db.stage_date + publish) against a bare "
            "COPY of the same mart rows into empty tables of the same definition",
            "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "database": DATABASE,
            "clicks": args.clicks,
            "rounds": args.rounds,
            "goal_ratio": GOAL,
            **run(base, files, args.rounds),
        }
        report["machine"]["load_avg_1m_at_end"] = os.getloadavg()[0]
        with gold_db.connect(base) as conn, conn.cursor() as cur:
            cur.execute("show server_version")
            report["machine"]["postgresql"] = cur.fetchone()[0]
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    log(json.dumps({k: report[k] for k in report if k.startswith("ratio")}, indent=2))
    log(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
