"""The JVM's check of a value only speeds silver and bronze up: it never decides otherwise.

The JVM's check (``spark/jvm``, through ``value_check``) reads a value in the producers'
shape; everything else goes to ``check_value`` in Python. Here both see the same real sample
values, thousands of mutated ones and the hostile and bad corpora: every value the JVM
accepts must be one the validator accepts, with the same fields, and silver's and
bronze's transforms must give the same rows with the JVM's check as without it.
"""

from __future__ import annotations

import datetime as dt
import random

from pyspark.sql import functions as F
from test_transforms import KAFKA_SCHEMA
from tripclick_bad_lines import BAD_LINES
from tripclick_hostile_values import GOOD, HOSTILE_VALUES, good_value
from tripclick_mutations import CASES, PRODUCED, mutate, nine_field_lines

from tripclick.events import encode_line
from tripclick_spark import records, value_check
from tripclick_spark.records import PARSED_FIELDS, _parsed

DAY = "2016-01-01"
AT = dt.datetime(2026, 11, 25, 6, 0, 1, tzinfo=dt.UTC)


def _edges() -> list[bytes]:
    """Values on the edges of the JVM's check, each in the producers' shape but for one thing."""
    value = good_value()
    return [
        value,
        value.replace(b'","', b'", "').replace(b'":', b'": '),  # a log line's spacing
        good_value(event_ts="2016-13-01T00:01:41.933000+00:00"),  # no 13th month
        good_value(event_ts="2016-02-30T00:01:41.933000+00:00"),
        good_value(event_ts="2016-01-01T24:01:41.933000+00:00"),
        good_value(event_ts="2016-01-01T00:01:60.933000+00:00"),
        good_value(event_ts="2016-01-01T00:01:41.933Z"),
        good_value(produced_at="1989-12-31T23:59:59.999999+00:00"),  # before the bounds
        good_value(produced_at="2100-01-01T00:00:00.000000+00:00"),  # at the upper bound
        good_value(produced_at="2099-12-31T23:59:59.999999+00:00"),
        good_value(produced_at="2026-02-29T00:00:00.000000+00:00"),  # not a leap year
        good_value(produced_at="2024-02-29T00:00:00.000000+00:00"),  # a leap year
        good_value(DateCreated=f"/Date(0{GOOD['DateCreated'][6:]}"),  # a leading zero
        good_value(DateCreated="/Date(631151999999)/"),  # before 1990
        good_value(DocumentId=2**63 - 1),  # 19 digits: Python decides
        good_value(Documents=[0, 2**62, 7]),
        good_value(dedup_key=GOOD["dedup_key"].upper()),
        good_value(dedup_key="0" * 16),
        good_value(event_date="2016-01-02"),
        good_value(SessionId=" hostile-session"),
        good_value(SessionId="\u00a0"),
        good_value(SessionId="séance"),
        good_value(ClinicalAreas=",Oncology ,\u00a0Surgery"),
        good_value(ClinicalAreas=" , Oncology,,Surgery  "),
        good_value(Title="\u00dcberblick \u2013 \u2028 ok"),
        good_value(source=""),
        good_value(source="\u00e9"),
        value.replace(b"A title", b"A \xed\xa0\x80 title"),  # a UTF-16 surrogate in UTF-8
        value.replace(b"A title", b"A \xc0\xaf title"),  # an overlong encoding
        value.replace(b"A title", b"A \xff title"),
        value + b" ",
        b" " + value,
        value.replace(b'"Documents":[]', b'"Documents":[ ]'),
        b"",
    ]


def _values(sample_files) -> list[bytes]:
    rng = random.Random(2019)
    bases = [
        encoded[1]
        for line in nine_field_lines(sample_files)
        if type(encoded := encode_line(line, "web-0", PRODUCED)) is tuple
    ]
    mutated = [mutate(rng, rng.choice(bases)) for _ in range(CASES)]
    hostile = [value for _, value, _ in HOSTILE_VALUES]
    return bases + _edges() + mutated + hostile + [line for _, line in BAD_LINES]


def _frame(spark, values: list[bytes]):
    headers = [("source", b"web-0"), ("event_date", DAY.encode())]
    rows = [(None, v, "t", 0, i, AT, 0, headers) for i, v in enumerate(values)]
    return spark.createDataFrame(rows, KAFKA_SCHEMA)


