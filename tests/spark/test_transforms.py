"""Pure transforms on small inline DataFrames, compared with the expected output."""

from __future__ import annotations

import collections
import datetime as dt

from chispa import assert_df_equality
from pyspark.sql import types as T
from tripclick_bad_lines import BAD_LINES
from tripclick_hostile_values import HOSTILE_VALUES, good_value

from tripclick.events import check_value, parse_line
from tripclick_spark import marts, records
from tripclick_spark.jobs import bronze, reconcile, silver

UTC = dt.UTC
D = dt.date(2016, 1, 1)

CLICKS_SCHEMA = (
    "event_date date, event_ts timestamp, session_id string, document_id bigint, "
    "title string, clinical_areas array<string>"
)


def ts(h: int, m: int = 0, s: int = 0, ms: int = 0) -> dt.datetime:
    return dt.datetime(2016, 1, 1, h, m, s, ms * 1000, tzinfo=UTC)


def clicks(spark):
    rows = [
        (D, ts(9, 0), "s1", 10, "Aspirin", ["Cardiology", "Oncology"]),
        (D, ts(9, 5, 30, 500), "s1", 11, "Statins", ["Cardiology"]),
        (D, ts(9, 6), "s1", 10, "Aspirin", ["Cardiology", "Cardiology"]),
        (D, ts(14, 0), "s2", 11, "Statins", []),
        (D, ts(14, 1), "s2", 12, "Zinc", ["Oncology"]),
        (D, ts(20, 0), "s3", 12, "Zinc", []),
    ]
    return spark.createDataFrame(rows, CLICKS_SCHEMA)


def test_daily_traffic_peak_hour_ties_go_to_the_earliest_hour(spark):
    # 9:00 has 3 clicks, 14:00 has 2, 20:00 has 1; add 1 more at 14:xx to tie 9 and 14.
    extra = spark.createDataFrame([(D, ts(14, 30), "s4", 13, "Iron", [])], CLICKS_SCHEMA)
    actual = marts.daily_traffic(clicks(spark).unionByName(extra))
    expected = spark.createDataFrame(
        [(D, 7, 4, 4, 9)],
        "event_date date, total_events bigint, unique_sessions bigint, "
        "unique_documents bigint, peak_hour short",
    )
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_session_analysis(spark):
    actual = marts.session_analysis(clicks(spark))
    expected = spark.createDataFrame(
        [
            ("s1", D, 3, 2, ts(9, 0), ts(9, 6), 360.0),
            ("s2", D, 2, 2, ts(14, 0), ts(14, 1), 60.0),
            ("s3", D, 1, 1, ts(20, 0), ts(20, 0), 0.0),
        ],
        "session_id string, event_date date, click_count bigint, unique_docs bigint, "
        "first_click_ts timestamp, last_click_ts timestamp, session_duration_sec double",
    )
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)


def test_clinical_areas_count_a_click_once_per_area_and_skip_untagged(spark):
    actual = marts.clinical_areas(clicks(spark))
    expected = spark.createDataFrame(
        [(D, "Cardiology", 3, 1), (D, "Oncology", 2, 2)],
        "event_date date, clinical_area string, search_count bigint, unique_sessions bigint",
    )
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)


def test_popular_documents_rank_ties_by_document_id(spark):
    actual = marts.popular_documents(clicks(spark))
    expected = spark.createDataFrame(
        [
            (D, 10, "Aspirin", 2, 1, 1),
            (D, 11, "Statins", 2, 2, 2),
            (D, 12, "Zinc", 2, 2, 3),
        ],
        "event_date date, document_id bigint, title string, view_count bigint, "
        "unique_sessions bigint, rank int",
    )
    assert_df_equality(actual, expected, ignore_nullable=True, ignore_row_order=True)


# ---------------------------------------------------------------- Kafka records

