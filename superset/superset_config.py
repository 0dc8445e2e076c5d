"""Superset's configuration for the TripClick platform (``SUPERSET_CONFIG_PATH`` points here).

Superset imports this file inside its own virtualenv, so it reads plain environment
variables that ``tripclick_devstack.dashboards.server`` sets from the platform's configuration:

- ``TRIPCLICK_SUPERSET_STATE``: folder of the SQLite metadata database;
- ``TRIPCLICK_SUPERSET_SECRET_KEY_FILE``: the generated secret key (mode 0600).
"""

import os
from pathlib import Path

_state = Path(os.environ["TRIPCLICK_SUPERSET_STATE"])
SECRET_KEY = Path(os.environ["TRIPCLICK_SUPERSET_SECRET_KEY_FILE"]).read_text().strip()

# SQLite is enough for one local Superset; the fleet keeps it next to the gold database.
SQLALCHEMY_DATABASE_URI = f"sqlite:///{_state / 'superset.db'}?check_same_thread=false"
DATA_DIR = str(_state)

SHOW_STACKTRACE = False

FEATURE_FLAGS = {
    "DASHBOARD_NATIVE_FILTERS": True,
    "ALERT_REPORTS": False,
}
