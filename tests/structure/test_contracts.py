"""Each cross-area contract has one home: ``tripclick.contract``.

The Airflow environment cannot import the payload package, so the DAGs carry a copy;
the copy must be the same file, byte for byte. Nothing else restates the contract's values.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOME = REPO / "payloads" / "tripclick" / "contract.py"
COPY = REPO / "dags" / "tripclick_dags" / "contract.py"
CODE = ("payloads", "spark", "devstack", "dags")


def test_the_dags_copy_of_the_contract_is_the_same_file():
    assert COPY.read_bytes() == HOME.read_bytes(), (
        f"{COPY.relative_to(REPO)} differs from {HOME.relative_to(REPO)}; copy it: "
        f"cp {HOME.relative_to(REPO)} {COPY.relative_to(REPO)}"
    )


def _literals(pattern: str) -> list[str]:
    hits = []
    for area in CODE:
        for path in (REPO / area).rglob("*.py"):
            if path in (HOME, COPY):
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
