"""Pruning of the near-real-time marts (``gold.live_*``) past their window.

The live views show the last 24 hours of data, measured from the latest minute any click
was seen (``gold.live_latest_minute``), not from the wall clock: a replayed day lies in the
past. Partials older than ``keep_hours`` before that minute can never appear in a view again,
so they are deleted; the published day's figures are in the ``mart_*`` tables for good. The
day partials of the serving layer go once their date is published and wholly older than that.
"""

from __future__ import annotations

from tripclick.config import Settings
from tripclick.errors import UserError
from tripclick_spark import gold_db

# The views' window (24 h) plus a day, so yesterday's stream can still be looked at in the
# partials while today's runs.
DEFAULT_KEEP_HOURS = 48
VIEW_WINDOW_HOURS = 24

# Each partial table and the column its views filter on.
TABLES = {
    "live_session_minutes": "minute",
    "live_document_minutes": "minute",
    "live_area_hours": "hour",
    "live_minutes": "minute",
}
# The day partials the serving layer sums (migration V008): serving reads a date's until gold
# publishes it, so they go only once the date is published and its whole day lies before
# the window's start.
DAY_TABLES = ("live_session_days", "live_document_days", "live_area_days")


def prune(settings: Settings, keep_hours: int = DEFAULT_KEEP_HOURS) -> dict[str, int]:
    """Delete the partials older than ``keep_hours`` before the latest minute; rows per table."""
    check_keep_hours(keep_hours)
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        return prune_rows(cur, keep_hours)


def check_keep_hours(keep_hours: int) -> None:
    if keep_hours < VIEW_WINDOW_HOURS:
        raise UserError(
            f"--keep-hours {keep_hours} is shorter than the live views' {VIEW_WINDOW_HOURS} h"
            f" window; keep at least {VIEW_WINDOW_HOURS}"
        )


def prune_rows(cur, keep_hours: int) -> dict[str, int]:
    """The deletes, in the caller's transaction (one transaction: the views never see a
    table pruned and its neighbour not)."""
    cur.execute("set local time zone 'UTC'")  # date_trunc of a timestamptz reads the zone
    cur.execute("select minute from gold.live_latest_minute")
    (latest,) = cur.fetchone()
    if latest is None:
        return dict.fromkeys([*TABLES, *DAY_TABLES], 0)
    deleted = {}
    for table, column in TABLES.items():
        # An hour row is kept while any of its minutes may still be in the window.
        cutoff = "date_trunc('hour', %s)" if column == "hour" else "%s"
        cur.execute(
            f"delete from gold.{table} where {column} < {cutoff} - make_interval(hours => %s)",
            (latest, keep_hours),
        )
        deleted[table] = cur.rowcount
    for table in DAY_TABLES:
        cur.execute(
            f"delete from gold.{table} d"
            " where d.event_date < (%s - make_interval(hours => %s))::date"
            " and exists (select 1 from gold.mart_daily_traffic g where g.event_date = d.event_date)",
            (latest, keep_hours),
        )
        deleted[table] = cur.rowcount
    return deleted
