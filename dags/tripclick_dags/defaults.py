"""Arguments every TripClick DAG shares: retries with backoff, timeouts, the alert."""

from __future__ import annotations

import datetime as dt

import pendulum

from tripclick_dags.alerts import on_failure
from tripclick_dags.settings import schedule_timezone

TAGS = ["tripclick"]

# A batch stage (bronze, silver catch-up, gold) on the sample fits in minutes; the
# full day in well under an hour.
BATCH_TIMEOUT = dt.timedelta(hours=1)
# A stream stage lasts its window (one hour by default) plus start-up and the last batch.
STREAM_TIMEOUT = dt.timedelta(hours=2)
# A sensor waits, deferred, for up to a day (a run started early waits until 18:00).
WAIT_TIMEOUT = dt.timedelta(hours=23)

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": dt.timedelta(seconds=30),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": dt.timedelta(minutes=10),
    "execution_timeout": BATCH_TIMEOUT,
    "on_failure_callback": on_failure,
}


def start_date() -> pendulum.DateTime:
    """A fixed, time zone-aware start before the first TripClick log day (2013).

    Catchup is off, so no past day runs by itself; an early start lets a run for any day
    of the logs (the sample is 2016-01-01) be triggered or tested.
    """
    return pendulum.datetime(2013, 1, 1, tz=schedule_timezone())