KAFKA_SCHEMA = T.StructType(
    [
        T.StructField("key", T.BinaryType()),
        T.StructField("value", T.BinaryType()),
        T.StructField("topic", T.StringType()),
        T.StructField("partition", T.IntegerType()),
        T.StructField("offset", T.LongType()),
        T.StructField("timestamp", T.TimestampType()),
        T.StructField("timestampType", T.IntegerType()),
        T.StructField(
            "headers",
            T.ArrayType(
                T.StructType(
                    [T.StructField("key", T.StringType()), T.StructField("value", T.BinaryType())]
                )
            ),
        ),
    ]
)
LINE = (
    '{"DateCreated":"/Date(1451606501933)/","SessionId":"s1","DocumentId":7,'
    '"Url":"u","Title":"Aspirin","DOI":"","ClinicalAreas":",Cardiology,Oncology",'
    '"Keywords":"aspirin ","Documents":[7,8]}'
)
PRODUCED = dt.datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def kafka_rows(spark):
    good = parse_line(LINE).to_value("web-0", PRODUCED)
    other_day = parse_line(LINE.replace("1451606501933", "1451692901933")).to_value(
        "web-0", PRODUCED
    )
    bad = b'{"SessionId": "s9", "DocumentId": "x"'
    headers = [("source", b"web-0"), ("event_date", b"2016-01-01")]
    at = dt.datetime(2026, 11, 25, 6, 0, 1, tzinfo=UTC)
    rows = [
        (b"s1", good, "t", 0, 0, at, 0, headers),
        (b"s1", good, "t", 0, 1, at, 0, headers),  # a retried send: same click again
        (None, bad, "t", 1, 0, at, 0, headers),  # invalid: placed by its header
        (None, bad, "t", 1, 1, at, 0, headers),  # the same bad line twice: both kept
        (b"s1", other_day, "t", 2, 0, at, 0, [("source", b"web-0"), ("event_date", b"x")]),
    ]
    return spark.createDataFrame(rows, KAFKA_SCHEMA), good, bad


def test_records_belong_to_their_values_date_else_the_header(spark):
    df, _, _ = kafka_rows(spark)
    got = sorted(
        (r["partition"], r["offset"], r["record_date"])
        for r in records.with_record_date(df).collect()
    )
    assert got == [
        (0, 0, "2016-01-01"),
        (0, 1, "2016-01-01"),
        (1, 0, "2016-01-01"),
        (1, 1, "2016-01-01"),
        (2, 0, "2016-01-02"),
    ]


def test_silver_keeps_one_copy_of_each_click_and_quarantines_every_bad_record(spark):
    df, _, bad = kafka_rows(spark)
    clicks_ = silver.deduplicated(silver.validated(df, "2016-01-01"))
    rows = silver.silver_rows(clicks_).collect()
    assert len(rows) == 1
    row = rows[0].asDict()
    assert row["session_id"] == "s1"
    assert row["document_id"] == 7
    assert row["clinical_areas"] == ["Cardiology", "Oncology"]
    assert row["documents"] == [7, 8]
    assert row["keywords"] == "aspirin "
    assert row["event_ts"] == dt.datetime(2016, 1, 1, 0, 1, 41, 933000)
    assert row["dedup_key"] == parse_line(LINE).dedup_key
    assert row["source"] == "web-0"
    assert row["produced_at"] == PRODUCED.replace(tzinfo=None)

    bad_rows = sorted(silver.quarantine_rows(clicks_).collect(), key=lambda r: r["kafka_offset"])
    assert [(r["kafka_partition"], r["kafka_offset"]) for r in bad_rows] == [(1, 0), (1, 1)]
    assert {r["reason"] for r in bad_rows} == {"not_json"}
    assert {bytes(r["value"]) for r in bad_rows} == {bad}
    assert len({r["record_key"] for r in bad_rows}) == 1
    assert bad_rows[0]["record_key"].startswith("raw-")


def test_every_line_of_the_bad_corpus_is_quarantined_with_its_reason(spark):
    """Producers send a bad line unchanged: silver and bronze must reject it, not crash."""
    headers = [("source", b"web-0"), ("event_date", b"2016-01-01")]
    at = dt.datetime(2026, 11, 25, 6, 0, 1, tzinfo=UTC)
    rows = [(None, line, "t", 0, i, at, 0, headers) for i, (_, line) in enumerate(BAD_LINES)]
    df = spark.createDataFrame(rows, KAFKA_SCHEMA)
    # A line whose own event_date looks like a date belongs to that date.
    dates = {r["record_date"] for r in records.with_record_date(df).select("record_date").collect()}
    quarantined, bronze_reasons = {}, {}
    for date in dates:
        clicks_ = silver.deduplicated(silver.validated(df, date))
        assert silver.silver_rows(clicks_).count() == 0
        for r in silver.quarantine_rows(clicks_).collect():
            quarantined[r["kafka_offset"]] = r["reason"]
        for r in bronze.transform(df, date, at).collect():
            bronze_reasons[r["offset"]] = r["reject_reason"]
    expected = {i: check_value(line).reason for i, (_, line) in enumerate(BAD_LINES)}
    assert quarantined == expected
    assert bronze_reasons == expected


