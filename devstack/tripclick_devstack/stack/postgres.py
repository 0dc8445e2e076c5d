"""PostgreSQL from Debian's packages, run from a data dir the project owns.

No system service is used: ``initdb`` makes a cluster under the state dir on first
start and ``pg_ctl`` runs it on 127.0.0.1 only, with SCRAM passwords generated per
checkout. PostgreSQL refuses to run as root, so as root the server runs as the
``postgres`` user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tripclick.config import Settings
from tripclick.contract import read_or_create_secret, secret_path
from tripclick.errors import UserError
from tripclick_devstack.stack import process
from tripclick_devstack.stack.service import Service

ADMIN_USER = "tripclick_admin"


def bin_dir() -> Path:
    """The newest PostgreSQL server binaries installed from Debian's packages."""
    explicit = os.environ.get("TRIPCLICK_PG_BIN")
    if explicit:
        return Path(explicit)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_major)
    if not found:
        raise UserError(
            "postgres: PostgreSQL server is not installed; run make setup "
            "(or apt-get install -y postgresql)"
        )
    return Path(found[-1]).parent


def _major(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


class Postgres(Service):
    name = "postgres"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.port = settings.pg_port
        self.dir = settings.run_dir / "postgres"
        self.data_dir = self.dir / "data"

    @property
    def admin_password(self) -> str:
        return read_or_create_secret(secret_path(self.settings.home, "pg_admin_password"))

    def _run_as(self) -> str | None:
        """The OS user the server runs as: ourselves, or ``postgres`` when we are root."""
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise UserError(
                "postgres: running as root needs the 'postgres' OS user; "
                "install Debian's postgresql package (make setup)"
            ) from None
        return "postgres"

    def _chown(self, path: Path) -> None:
        user = self._run_as()
        if user:
            shutil.chown(path, user, user)

    def _initdb(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.dir)
        pwfile = self.dir / ".initdb-pw"
        pwfile.write_text(self.admin_password + "\n")
        pwfile.chmod(0o600)
        self._chown(pwfile)
        log = self.settings.log_dir / "postgres-initdb.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        argv = [
            str(bin_dir() / "initdb"),
            "-D", str(self.data_dir),
            "-U", ADMIN_USER,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]  # fmt: skip
        user = self._run_as()
        kwargs = {"user": user, "group": user, "extra_groups": []} if user else {}
        try:
            with open(log, "ab") as out:
                rc = subprocess.call(argv, stdout=out, stderr=subprocess.STDOUT, **kwargs)
        finally:
            pwfile.unlink(missing_ok=True)
        if rc != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise UserError(
                f"postgres: initdb failed (is {self.dir} reachable by the server's user?); see {log}"
            )
        # Only loopback TCP with passwords; no Unix socket, so nothing else can reach it.
        (self.data_dir / "pg_hba.conf").write_text(
            "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
            "host    all       all   127.0.0.1/32  scram-sha-256\n"
        )

    def start(self) -> None:
        self._initdb()
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        options = [
            "-c", "listen_addresses=127.0.0.1",
            "-c", f"port={self.port}",
            "-c", "unix_socket_directories=",
            "-c", "shared_buffers=128MB",
            "-c", "max_connections=100",
        ]  # fmt: skip
        # The server writes its own log; pg_ctl's log file must be writable by its user.
        server_log = self.dir / "server.log"
        proc = process.spawn(
            self.name,
            [str(bin_dir() / "postgres"), "-D", str(self.data_dir), *options],
            server_log,
            self.pid_file,
            user=self._run_as(),
        )
        self.started_in = process.wait_healthy(
            self.name, self._admin_ping, server_log, proc, timeout=60
        )
        self._link_log(server_log)
        self._ensure_database()

    def _link_log(self, server_log: Path) -> None:
        link = self.log_file
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(server_log)

    def _connect_admin(self, dbname: str = "postgres"):
        import psycopg2

        return psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            dbname=dbname,
            user=ADMIN_USER,
            password=self.admin_password,
            connect_timeout=3,
        )

    def _admin_ping(self) -> bool:
        with self._connect_admin() as conn, conn.cursor() as cur:
            cur.execute("select 1")
            return cur.fetchone() == (1,)

    def _ensure_database(self) -> None:
        """The application role, the ``tripclick`` database and its ``gold`` schema."""
        s = self.settings
        conn = self._connect_admin()
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("select 1 from pg_roles where rolname = %s", (s.pg_user,))
                verb = "alter" if cur.fetchone() else "create"
                cur.execute(f'{verb} role "{s.pg_user}" with login password %s', (s.pg_password,))
                cur.execute("select 1 from pg_database where datname = %s", (s.pg_database,))
                if not cur.fetchone():
                    cur.execute(f'create database "{s.pg_database}" owner "{s.pg_user}"')
        finally:
            conn.close()
        conn = self._connect_admin(s.pg_database)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(f'create schema if not exists gold authorization "{s.pg_user}"')
        finally:
            conn.close()

    def healthy(self) -> bool:
        import psycopg2

        s = self.settings
        with psycopg2.connect(**s.pg_params, connect_timeout=3) as conn, conn.cursor() as cur:
            cur.execute("select 1")
            return cur.fetchone() == (1,)

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            return process.stop_pid(self.pid_file)
        # SIGINT is PostgreSQL's "fast shutdown": roll back, checkpoint, exit.
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.2)
        process.stop_pid(self.pid_file)  # escalates if fast shutdown did not finish
        return True
