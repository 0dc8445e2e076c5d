"""How the lake's backups are named and how many are kept: gold's and Airflow's alike.

A backup is ``<lake>/backups/<kind>/<kind>-<UTC time>.<extension>``: the time is written
so that names sort by age, and the newest ``keep`` are the last ``keep`` names. One
dependency-free module (standard library only): the Airflow environment carries no
payload package, so ``dags/tripclick_dags/backup_names.py`` is a byte-for-byte copy of this
file; ``tests/structure/test_contracts.py`` fails when the two differ.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

# Nightly backups kept of each kind (tripclick_backup_keep, tripclick_airflow_backup_keep).
DEFAULT_KEEP = 7
_STAMP = "%Y%m%dT%H%M%SZ"


def backup_name(kind: str, now: dt.datetime, extension: str) -> str:
    """``<kind>-<UTC time>.<extension>``, e.g. ``gold-20160102T180000Z.dump``."""
    return f"{kind}-{now.astimezone(dt.UTC).strftime(_STAMP)}.{extension}"


def name_pattern(kind: str, extensions: Iterable[str]) -> re.Pattern[str]:
    """The names :func:`backup_name` gives a kind, and nothing else found in its prefix."""
    either = "|".join(re.escape(e) for e in sorted(extensions))
    return re.compile(rf"^{re.escape(kind)}-\d{{8}}T\d{{6}}Z\.(?:{either})$")


def to_delete(names: Iterable[str], keep: int) -> list[str]:
    """The backups beyond the newest ``keep`` (pure; ``names`` of one kind, in any order)."""
    if keep < 1:
        raise ValueError(f"--keep {keep}: keep at least 1 backup")
    ordered = sorted(names)
    return ordered[:-keep]