def test_every_value_the_jvm_accepts_the_validator_accepts_with_the_same_fields(
    spark, sample_files
):
    values = _values(sample_files)
    df = _frame(spark, values)
    assert value_check.register(spark, PARSED_FIELDS), "the value check's jar: run make setup"
    got = value_check.with_accepted(df, "value", DAY, "f").select("offset", "f").collect()
    accepted = {r["offset"]: tuple(r["f"]) for r in got if r["f"] is not None}
    for offset, fields in sorted(accepted.items()):
        expected = _parsed(values[offset], DAY)
        assert fields == expected, f"value {values[offset]!r}\njvm {fields}\npython {expected}"
    # The real sample's values (both shapes) all take the JVM's path, and the corpus
    # exercises both outcomes, or the comparison proves little.
    bases = len(values) - CASES - len(_edges()) - len(HOSTILE_VALUES) - len(BAD_LINES)
    assert all(i in accepted for i in range(bases))
    valid = sum(_parsed(v, DAY)[0] for v in values)
    assert 0.8 * valid < len(accepted) <= valid  # 558 of 634 with this seed
    assert len(accepted) > bases + 300
    # The edges the JVM must leave to Python are left (and the two spacing variants taken).
    edges = dict(enumerate(_edges(), start=bases))
    taken = {values[i] for i in edges if i in accepted}
    assert good_value() in taken
    assert good_value(produced_at="2024-02-29T00:00:00.000000+00:00") in taken
    assert good_value(DocumentId=2**63 - 1) not in taken  # 19 digits: Python decides


def _rows(frame) -> list[tuple]:
    return sorted((tuple(r) for r in frame.collect()), key=lambda r: (r[3], r[4]))


def test_silver_and_bronze_give_the_same_rows_with_and_without_the_jvm_check(spark, sample_files):
    df = _frame(spark, _values(sample_files))
    with_jvm = _rows(records.parse(df, DAY))
    python_only = _rows(records.parse(df, DAY, jvm_check=False))
    assert with_jvm == python_only
    names = records.parse(df, DAY).columns
    assert names[-len(PARSED_FIELDS.names) :] == PARSED_FIELDS.names
    assert {r[names.index("ok")] for r in with_jvm} == {True, False}
    assert _rows(records.with_record_key(df, DAY)) == _rows(
        records.with_record_key(df, DAY, jvm_check=False)
    )


def test_filing_with_the_check_gives_the_rows_filing_without_it_gives(spark, sample_files):
    """of_date(checked=True) reads the date from the JVM's check where it accepts: the same
    records reach the same rows as by the JSON path alone, on a topic of two days whose
    records carry the day's header, the other day's, or none."""
    next_day = "2016-01-02"
    shifted = [
        good_value(event_ts=f"{next_day}T00:01:41.933000+00:00", event_date=next_day),
        good_value(event_ts=f"{next_day}T23:59:59.999999+00:00", event_date=next_day),
    ]
    values = _values(sample_files) + shifted
    kinds = [[("event_date", DAY.encode())], [("event_date", next_day.encode())], []]
    rows = [(None, v, "t", 0, i, AT, 0, kinds[i % 3]) for i, v in enumerate(values)]
    df = spark.createDataFrame(rows, KAFKA_SCHEMA)
    for day, least in ((DAY, 300), (next_day, 2)):
        checked = records.of_date(df, day, checked=True)
        plain = records.of_date(df, day)
        assert checked.count() == plain.count() > least
        assert checked.where(F.col(records.JVM).isNotNull()).count() >= least
        assert _rows(records.parse(checked, day)) == _rows(
            records.parse(plain, day, jvm_check=False)
        )
        assert _rows(records.with_record_key(checked, day)) == _rows(
            records.with_record_key(plain, day, jvm_check=False)
        )


def test_a_null_value_is_checked_as_empty_bytes(spark):
    df = spark.createDataFrame([(None, None, "t", 0, 0, AT, 0, [])], KAFKA_SCHEMA)
    (row,) = records.parse(df, "2026-11-25").collect()
    assert (row["ok"], row["reason"]) == (False, "not_json")
    (keyed,) = records.with_record_key(df, "2026-11-25").collect()
    assert keyed["reject_reason"] == "not_json"


def test_a_session_without_the_jar_checks_every_value_in_python(spark, monkeypatch):
    values = [good_value(), b"not json"]
    df = _frame(spark, values)
    expected = _rows(records.parse(df, DAY))
    monkeypatch.setattr(value_check, "CLASS", "tripclick.spark.NotOnTheClassPath")
    assert not value_check.register(spark, PARSED_FIELDS)
    assert _rows(records.parse(df, DAY)) == expected
