"""What the inventory tests share: where ansible-inventory lives and how to read its listing."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_INVENTORY = REPO / ".local" / "venvs" / "ansible" / "bin" / "ansible-inventory"
GROUPS = ("web", "kafka", "spark_master", "spark_worker", "airflow", "gold")


def group_hosts(listing: dict) -> dict[str, list[str]]:
    """Hosts of each playbook group in an ``ansible-inventory --list`` listing."""
    return {group: sorted(listing.get(group, {}).get("hosts", [])) for group in GROUPS}
