"""Superset on 127.0.0.1: its metadata, its admin, the dashboard import and the web server.

Superset runs from its own virtualenv (``make`` builds ``.local/venvs/superset``) with
``superset/superset_config.py``; its metadata is a SQLite file under the state dir and
its secret key and admin password are generated once into ``<home>/secrets/`` (0600).
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

from tripclick.config import Settings
from tripclick.contract import REPO_ROOT, read_or_create_secret, secret_path
from tripclick.errors import UserError
from tripclick_devstack.dashboards import bundle
from tripclick_devstack.stack import process
from tripclick_devstack.stack.service import Service

VENV = REPO_ROOT / ".local" / "venvs" / "superset"
CONFIG_FILE = REPO_ROOT / "superset" / "superset_config.py"
ADMIN_USER = "admin"
DASHBOARD_SLUG = "tripclick-daily"
# Bumped when the metadata set-up steps change, so `init` runs them again.
INIT_STAMP = "superset-6.1.0-v1"


class Superset(Service):
    name = "superset"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.port = settings.superset_port
        self.state_dir = settings.run_dir / "superset"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dashboard_url(self) -> str:
        return f"{self.url}/superset/dashboard/{DASHBOARD_SLUG}/"

    @property
    def secret_key_file(self) -> Path:
        return secret_path(self.settings.home, "superset_secret_key")

    @property
    def admin_password(self) -> str:
        return read_or_create_secret(secret_path(self.settings.home, "superset_admin_password"))

    def env(self) -> dict[str, str]:
        read_or_create_secret(self.secret_key_file, nbytes=42)
        return {
            "SUPERSET_CONFIG_PATH": str(CONFIG_FILE),
            "SUPERSET_HOME": str(self.state_dir),
            "TRIPCLICK_SUPERSET_STATE": str(self.state_dir),
            "TRIPCLICK_SUPERSET_SECRET_KEY_FILE": str(self.secret_key_file),
            "FLASK_APP": "superset.app:create_app()",
            "PYTHONUNBUFFERED": "1",
        }

    def _bin(self, name: str) -> str:
        path = VENV / "bin" / name
        if not path.exists():
            raise UserError(f"superset: {path} is missing; run make dashboards (builds its venv)")
        return str(path)

    def cli(self, *args: str, timeout: float = 600, password: str | None = None) -> str:
        """Run ``superset ARGS``; output goes to the log, a failure names it.

        ``password`` goes to the command's password prompt on stdin (twice: it asks for a
        confirmation), never onto its command line, where ``ps`` shows it to every user.
        """
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            done = subprocess.run(
                [self._bin("superset"), *args],
                env={**os.environ, **self.env()},
                capture_output=True,
                text=True,
                timeout=timeout,
                input="" if password is None else f"{password}\n{password}\n",
            )
        except subprocess.TimeoutExpired:
            raise UserError(f"superset {args[0]} did not finish within {timeout:.0f}s") from None
        with open(self.log_file, "a") as log:
            log.write(f"$ superset {' '.join(args)}\n")
            log.write(done.stdout + done.stderr)
        if done.returncode != 0:
            raise UserError(
                f"superset {args[0]} failed (exit {done.returncode}); see {self.log_file}"
            )
        return done.stdout + done.stderr

    def init(self) -> bool:
        """Create or upgrade the metadata database, the admin user and the roles.

        Returns False when it was already done for this Superset version.
        """
        stamp = self.state_dir / ".initialized"
        if stamp.exists() and stamp.read_text().strip() == INIT_STAMP:
            return False
        self.cli("db", "upgrade")
        out = self.cli(
            "fab", "create-admin",
            "--username", ADMIN_USER, "--firstname", "TripClick", "--lastname", "Admin",
            "--email", "admin@localhost", password=self.admin_password,
        )  # fmt: skip
        if "already exists" in out:
            self.cli("fab", "reset-password", "--username", ADMIN_USER,
                     password=self.admin_password)  # fmt: skip
        self.cli("init")
        stamp.write_text(INIT_STAMP + "\n")
        return True

    def import_dashboards(self, bundle_dir: Path = bundle.BUNDLE_DIR) -> None:
        """Import the bundle (idempotent: objects are matched by UUID, never duplicated)."""
        self.init()
        archive = self.state_dir / "import" / "tripclick_dashboards.zip"
        bundle.write_zip(archive, bundle.sqlalchemy_uri(self.settings), bundle_dir)
        try:
            self.cli("import-dashboards", "--path", str(archive), "--username", ADMIN_USER)
        finally:
            archive.unlink(missing_ok=True)

    def healthy(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
            return resp.status == 200

    def start(self) -> None:
        started = time.monotonic()
        self.init()
        proc = process.spawn(
            self.name,
            [
                self._bin("gunicorn"),
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", "1", "--threads", "8", "--worker-class", "gthread",
                "--timeout", "120", "--limit-request-line", "0",
                "--limit-request-field_size", "0",
                "superset.app:create_app()",
            ],
            self.log_file,
            self.pid_file,
            env=self.env(),
        )  # fmt: skip
        process.wait_healthy(self.name, self.healthy, self.log_file, proc, timeout=180)
        self.started_in = time.monotonic() - started
