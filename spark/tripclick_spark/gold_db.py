"""The gold database: versioned migrations, per-date loads (COPY) and dumps.

Everything here talks to PostgreSQL with psycopg2 from the driver; Spark only
computes the marts. A date's marts are staged in ``gold_stage`` first and published into
``gold`` in one transaction once they reconcile, so a reader sees either the old day or
the new one, never half of each and never one that failed its reconciliation.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import socket
import sys
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from importlib import resources
from typing import Any

from tripclick.config import Settings
from tripclick.errors import UserError

SCHEMA = "gold"
# Where a load puts a date's marts until its reconciliation passes (migration V004).
STAGE_SCHEMA = "gold_stage"
MIGRATIONS_TABLE = f"{SCHEMA}.schema_migrations"
# Key taken by `migrate` so two loads starting at once do not both apply a migration.
_ADVISORY_LOCK = 0x7C11C
_MIGRATION_RE = re.compile(r"^V(\d{3})__([a-z0-9_]+)\.sql$")

# The marts in the order they are loaded and dumped, with their columns (the table's order).
MARTS: dict[str, tuple[str, ...]] = {
    "mart_daily_traffic": (
        "event_date",
        "total_events",
        "unique_sessions",
        "unique_documents",
        "peak_hour",
    ),
    "mart_session_analysis": (
        "session_id",
        "event_date",
        "click_count",
        "unique_docs",
        "first_click_ts",
        "last_click_ts",
        "session_duration_sec",
    ),
    "mart_clinical_areas": ("event_date", "clinical_area", "search_count", "unique_sessions"),
    "mart_popular_documents": (
        "event_date",
        "document_id",
        "title",
        "view_count",
        "unique_sessions",
        "rank",
    ),
}
# Staged and published with the marts: the day's field profile the data-quality gates read
# (migration V006); not a mart, so dumps and the reconciliation leave it out.
FIELD_PROFILE = ("event_date", "field", "records", "empty")
PUBLISHED = {**MARTS, "field_profile": FIELD_PROFILE}
# The live partials serving's speed views read (V009), which the publication compares with
# the staged day (V010).
SPEED_SOURCES = (
    "live_session_days",
    "live_document_days",
    "live_area_days",
    "live_session_minutes",
)
# Order of rows in a dump: each mart's key.
_DUMP_ORDER = {
    "mart_daily_traffic": "event_date",
    "mart_session_analysis": "session_id",
    "mart_clinical_areas": "clinical_area",
    "mart_popular_documents": "rank",
}
RECONCILIATION_COLUMNS = (
    "event_date",
    "kafka_records",
    "bronze_records",
    "bronze_distinct",
    "silver_records",
    "quarantine_records",
    "quarantine_distinct",
    "gold_total_events",
    "passed",
    "mismatches",
)


# Every session's limits: a statement stuck behind a dead peer or a lock held by a hung
# client fails the stage (which says so) instead of hanging it past its window. A day's
# largest statement, the COPY of its sessions, takes seconds.
STATEMENT_TIMEOUT = "10min"
LOCK_TIMEOUT = "1min"


class Unreachable(UserError):
    """The gold database did not answer; the message says where and what to do."""


@contextmanager
def connect(settings: Settings, **options: Any):
    """A psycopg2 connection to the gold database; closed on exit.

    ``options`` are more libpq keywords (``application_name``, ``keepalives_idle``, ...);
    server settings given in ``options["options"]`` come after, so win over, the timeouts.
    """
    import psycopg2

    limits = f"-c statement_timeout={STATEMENT_TIMEOUT} -c lock_timeout={LOCK_TIMEOUT}"
    options["options"] = f"{limits} {options.get('options', '')}".strip()
    try:
        conn = psycopg2.connect(**settings.pg_params, connect_timeout=10, **options)
    except psycopg2.OperationalError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else "unreachable"
        raise Unreachable(
            f"cannot connect to the gold database at {settings.pg_host}:{settings.pg_port} "
            f"({first}); start it with `tripclick up` or check TRIPCLICK_PG_*"
        ) from None
    try:
        yield conn
    finally:
        conn.close()


def migrations() -> list[tuple[int, str, str]]:
    """The migrations shipped with the package: (version, name, sql), in version order."""
    found = []
    for entry in resources.files("tripclick_spark.migrations").iterdir():
        m = _MIGRATION_RE.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(settings: Settings) -> list[str]:
    """Apply the migrations not applied yet, each in its own transaction; return their names."""
    applied_now = []
    with connect(settings) as conn:
        with conn, conn.cursor() as cur:
            # Only when missing: CREATE SCHEMA IF NOT EXISTS asks for the CREATE privilege on
            # the database even when the schema is there, which a loader that owns only its
            # schema (the fleet's) does not have.
            cur.execute("select 1 from pg_namespace where nspname = %s", (SCHEMA,))
            if cur.fetchone() is None:
                cur.execute(f"create schema {SCHEMA}")
            cur.execute(
                f"create table if not exists {MIGRATIONS_TABLE} ("
                " version integer primary key, name text not null,"
                " applied_at timestamptz not null default now())"
            )
        for version, name, sql in migrations():
            with conn, conn.cursor() as cur:
                # Held to the end of this transaction: a concurrent migrate waits, then skips.
                cur.execute("select pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK,))
                cur.execute(f"select 1 from {MIGRATIONS_TABLE} where version = %s", (version,))
                if cur.fetchone():
                    continue
                cur.execute(sql)
                cur.execute(
                    f"insert into {MIGRATIONS_TABLE} (version, name) values (%s, %s)",
                    (version, name),
                )
                applied_now.append(f"V{version:03d}__{name}")
    return applied_now


def arrow_csv(table: Any) -> io.BytesIO:
    """A pyarrow Table as headerless CSV for COPY.

    Arrow's writer is faster than Python rows through ``csv`` (measured in
    bench/README.md); every string is quoted (an empty title stays empty, not NULL), a
    null is an empty field and timestamps with a zone are UTC with a ``Z``.
    """
    import pyarrow.csv as pa_csv

    buf = io.BytesIO()
    pa_csv.write_csv(_utc_text(table), buf, pa_csv.WriteOptions(include_header=False))
    buf.seek(0)
    return buf


def _utc_text(table: Any) -> Any:
    """``table`` with each zoned timestamp column as UTC text ending in ``Z``.

    Arrow's writer formats zoned timestamps about ten times slower than the same
    instants as text made here (bench/README.md, "Gold load"); it was a sixth of a day's
    publication. Casting a zoned timestamp to a zoneless one keeps its UTC value.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            utc = table.column(i).cast(pa.timestamp(field.type.unit)).cast(pa.string())
            table = table.set_column(i, field.name, pc.binary_join_element_wise(utc, "Z", ""))
    return table


