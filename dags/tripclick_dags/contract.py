"""The contracts every area shares, in one dependency-free module (standard library only).

The payloads, the Spark jobs, the local platform and the DAGs all read these names from
here. The Airflow environment does not carry the payload package, so
``dags/tripclick_dags/contract.py`` is a byte-for-byte copy of this file;
``tests/test_contracts.py`` fails when the two differ.

What lives here: the runtimes, the default time zone and home, the topic, the form of a
date, the lake's layout (ARCHITECTURE 3.4) and the secret files of a home.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from pathlib import Path

# The checkout (or install folder) this file sits in: <root>/<area>/<package>/contract.py.
REPO_ROOT = Path(__file__).resolve().parents[2]

RUNTIMES = ("local", "aws")
DEFAULT_RUNTIME = "local"
# The schedule's time zone (ARCHITECTURE 3.3); data times are always UTC.
DEFAULT_TIMEZONE = "Asia/Seoul"
TOPIC = "tripclick_raw_logs"

# ---------------------------------------------------------------- dates

# The one accepted spelling of a date. Python 3.11's date.fromisoformat also reads
# 20160101 and 2016-W01-5, which would name other lake partitions than the one asked for.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def canonical_date(value: object) -> str | None:
    """``value`` when it is a real calendar date written ``YYYY-MM-DD``, else None."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:  # 2016-02-30
        return None


# ---------------------------------------------------------------- the lake (ARCHITECTURE 3.4)
BRONZE = "bronze/tripclick_raw_logs"
SILVER = "silver/tripclick_events"
QUARANTINE = "quarantine/tripclick_raw_logs"
CHECKPOINTS = "_checkpoints"
REPORTS = "reports/reconciliation"
# The data-quality gates' results per date (tripclick quality).
QUALITY_REPORTS = "reports/quality"
# Nightly pg_dump archives of the gold schema (tripclick backup).
BACKUPS = "backups/gold"
# Nightly backups of Airflow's metadata database (tripclick_dags.airflow_backup).
AIRFLOW_BACKUPS = "backups/airflow"


def partition_uri(lake_root: str, layer: str, event_date: str) -> str:
    """A layer's folder of one date, without a trailing slash."""
    return f"{lake_root.rstrip('/')}/{layer}/event_date={event_date}"


# ---------------------------------------------------------------- home and secrets


def default_home() -> Path:
    """``TRIPCLICK_HOME``: state of a checkout (services, lake, secrets); ``.local`` by default."""
    return Path(os.environ.get("TRIPCLICK_HOME") or REPO_ROOT / ".local")


# The secret files of a home. Each is generated on first use (mode 0600 in a 0700
# folder) and never has a default value.
SECRETS = (
    "pg_password",
    "pg_admin_password",
    "airflow_fernet_key",
    "airflow_jwt_secret",
    "airflow_api_secret_key",
    "superset_secret_key",
    "superset_admin_password",
)


def secret_path(home: Path, name: str) -> Path:
    """Where the secret ``name`` (one of :data:`SECRETS`) lives under ``home``."""
    if name not in SECRETS:
        raise KeyError(f"{name!r} is not a secret of the platform; add it to SECRETS")
    return Path(home) / "secrets" / name


def read_or_create_secret(path: Path, nbytes: int = 24, make=None) -> str:
    """The secret stored at ``path``, created (mode 0600) on first use.

    ``make`` builds a value of another shape (a Fernet key); by default it is
    ``nbytes`` random bytes, URL-safe.
    """
    path = Path(path)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = make() if make else secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value
