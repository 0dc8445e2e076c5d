"""Pure transforms of Kafka records of topic ``tripclick_raw_logs``, shared by silver and bronze.

Validation accepts and rejects exactly what the producers' event model does: a value in
the producers' own shape is checked in the JVM by a Spark SQL function of ours
(:mod:`tripclick_spark.value_check`, which only accepts), every other value by
:func:`tripclick.events.check_value` (``validate_value`` without building an Event) in a
Python worker (an Arrow UDF), which decides it and its reason.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from tripclick_spark import value_check

_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
# The column of the JVM's check: added by of_date(checked=True), read and dropped by validation.
JVM = "_jvm"

# What validation adds to each record.
PARSED_FIELDS = T.StructType(
    [
        T.StructField("ok", T.BooleanType(), False),
        T.StructField("record_key", T.StringType(), False),
        T.StructField("reason", T.StringType(), True),
        T.StructField("detail", T.StringType(), True),
        T.StructField("session_id", T.StringType(), True),
        T.StructField("document_id", T.LongType(), True),
        T.StructField("url", T.StringType(), True),
        T.StructField("title", T.StringType(), True),
        T.StructField("doi", T.StringType(), True),
        T.StructField("clinical_areas", T.ArrayType(T.StringType(), False), True),
        T.StructField("keywords", T.StringType(), True),
        T.StructField("documents", T.ArrayType(T.LongType(), False), True),
        T.StructField("date_created", T.StringType(), True),
        T.StructField("click_ms", T.LongType(), True),
        T.StructField("event_ms", T.LongType(), True),
        T.StructField("source", T.StringType(), True),
        T.StructField("produced_at", T.StringType(), True),
    ]
)
KEY_FIELDS = T.StructType(
    [
        T.StructField("record_key", T.StringType(), False),
        T.StructField("reject_reason", T.StringType(), True),
        T.StructField("value_source", T.StringType(), True),
    ]
)


def header(name: str) -> Column:
    """The first Kafka header called ``name``, as a string (null when absent)."""
    matching = F.filter(F.col("headers"), lambda h: h["key"] == F.lit(name))
    return F.get(matching, 0)["value"].cast("string")


def _record_date() -> Column:
    value_date = F.get_json_object(F.col("value").cast("string"), "$.event_date")
    header_date = header("event_date")
    return (
        F.when(value_date.rlike(_DATE_PATTERN), value_date)
        .when(header_date.rlike(_DATE_PATTERN), header_date)
        .otherwise(F.date_format("timestamp", "yyyy-MM-dd"))
    )


def with_record_date(records: DataFrame) -> DataFrame:
    """Add ``record_date``: the value's ``event_date``, else the ``event_date`` header, else
    the UTC date of the Kafka timestamp; each only when written ``YYYY-MM-DD``.

    Invalid records have no usable value, so the header (the replayed day) places them; a
    record from another client may have neither, and the broker's time still files it
    under a date, so no run misses it. Validation then checks that a valid value's own
    ``event_date`` is this one (:func:`parse`): get_json_object is not the validator.
    """
    return records.withColumn("record_date", _record_date())


def of_date(records: DataFrame, event_date: str, *, checked: bool = False) -> DataFrame:
    """The records that belong to ``event_date`` (see :func:`with_record_date`).

    ``checked`` runs the JVM's check first and keeps it as column :data:`JVM` for
    :func:`parse` and :func:`with_record_key`. A value it accepts has this ``event_date``,
    so the JSON path only reads the others. The check leaves a value of another date (a
    topic holds several days) after a byte search, before decoding it.
    """
    if not checked:
        return with_record_date(records).where(F.col("record_date") == F.lit(event_date))
    jvm = _with_jvm(records, event_date, jvm_check=True)
    # CASE evaluates its branches lazily; Spark keeps the check in its own projection
    # (it is not cheap, so neither the filter nor the next projection repeats it).
    dated = jvm.withColumn(
        "record_date", F.when(F.col(JVM).isNotNull(), F.lit(event_date)).otherwise(_record_date())
    )
    return dated.where(F.col("record_date") == F.lit(event_date))


def _raw_key(raw: bytes) -> str:
    import xxhash

    return "raw-" + xxhash.xxh64_hexdigest(raw)


def _checked(raw: bytes, record_date: str):
    """check_value of a record filed under ``record_date``; a valid value of another date
    is refused, so every silver row's partition is its validated ``event_date``."""
    from tripclick.events import Rejection, check_value

    r = check_value(raw)
    if type(r) is not Rejection and r.event_date != record_date:
        detail = f"event_date reads {record_date} to Spark but {r.event_date} to the validator"
        return Rejection("bad_event_date", raw, detail)
    return r


def _parsed(raw: bytes, event_date: str) -> tuple:
    """The :data:`PARSED_FIELDS` of one value, as ``check_value`` finds it."""
    from tripclick.events import Rejection, datetime_to_ms, split_areas

    r = _checked(raw, event_date)
    if type(r) is Rejection:
        return (False, _raw_key(raw), r.reason, r.message, *_REJECTED_TAIL)
    fields, click_ms, doc, key, ts, _event_date, source, produced_at = r
    return (
        True,
        key,
        None,
        None,
        fields.SessionId,
        doc,
        fields.Url,
        fields.Title,
        fields.DOI,
        split_areas(fields.ClinicalAreas),
        fields.Keywords,
        fields.Documents,
        fields.DateCreated,
        click_ms,
        datetime_to_ms(ts),
        source,
        produced_at,
    )


def _keyed(raw: bytes, event_date: str) -> tuple:
    """The :data:`KEY_FIELDS` of one value."""
    from tripclick.events import Rejection

    r = _checked(raw, event_date)
    if type(r) is Rejection:
        return (_raw_key(raw), r.reason, None)
    return (r[3], None, r[6])