def copy_csv(
    cur, table: str, columns: Sequence[str], data: io.BytesIO, schema: str = SCHEMA
) -> None:
    """COPY :func:`arrow_csv` output into ``<schema>.<table>``."""
    cur.copy_expert(
        f"copy {schema}.{table} ({', '.join(columns)}) from stdin with (format csv)", data
    )


def stage_date(settings: Settings, event_date: str, marts: Mapping[str, Any]) -> dict[str, int]:
    """Replace the date's staged rows of every mart in ``marts`` in one transaction.

    ``marts`` maps a table of :data:`PUBLISHED` to a pyarrow Table with its columns in
    order. Nothing a reader sees changes until :func:`publish`. Returns the rows per table.
    """
    counts = {}
    with connect(settings) as conn, conn, conn.cursor() as cur:
        for table, rows in marts.items():
            columns = PUBLISHED[table]
            cur.execute(f"delete from {STAGE_SCHEMA}.{table} where event_date = %s", (event_date,))
            # In primary-key order, the indexes of the stage and, through publish's
            # insert-select, of gold fill page by page: a day's publication took half the
            # time of Spark's order (bench/README.md, "Gold load").
            key = [(c, "ascending") for c in unique_key(cur, f"{STAGE_SCHEMA}.{table}")]
            copy_csv(
                cur, table, columns, arrow_csv(rows.sort_by(key) if key else rows), STAGE_SCHEMA
            )
            cur.execute(
                f"select count(*) from {STAGE_SCHEMA}.{table} where event_date = %s",
                (event_date,),
            )
            counts[table] = cur.fetchone()[0]
    return counts


def unique_key(cur, table: str) -> list[str]:
    """The columns of ``table``'s primary key, or of its unique index where it has none (the
    live partials, V003), in key order, as the catalog holds them; empty without either."""
    cur.execute(
        "select array_agg(a.attname order by k.ord) from pg_index i"
        " cross join unnest(i.indkey) with ordinality k(attnum, ord)"
        " join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum"
        " where i.indrelid = %s::regclass and i.indisunique"
        " group by i.indexrelid, i.indisprimary order by i.indisprimary desc, i.indexrelid"
        " limit 1",
        (table,),
    )
    row = cur.fetchone()
    return list(row[0]) if row else []


