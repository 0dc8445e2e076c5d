"""The JVM's check of a Kafka value in the one shape our producers write.

Silver and bronze validate every record of a date. Running
:func:`tripclick.events.check_value` on each in a Python worker costs the record's trip
through Arrow to Python and back and a Python call per record: most of silver's time and
nearly all of bronze's. Nearly every value is in the shape ``Event.to_value`` writes: the
nine TripClick fields in the logs' order, then the five the producer appends.
``spark/jvm/tripclick/spark/ValueCheck.java`` reads that shape in one pass and checks what
``check_value`` checks (UTF-8, types and ranges, each time a real one within the bounds,
the dates, the dedup key). A value it accepts is one ``check_value`` accepts, with the
same fields; for any other value it gives null, and ``check_value`` decides it and its
reason in Python. Like msgspec before ``json`` in :mod:`tripclick.events`, it only ever
accepts (``tests/spark/test_value_check.py`` compares it with the validator on thousands
of mutated values).

Its jar (``make setup`` compiles it against the virtualenv's Spark) is on the local
session's class path. A session without it validates everything in Python, with the
same result.
"""

from __future__ import annotations

import os

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

CLASS = "tripclick.spark.ValueCheck"
FUNCTION = "tripclick_value_check"
# ``python`` turns the JVM's check off: the benchmarks' reference run (bench/README.md).
SWITCH = "TRIPCLICK_VALUE_CHECK"


def register(spark: SparkSession, fields: T.StructType) -> bool:
    """Register the check as ``tripclick_value_check(value, event_date)`` returning
    ``fields``; False when the session cannot load it (no jar, or Spark Connect) or
    :data:`SWITCH` is ``python``."""
    if os.environ.get(SWITCH, "jvm") == "python":
        return False
    try:
        spark.udf.registerJavaFunction(FUNCTION, CLASS, fields)
    except Exception:  # noqa: BLE001 - any failure to load it means Python checks everything
        return False
    return True


def with_accepted(frame: DataFrame, value: str, event_date: str, name: str) -> DataFrame:
    """``frame`` with column ``name``: the fields of a value the check accepts (a struct of
    the registered ``fields``), null for every other value (``check_value`` decides those).

    ``event_date`` is the date the record is filed under: a value of another date is left
    to ``check_value`` too, whose caller refuses it. Call :func:`register` first.
    """
    return frame.withColumn(name, F.call_function(FUNCTION, F.col(value), F.lit(event_date)))