def _checked_values(values, row, fields: T.StructType, event_date: str):
    """Arrow UDF body: ``row`` of each value that is not null, as a struct array of
    ``fields``; null where the value is null (the JVM's check accepted it, :func:`parse`)."""
    import numpy as np

    present = values.is_valid()
    rows = [row(raw, event_date) for raw in values.filter(present).to_pylist()]
    names = fields.names
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    checked = pa.StructArray.from_arrays(
        [pa.array(c, type=_ARROW_TYPES[n]) for c, n in zip(columns, names, strict=True)],
        names=names,
    )
    if len(rows) == len(values):
        return checked
    mask = present.to_numpy(zero_copy_only=False)
    return checked.take(pa.array(np.cumsum(mask) - 1, mask=~mask))


def _arrow_types() -> dict:
    return {
        "ok": pa.bool_(),
        "record_key": pa.string(),
        "reason": pa.string(),
        "detail": pa.string(),
        "session_id": pa.string(),
        "document_id": pa.int64(),
        "url": pa.string(),
        "title": pa.string(),
        "doi": pa.string(),
        "clinical_areas": pa.list_(pa.string()),
        "keywords": pa.string(),
        "documents": pa.list_(pa.int64()),
        "date_created": pa.string(),
        "click_ms": pa.int64(),
        "event_ms": pa.int64(),
        "source": pa.string(),
        "produced_at": pa.string(),
        "reject_reason": pa.string(),
        "value_source": pa.string(),
    }


_ARROW_TYPES = _arrow_types()
# A rejected record: everything but ok, record_key, reason and detail is null.
_REJECTED_TAIL = (None,) * (len(PARSED_FIELDS.fields) - 4)
# KEY_FIELDS from the JVM's PARSED_FIELDS: the key, no reason, the value's source.
_KEY_FROM_PARSED = ("record_key", "reason", "source")


def _with_jvm(records: DataFrame, event_date: str, jvm_check: bool) -> DataFrame:
    """``records`` with :data:`JVM`: the JVM's :data:`PARSED_FIELDS` of a value it accepts,
    null for every other value and for every value when the check is off or not loaded."""
    if jvm_check and value_check.register(records.sparkSession, PARSED_FIELDS):
        return value_check.with_accepted(records, "value", event_date, JVM)
    return records.withColumn(JVM, F.lit(None).cast(PARSED_FIELDS))


def _python_check(
    records: DataFrame, row, fields: T.StructType, event_date: str, jvm_check: bool
) -> DataFrame:
    """``records`` with ``_checked``: the JVM's fields of a value it accepts, else ``row`` of
    the value in a Python worker. Only the values the JVM left go to Python; the others
    cross as nulls, so their bytes make no trip. A :data:`JVM` column already there
    (:func:`of_date`) is used, and dropped."""
    with_jvm = records if JVM in records.columns else _with_jvm(records, event_date, jvm_check)
    jvm = F.col(JVM)
    if fields is KEY_FIELDS:
        # A struct of a null struct's fields is not null: only an accepted value has one.
        keyed = (jvm[f].alias(n) for f, n in zip(_KEY_FROM_PARSED, KEY_FIELDS.names, strict=True))
        with_jvm = with_jvm.withColumn(JVM, F.when(jvm.isNotNull(), F.struct(*keyed)))

    def body(values: pa.Array) -> pa.Array:
        return _checked_values(values, row, fields, event_date)

    # Nullable throughout: the struct of an accepted value is null, its fields with it.
    nullable = T.StructType([T.StructField(f.name, f.dataType) for f in fields.fields])
    python = F.arrow_udf(body, nullable)
    # A null value (a tombstone) is checked as empty bytes: null means "accepted" here.
    left = F.when(jvm.isNull(), F.coalesce("value", F.lit(bytearray())))
    return with_jvm.withColumn("_checked", F.coalesce(jvm, python(left))).drop(JVM)


def _columns(records: DataFrame) -> list[str]:
    return [name for name in records.columns if name != JVM]


def parse(records: DataFrame, event_date: str, *, jvm_check: bool = True) -> DataFrame:
    """Validate every record of ``event_date`` (:func:`of_date`) with the event model; add
    :data:`PARSED_FIELDS`.

    ``ok`` says whether it passed, and a value whose validated ``event_date`` is another
    date fails (``bad_event_date``); ``record_key`` is its ``dedup_key`` when valid and
    ``raw-<xxhash64 of the value>`` when not, so each distinct record counts once.
    ``value`` is kept for invalid records only (quarantine keeps it; silver does not).
    Values in the producers' shape are checked in the JVM (:mod:`value_check`), the rest
    by ``check_value``; ``jvm_check=False`` sends all to ``check_value``, with the same result.
    """
    checked = _python_check(records, _parsed, PARSED_FIELDS, event_date, jvm_check)
    kept = F.when(~F.col("_checked.ok"), F.col("value")).alias("value")
    return checked.select(
        *(kept if name == "value" else F.col(name) for name in _columns(records)),
        *(F.col("_checked")[name].alias(name) for name in PARSED_FIELDS.names),
    )


def with_record_key(records: DataFrame, event_date: str, *, jvm_check: bool = True) -> DataFrame:
    """Add ``record_key``, ``reject_reason`` (see :func:`parse`) and a valid value's ``source``."""
    checked = _python_check(records, _keyed, KEY_FIELDS, event_date, jvm_check)
    return checked.select(
        *_columns(records), *(F.col("_checked")[name].alias(name) for name in KEY_FIELDS.names)
    )
