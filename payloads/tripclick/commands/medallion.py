"""``tripclick silver | bronze | gold | reconcile | run-day``: the Spark jobs (``spark/``)."""

from tripclick_spark.cli import register

__all__ = ["register"]
