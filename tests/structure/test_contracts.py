"""Each cross-area contract has one home: ``tripclick.contract``.

The Airflow environment cannot import the payload package, so the DAGs carry a copy;
the copy must be the same file, byte for byte. Nothing else restates the contract's values.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HOME = REPO / "payloads" / "tripclick" / "contract.py"
COPY = REPO / "dags" / "tripclick_dags" / "contract.py"
CODE = ("payloads", "spark", "devstack", "dags")


def test_the_dags_copy_of_the_contract_is_the_same_file():
    assert COPY.read_bytes() == HOME.read_bytes(), (
        f"{COPY.relative_to(REPO)} differs from {HOME.relative_to(REPO)}; copy it: "
        f"cp {HOME.relative_to(REPO)} {COPY.relative_to(REPO)}"
    )


# The backups' names and retention, and PostgreSQL's client tools, shared the same way by
# gold's and Airflow's backups.
BACKUP_NAMES = REPO / "payloads" / "tripclick" / "backup_names.py"
BACKUP_NAMES_COPY = REPO / "dags" / "tripclick_dags" / "backup_names.py"
PG_CLIENT = REPO / "payloads" / "tripclick" / "pg_client.py"
PG_CLIENT_COPY = REPO / "dags" / "tripclick_dags" / "pg_client.py"


@pytest.mark.parametrize(
    ("home", "copy"), [(BACKUP_NAMES, BACKUP_NAMES_COPY), (PG_CLIENT, PG_CLIENT_COPY)]
)
def test_the_dags_copy_of_a_shared_backup_module_is_the_same_file(home, copy):
    assert copy.read_bytes() == home.read_bytes(), (
        f"{copy.relative_to(REPO)} differs from {home.relative_to(REPO)};"
        f" copy it: cp {home.relative_to(REPO)} {copy.relative_to(REPO)}"
    )


def test_backups_are_named_and_kept_only_in_backup_names():
    # A timestamp format or a keep count of its own would let the two kinds drift apart.
    assert _literals(r"%Y%m%dT%H%M%SZ") == []
    assert _literals(r"(DEFAULT_KEEP\s*=\s*\d|_keep\",\s*\d)") == []


def _literals(pattern: str) -> list[str]:
    hits = []
    for area in CODE:
        for path in (REPO / area).rglob("*.py"):
            if path in (HOME, COPY, BACKUP_NAMES, BACKUP_NAMES_COPY, PG_CLIENT, PG_CLIENT_COPY):
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(pattern, line) and not line.lstrip().startswith("#"):
                    hits.append(f"{path.relative_to(REPO)}:{n}")
    return hits


def test_the_lake_layout_is_spelled_only_in_the_contract():
    assert _literals(r"[\"'](bronze|silver|quarantine)/tripclick_") == []
    assert _literals(r"[\"']reports/reconciliation") == []


def test_the_runtimes_zone_and_secret_folder_are_spelled_only_in_the_contract():
    assert _literals(r"\(\s*[\"']local[\"'],\s*[\"']aws[\"']\s*\)") == []
    assert _literals(r"/ [\"']secrets[\"']") == []
    # A default time zone as a value (messages may name it as an example).
    assert _literals(r"(=|:)\s*[\"']Asia/Seoul[\"']") == []