def test_silver_and_bronze_refuse_each_hostile_value_with_its_reason(spark):
    """Values no producer of ours writes: quarantined with their reason, the good one kept."""
    at = dt.datetime(2026, 11, 25, 6, 0, 1, tzinfo=UTC)
    values = [good_value(), *(value for _, value, _ in HOSTILE_VALUES)]
    # No headers, as another client sends them: the value's date, else the broker's time.
    rows = [(None, v, "t", 0, i, at, 0, []) for i, v in enumerate(values)]
    df = spark.createDataFrame(rows, KAFKA_SCHEMA)
    by_date = collections.Counter(r["record_date"] for r in records.with_record_date(df).collect())
    # Spark reads a value that is not UTF-8 with U+FFFD in its place, so its date too.
    no_date = ["nested too deeply", "an empty value", "a JSON array"]
    assert by_date == {"2016-01-01": len(values) - len(no_date), "2026-11-25": len(no_date)}
    expected = {i + 1: reason for i, (_, _, reason) in enumerate(HOSTILE_VALUES)}
    quarantined, in_bronze = {}, {}
    for date in by_date:
        clicks_ = silver.deduplicated(silver.validated(df, date))
        assert [r["kafka_offset"] for r in silver.silver_rows(clicks_).collect()] == (
            [0] if date == "2016-01-01" else []
        )
        quarantined.update(
            (r["kafka_offset"], r["reason"]) for r in silver.quarantine_rows(clicks_).collect()
        )
        in_bronze.update(
            (r["offset"], r["reject_reason"]) for r in bronze.transform(df, date, at).collect()
        )
    assert quarantined == expected
    assert in_bronze == {0: None, **expected}


def test_a_valid_value_that_spark_files_under_another_date_is_quarantined():
    """The date a record is filed under must be its validated event_date."""
    from tripclick_spark.records import _checked

    assert _checked(good_value(), "2016-01-01").event_date == "2016-01-01"
    refused = _checked(good_value(), "2016-01-02")
    assert (refused.reason, refused.detail) == (
        "bad_event_date",
        "event_date reads 2016-01-02 to Spark but 2016-01-01 to the validator",
    )


def test_bronze_keeps_every_record_of_the_date_with_its_key(spark):
    df, _, bad = kafka_rows(spark)
    ingested = dt.datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    rows = sorted(
        bronze.transform(df, "2016-01-01", ingested).collect(),
        key=lambda r: (r["partition"], r["offset"]),
    )
    assert [(r["partition"], r["offset"]) for r in rows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    key = parse_line(LINE).dedup_key
    assert [r["record_key"] for r in rows][:2] == [key, key]
    assert [r["reject_reason"] for r in rows] == [None, None, "not_json", "not_json"]
    assert rows[0]["source"] == "web-0"
    assert rows[0]["key"] == "s1"
    assert rows[2]["key"] is None
    assert bytes(rows[2]["value"]) == bad
    assert {r["ingested_at"] for r in rows} == {ingested.replace(tzinfo=None)}
    assert list(rows[0].asDict()) == list(bronze.BRONZE_COLUMNS)


def test_reconciliation_names_the_numbers_that_differ():
    ok = {
        "kafka_records": 10,
        "bronze_records": 10,
        "bronze_distinct": 9,
        "silver_records": 8,
        "quarantine_distinct": 1,
        "gold_total_events": 8,
    }
    assert reconcile.mismatches(ok) == []
    bad = {**ok, "silver_records": 7, "gold_total_events": 6, "kafka_records": 11}
    assert reconcile.mismatches(bad) == [
        "bronze distinct 9 != silver 7 + quarantined distinct 1 (= 8)",
        "silver 7 != gold total_events 6",
        "Kafka 11 != bronze 10",
    ]
    assert reconcile.mismatches({**ok, "gold_total_events": None}) == [
        "silver 8 != gold total_events (not loaded)"
    ]
