"""Pure transforms silver → the four daily gold marts (ARCHITECTURE 3.5).

Each takes silver clicks (``event_date``, ``event_ts``, ``session_id``, ``document_id``,
``title``, ``clinical_areas``) and returns the mart's columns in the table's order.
Hours are UTC: the session time zone is UTC (``session.build``).
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F


def daily_traffic(silver: DataFrame) -> DataFrame:
    """One row per date: totals and the busiest hour (ties → the earliest hour)."""
    per_hour = silver.groupBy("event_date", F.hour("event_ts").alias("hour")).agg(
        F.count(F.lit(1)).alias("clicks")
    )
    busiest = Window.partitionBy("event_date").orderBy(F.desc("clicks"), F.asc("hour"))
    peak = (
        per_hour.withColumn("n", F.row_number().over(busiest))
        .where(F.col("n") == 1)
        .select("event_date", F.col("hour").cast("short").alias("peak_hour"))
    )
    totals = silver.groupBy("event_date").agg(
        F.count(F.lit(1)).alias("total_events"),
        F.countDistinct("session_id").alias("unique_sessions"),
        F.countDistinct("document_id").alias("unique_documents"),
    )
    return totals.join(peak, "event_date").select(
        "event_date", "total_events", "unique_sessions", "unique_documents", "peak_hour"
    )


def session_analysis(silver: DataFrame) -> DataFrame:
    """One row per session and date: clicks, distinct documents, first/last click, duration."""
    return (
        silver.groupBy("session_id", "event_date")
        .agg(
            F.count(F.lit(1)).alias("click_count"),
            F.countDistinct("document_id").alias("unique_docs"),
            F.min("event_ts").alias("first_click_ts"),
            F.max("event_ts").alias("last_click_ts"),
        )
        .withColumn(
            "session_duration_sec",
            (F.unix_micros("last_click_ts") - F.unix_micros("first_click_ts")) / F.lit(1e6),
        )
    )


def clinical_areas(silver: DataFrame) -> DataFrame:
    """One row per date and area; a click counts once in each of its areas, untagged clicks not at all."""
    tagged = silver.select(
        "event_date",
        "session_id",
        F.explode(F.array_distinct("clinical_areas")).alias("clinical_area"),
    )
    return tagged.groupBy("event_date", "clinical_area").agg(
        F.count(F.lit(1)).alias("search_count"),
        F.countDistinct("session_id").alias("unique_sessions"),
    )


def popular_documents(silver: DataFrame) -> DataFrame:
    """One row per date and document: views, sessions and rank (1 = most clicked, ties by id).

    ``title`` is the document's title on its latest click (the greatest title on a tie),
    so a re-run picks the same one.
    """
    per_doc = silver.groupBy("event_date", "document_id").agg(
        F.max_by("title", F.struct("event_ts", "title")).alias("title"),
        F.count(F.lit(1)).alias("view_count"),
        F.countDistinct("session_id").alias("unique_sessions"),
    )
    ranking = Window.partitionBy("event_date").orderBy(F.desc("view_count"), F.asc("document_id"))
    return per_doc.withColumn("rank", F.row_number().over(ranking)).select(
        "event_date", "document_id", "title", "view_count", "unique_sessions", "rank"
    )


MARTS = {
    "mart_daily_traffic": daily_traffic,
    "mart_session_analysis": session_analysis,
    "mart_clinical_areas": clinical_areas,
    "mart_popular_documents": popular_documents,
}
