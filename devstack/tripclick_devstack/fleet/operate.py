"""`make fleet-day` and `make fleet-gold-dump`: operating the converged fleet from this machine.

Both go in as an operator would: SSH through the jump host, the vault's secrets, nothing
installed on the hosts for the purpose.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from unittest import mock

import yaml

from tripclick_devstack.fleet import day
from tripclick_devstack.fleet.access import Access, vault_secrets
from tripclick_devstack.fleet.engine import FleetError
from tripclick_devstack.fleet.hcl import REPO

POSTGRESQL_DEFAULTS = REPO / "ansible" / "roles" / "postgresql" / "defaults" / "main.yml"
AIRFLOW_DEFAULTS = REPO / "ansible" / "roles" / "airflow" / "defaults" / "main.yml"
SUPERSET_DEFAULTS = REPO / "ansible" / "roles" / "superset" / "defaults" / "main.yml"


def main(fleet, args: argparse.Namespace) -> int:
    from tripclick.contract import canonical_date

    if canonical_date(args.date) is None:
        raise FleetError(f"DATE={args.date!r} is not a date; use YYYY-MM-DD")
    if not (args.vault and args.vault_password_file):
        raise FleetError("give --vault and --vault-password-file (the fleet's own, from fleet.mk)")
    if not fleet.paths.outputs.is_file():
        raise FleetError(
            f"the {fleet.env} fleet is not up; run make fleet-converge ENV={fleet.env}"
        )
    secrets = vault_secrets(
        Path(args.ansible_vault), Path(args.vault), Path(args.vault_password_file)
    )
    access = Access(fleet)
    if args.command == "gold-dump":
        print(gold_dump(access, secrets, args.date))
        return 0
    result = fleet_day(access, secrets, args.date, args.mode, args.time_scale, args.timeout)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["state"] == "success" and result["reconciliation"]["passed"] else 1


def role_default(path: Path, name: str) -> str:
    return str(yaml.safe_load(path.read_text())[name])


def airflow_api(access: Access, secrets: dict[str, str], port: int) -> day.AirflowAPI:
    user = role_default(AIRFLOW_DEFAULTS, "airflow_admin_user")
    return day.AirflowAPI(f"http://127.0.0.1:{port}", user, secrets["vault_airflow_admin_password"])


def fleet_day(
    access: Access, secrets: dict[str, str], date: str, mode: str, time_scale: float, timeout: float
) -> dict:
    api_port = access.fleet.topology.ports["airflow_ui"]
    with access.tunnel(access.address("airflow"), api_port) as port:
        api = airflow_api(access, secrets, port)
        result = day.run(access.fleet, api, date, mode, time_scale, timeout)
    result.setdefault("reconciliation", {"passed": False})
    return result


def gold_dump(access: Access, secrets: dict[str, str], date: str) -> str:
    """The date's marts as `tripclick gold dump` prints them, read on the gold host itself
    (its PostgreSQL answers the reader there on 127.0.0.1, over an SSH forward)."""
    from tripclick import config
    from tripclick_spark import gold_db

    pg_port = int(role_default(POSTGRESQL_DEFAULTS, "postgresql_port"))
    with access.tunnel("127.0.0.1", pg_port, through="gold") as port:
        reader = {
            "TRIPCLICK_PG_HOST": "127.0.0.1",
            "TRIPCLICK_PG_PORT": str(port),
            "TRIPCLICK_PG_DATABASE": role_default(POSTGRESQL_DEFAULTS, "postgresql_database"),
            "TRIPCLICK_PG_USER": role_default(POSTGRESQL_DEFAULTS, "postgresql_reader_user"),
            "TRIPCLICK_PG_PASSWORD": secrets["vault_postgresql_reader_password"],
        }
        # Only for this read: the caller's own settings (a test's local stack) stay as they were.
        with mock.patch.dict(os.environ, reader):
            return gold_db.dumps(gold_db.dump(config.load(), date))
