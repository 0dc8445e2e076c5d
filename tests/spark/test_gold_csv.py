"""gold_db.arrow_csv: the CSV COPY reads, with zoned timestamps written as UTC text.

The marts' and the live partials' timestamps come from Spark with a zone; arrow_csv turns
them into text itself (Arrow's own formatting of zoned values is ten times slower), so
its output must hold the same instants Arrow's writer gives, in UTC whatever the zone.
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pa_csv

from tripclick_spark import gold_db

INSTANTS = [1451635718603000, None, 1451606400000001]  # µs since 1970 (UTC), and a null


def _arrows_own(table: pa.Table) -> list[list[str]]:
    buf = io.BytesIO()
    pa_csv.write_csv(table, buf, pa_csv.WriteOptions(include_header=False))
    return _fields(buf.getvalue())


def _fields(csv: bytes) -> list[list[str]]:
    return [line.replace('"', "").split(",") for line in csv.decode().splitlines()]


def test_zoned_timestamps_are_the_same_utc_instants_with_a_z() -> None:
    table = pa.table(
        {
            "session_id": pa.array(["a", "", None]),
            "utc": pa.array(INSTANTS, pa.timestamp("us", "UTC")),
            "seoul": pa.array(INSTANTS, pa.timestamp("us", "Asia/Seoul")),
            "nanos": pa.array(
                [None if v is None else v * 1000 for v in INSTANTS], pa.timestamp("ns", "UTC")
            ),
        }
    )
    ours = gold_db.arrow_csv(table).getvalue()
    assert _fields(ours) == [
        [
            "a",
            "2016-01-01 08:08:38.603000Z",
            "2016-01-01 08:08:38.603000Z",
            "2016-01-01 08:08:38.603000000Z",
        ],
        ["", "", "", ""],
        [
            "",
            "2016-01-01 00:00:00.000001Z",
            "2016-01-01 00:00:00.000001Z",
            "2016-01-01 00:00:00.000001000Z",
        ],
    ]
    # Arrow writes the Seoul column in Seoul time (+0900); ours is the same instant in UTC.
    utc_only = table.drop_columns(["seoul"])
    assert _fields(gold_db.arrow_csv(utc_only).getvalue()) == _arrows_own(utc_only)
    # An empty string stays a quoted empty field (''), a null an empty one (NULL).
    assert ours.decode().splitlines()[1] == '"",,,'


def test_zoneless_timestamps_and_other_columns_are_left_to_arrow() -> None:
    table = pa.table(
        {
            "event_date": pa.array([16801, 16802], pa.date32()),
            "ts": pa.array(INSTANTS[::2], pa.timestamp("us")),
            "n": pa.array([1, 2], pa.int64()),
            "x": pa.array([0.5, 1475.588]),
        }
    )
    buf = io.BytesIO()
    pa_csv.write_csv(table, buf, pa_csv.WriteOptions(include_header=False))
    assert gold_db.arrow_csv(table).getvalue() == buf.getvalue()
