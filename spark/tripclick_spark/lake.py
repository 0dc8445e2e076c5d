"""Where each layer lives under the lake root (ARCHITECTURE 3.4), and file-system helpers.

The lake root is ``settings.lake_root``: a local folder by default, ``s3a://bucket``
on moto or AWS. The helpers go through Hadoop's FileSystem so they work on both.
"""

from __future__ import annotations

from tripclick.config import Settings
from tripclick.contract import (
    BRONZE,
    CHECKPOINTS,
    QUALITY_REPORTS,
    QUARANTINE,
    REPORTS,
    SILVER,
    canonical_date,
    partition_uri,
)
from tripclick.errors import UserError

__all__ = ["BRONZE", "CHECKPOINTS", "QUALITY_REPORTS", "QUARANTINE", "REPORTS", "SILVER"]


def check_date(value: str) -> str:
    """``value`` when it is a date written ``YYYY-MM-DD``, else a UserError naming it."""
    day = canonical_date(value)
    if day is None:
        raise UserError(f"--date {value!r} is not a date; use YYYY-MM-DD")
    return day


def root(settings: Settings) -> str:
    return settings.lake_root.rstrip("/")


def table(settings: Settings, layer: str) -> str:
    return f"{root(settings)}/{layer}"


def partition(settings: Settings, layer: str, event_date: str) -> str:
    return partition_uri(root(settings), layer, event_date)


def checkpoint(settings: Settings, job: str, event_date: str) -> str:
    return f"{root(settings)}/{CHECKPOINTS}/{job}/event_date={event_date}"


def report(settings: Settings, event_date: str) -> str:
    return f"{table(settings, REPORTS)}/event_date={event_date}/report.json"


def quality_report(settings: Settings, event_date: str) -> str:
    return f"{table(settings, QUALITY_REPORTS)}/event_date={event_date}/report.json"


def _fs(spark, path: str):
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def exists(spark, path: str) -> bool:
    fs, hpath = _fs(spark, path)
    return bool(fs.exists(hpath))


def has_entries(spark, path: str) -> bool:
    """Whether ``path`` is a directory holding anything (a file or a directory)."""
    fs, hpath = _fs(spark, path)
    return bool(fs.exists(hpath)) and len(fs.listStatus(hpath)) > 0


def names(spark, path: str) -> list[str]:
    """The names of the entries in the directory ``path``; none when it does not exist."""
    fs, hpath = _fs(spark, path)
    if not fs.exists(hpath):
        return []
    return sorted(str(status.getPath().getName()) for status in fs.listStatus(hpath))


def replace(spark, staged: str, path: str) -> None:
    """Put the directory ``staged`` at ``path``, replacing what was there.

    A rename: atomic on a local or HDFS file system; on S3A a copy, then a delete, so a
    crash in between leaves ``staged`` whole for the next run to write again.
    """
    fs, target = _fs(spark, path)
    _, source = _fs(spark, staged)
    if fs.exists(target):
        fs.delete(target, True)
    fs.mkdirs(target.getParent())
    if not fs.rename(source, target):
        raise UserError(f"could not move {staged} to {path}; run the stage again")


def delete(spark, path: str) -> None:
    fs, hpath = _fs(spark, path)
    if fs.exists(hpath):
        fs.delete(hpath, True)


def write_text(spark, path: str, text: str) -> None:
    fs, hpath = _fs(spark, path)
    out = fs.create(hpath, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


def read_text(spark, path: str) -> str:
    fs, hpath = _fs(spark, path)
    stream = fs.open(hpath)
    try:
        jvm = spark.sparkContext._jvm
        return jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()