def publish(settings: Settings, event_date: str) -> dict[str, int]:
    """Swap the date's staged marts in for the published ones, in one transaction.

    Called only once the staged day has reconciled. Readers see the old day until the
    commit, then the new one; ``serving`` switches the date from the speed layer to gold
    at the same commit. Returns the rows published per table.
    """
    counts = {}
    with connect(settings) as conn, conn, conn.cursor() as cur:
        cur.execute(
            f"select 1 from {STAGE_SCHEMA}.mart_daily_traffic where event_date = %s",
            (event_date,),
        )
        if cur.fetchone() is None:
            raise UserError(
                f"nothing is staged for {event_date}; run `tripclick gold load --date {event_date}`"
            )
        # A date written in one go (a catch-up, a backfill) is missing from the tables'
        # statistics until autovacuum comes round; planned as a handful of rows, the
        # comparison below of a 1M-click day ran into the statement timeout, where it takes
        # 2 s once analyzed (bench/README.md). Analyzing costs a tenth of a second a table.
        read = [f"{SCHEMA}.{t}" for t in SPEED_SOURCES] + [f"{STAGE_SCHEMA}.{t}" for t in PUBLISHED]
        cur.execute(f"analyze {', '.join(read)}")
        # In this transaction, while the date's speed rows are still what serving shows:
        # the publication's time (serving's as_of) and the speed layer's accuracy (V009-V010).
        cur.execute("select serving.record_publication(%s)", (event_date,))
        for table, columns in PUBLISHED.items():
            cols = ", ".join(columns)
            cur.execute(f"delete from {SCHEMA}.{table} where event_date = %s", (event_date,))
            cur.execute(
                f"insert into {SCHEMA}.{table} ({cols}) select {cols} "
                f"from {STAGE_SCHEMA}.{table} where event_date = %s",
                (event_date,),
            )
            counts[table] = cur.rowcount
            cur.execute(f"delete from {STAGE_SCHEMA}.{table} where event_date = %s", (event_date,))
    return counts


def save_reconciliation(settings: Settings, report: Mapping[str, Any]) -> None:
    """Upsert the date's reconciliation row."""
    cols = RECONCILIATION_COLUMNS
    values = [report[c] for c in cols]
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
    with connect(settings) as conn, conn, conn.cursor() as cur:
        cur.execute(
            f"insert into {SCHEMA}.reconciliation ({', '.join(cols)}, checked_at) "
            f"values ({', '.join(['%s'] * len(cols))}, now()) "
            f"on conflict (event_date) do update set {updates}, checked_at = now()",
            values,
        )


def record_stage_runs(
    settings: Settings,
    event_date: str,
    started_at: dt.datetime,
    runs: Sequence[tuple[str, float, bool]],
) -> None:
    """Add ``(stage, seconds, succeeded)`` rows to ``gold.stage_runs``; never raises.

    The operations dashboard reads them. A stage that ran must not fail because PostgreSQL
    is down: the miss costs one line on stderr. Migrates first, as a run can end before
    the load that would have.
    """
    host = socket.gethostname()
    try:
        migrate(settings)
        with connect(settings) as conn, conn, conn.cursor() as cur:
            cur.executemany(
                f"insert into {SCHEMA}.stage_runs"
                " (event_date, stage, started_at, seconds, succeeded, host)"
                " values (%s, %s, %s, %s, %s, %s) on conflict do nothing",
                [(event_date, s, started_at, round(t, 3), ok, host) for s, t, ok in runs],
            )
    except Exception as err:  # noqa: BLE001 - a record of the run must never fail the run
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        names = ", ".join(s for s, _, _ in runs)
        print(f"stage_runs: {names} of {event_date} not recorded: {first}", file=sys.stderr)


def newest_published(settings: Settings) -> str | None:
    """The newest published ``event_date`` (YYYY-MM-DD), or None before the first."""
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(f"select max(event_date) from {SCHEMA}.mart_daily_traffic")
        newest = cur.fetchone()[0]
    return None if newest is None else newest.isoformat()


def total_events(settings: Settings, event_date: str, *, staged: bool = False) -> int | None:
    """``mart_daily_traffic.total_events`` of the date (published, or ``staged``), or None."""
    schema = STAGE_SCHEMA if staged else SCHEMA
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            f"select total_events from {schema}.mart_daily_traffic where event_date = %s",
            (event_date,),
        )
        row = cur.fetchone()
    return None if row is None else int(row[0])


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def dump(settings: Settings, event_date: str) -> dict[str, list[dict[str, Any]]]:
    """The date's four marts as ``{mart_name: [row objects]}``, rows in key order."""
    out: dict[str, list[dict[str, Any]]] = {}
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute("set local time zone 'UTC'")
        for table, columns in MARTS.items():
            cur.execute(
                f"select {', '.join(columns)} from {SCHEMA}.{table} "
                f"where event_date = %s order by {_DUMP_ORDER[table]}",
                (event_date,),
            )
            out[table] = [
                {c: _jsonable(v) for c, v in zip(columns, row, strict=True)}
                for row in cur.fetchall()
            ]
    return out


def dumps(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
