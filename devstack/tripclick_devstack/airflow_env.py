"""The environment of Airflow on the ``local`` runtime, printed as shell exports.

Run with the project's main environment (it reads ``tripclick.config``):

    eval "$(.venv/bin/python -m tripclick_devstack.airflow_env)"

Airflow's home is ``<TRIPCLICK_HOME>/airflow`` (SQLite metadata, logs); its Fernet key
and API secrets are generated once into ``<TRIPCLICK_HOME>/secrets/`` (mode 0600) and
never have defaults.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import sys

from tripclick import config
from tripclick.contract import REPO_ROOT, read_or_create_secret, secret_path

DAGS_DIR = REPO_ROOT / "dags"


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def environment(settings: config.Settings) -> dict[str, str]:
    home = settings.home / "airflow"

    def secret(name: str, **how) -> str:
        return read_or_create_secret(secret_path(settings.home, name), **how)

    metadata_url = f"sqlite:///{home / 'airflow.db'}"
    lake_conn = {
        "conn_type": "aws",
        # moto accepts any key; these never reach AWS.
        "login": "local",
        "password": "local",
        "extra": {"endpoint_url": settings.s3_endpoint, "region_name": "us-east-1"},
    }
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": settings.timezone,
        "AIRFLOW__CORE__FERNET_KEY": secret("airflow_fernet_key", make=_fernet_key),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        # The same database for the backup_airflow task, whose process Airflow keeps off it.
        "TRIPCLICK_AIRFLOW_METADATA_URL": metadata_url,
        "AIRFLOW__API_AUTH__JWT_SECRET": secret("airflow_jwt_secret", nbytes=32),
        "AIRFLOW__API__SECRET_KEY": secret("airflow_api_secret_key", nbytes=32),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps(lake_conn),
        "TRIPCLICK_HOME": str(settings.home),
    }


def main() -> int:
    settings = config.load()
    (settings.home / "airflow").mkdir(parents=True, exist_ok=True)
    for key, value in environment(settings).items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
