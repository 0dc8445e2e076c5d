"""Pure transforms of Kafka records of topic ``tripclick_raw_logs``, shared by silver and bronze.

Validation runs :func:`tripclick.events.check_value` (``validate_value`` without building
an Event) inside Spark (``mapInArrow``), so
silver accepts and rejects exactly what the producers' event model does.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"

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


def with_record_date(records: DataFrame) -> DataFrame:
    """Add ``record_date``: the value's ``event_date``, else the ``event_date`` header, else
    the UTC date of the Kafka timestamp; each only when written ``YYYY-MM-DD``.

    Invalid records have no usable value, so the header (the replayed day) places them; a
    record from another client may have neither, and the broker's time still files it
    under a date, so no run misses it. Validation then checks that a valid value's own
    ``event_date`` is this one (:func:`parse`): get_json_object is not the validator.
    """
    value_date = F.get_json_object(F.col("value").cast("string"), "$.event_date")
    header_date = header("event_date")
    return records.withColumn(
        "record_date",
        F.when(value_date.rlike(_DATE_PATTERN), value_date)
        .when(header_date.rlike(_DATE_PATTERN), header_date)
        .otherwise(F.date_format("timestamp", "yyyy-MM-dd")),
    )


def of_date(records: DataFrame, event_date: str) -> DataFrame:
    """The records that belong to ``event_date`` (see :func:`with_record_date`)."""
    return with_record_date(records).where(F.col("record_date") == F.lit(event_date))


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


def _parse_batches(batches: Iterator, event_date: str) -> Iterator:
    """mapInArrow body: validate each ``value`` and append :data:`PARSED_FIELDS`."""
    import pyarrow as pa

    from tripclick.events import Rejection, datetime_to_ms, split_areas

    names = [f.name for f in PARSED_FIELDS.fields]
    types = [_ARROW_TYPES[n] for n in names]
    # A rejected record: everything but ok, record_key, reason and detail is null.
    tail = (None,) * (len(names) - 4)
    for batch in batches:
        values = batch.column("value").to_pylist()
        rows = []
        kept = []  # only quarantine needs the raw value; valid rows drop it (smaller batches)
        for raw in values:
            raw = raw or b""
            r = _checked(raw, event_date)
            if type(r) is Rejection:
                rows.append((False, _raw_key(raw), r.reason, r.message, *tail))
                kept.append(raw)
                continue
            fields, click_ms, doc, key, ts, _event_date, source, produced_at = r
            rows.append(
                (
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
            )
            kept.append(None)
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        arrays = [
            pa.array(kept, type=batch.column("value").type) if n == "value" else batch.column(n)
            for n in batch.schema.names
        ] + [pa.array(col, type=t) for col, t in zip(columns, types, strict=True)]
        yield pa.RecordBatch.from_arrays(arrays, names=batch.schema.names + names)


def _key_batches(batches: Iterator, event_date: str) -> Iterator:
    """mapInArrow body: append :data:`KEY_FIELDS` (the reconciliation key of each record)."""
    import pyarrow as pa

    from tripclick.events import Rejection

    for batch in batches:
        keys, reasons, sources = [], [], []
        for raw in batch.column("value").to_pylist():
            raw = raw or b""
            r = _checked(raw, event_date)
            if type(r) is Rejection:
                keys.append(_raw_key(raw))
                reasons.append(r.reason)
                sources.append(None)
            else:
                keys.append(r[3])
                reasons.append(None)
                sources.append(r[6])
        new = [pa.array(column, pa.string()) for column in (keys, reasons, sources)]
        yield pa.RecordBatch.from_arrays(
            [*batch.columns, *new], names=[*batch.schema.names, *KEY_FIELDS.names]
        )


def _arrow_types() -> dict:
    import pyarrow as pa

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
    }


_ARROW_TYPES = _arrow_types()


def parse(records: DataFrame, event_date: str) -> DataFrame:
    """Validate every record of ``event_date`` (:func:`of_date`) with the event model; add
    :data:`PARSED_FIELDS`.

    ``ok`` says whether it passed, and a value whose validated ``event_date`` is another
    date fails (``bad_event_date``); ``record_key`` is its ``dedup_key`` when valid and
    ``raw-<xxhash64 of the value>`` when not, so each distinct record counts once.
    ``value`` is kept for invalid records only (quarantine keeps it; silver does not).
    """
    schema = T.StructType(records.schema.fields + PARSED_FIELDS.fields)
    return records.mapInArrow(partial(_parse_batches, event_date=event_date), schema)


def with_record_key(records: DataFrame, event_date: str) -> DataFrame:
    """Add ``record_key``, ``reject_reason`` (see :func:`parse`) and a valid value's ``source``."""
    schema = T.StructType(records.schema.fields + KEY_FIELDS.fields)
    return records.mapInArrow(partial(_key_batches, event_date=event_date), schema)
