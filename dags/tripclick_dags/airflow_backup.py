"""Backups of Airflow's metadata database in the lake's ``backups/airflow/`` prefix.

The database is whatever Airflow's ``[database] sql_alchemy_conn`` names: PostgreSQL on the
fleet (the Airflow host's own server, reached over the local socket with peer
authentication: the ``airflow`` OS user is the database's owner, no password), SQLite in
``AIRFLOW_HOME`` locally. PostgreSQL is dumped with ``pg_dump --format=custom``; SQLite is
copied with SQLite's online backup API, which reads a consistent snapshot while the
scheduler writes (a file copy of a live database can catch a half-written page).

Backups are named and kept like gold's (``backup_names``): ``airflow-<UTC time>.dump`` or
``.sqlite``, the newest ``keep`` kept. A restore writes an archive back the same way
(``pg_restore`` in one transaction, or the backup API), and is refused while a scheduler or
an api-server of the same ``AIRFLOW_HOME`` runs: they would keep writing over it.

``python -m tripclick_dags.airflow_backup create|list|restore`` is the command line
(``make backup-airflow`` / ``make restore-airflow``); the maintenance DAG calls
:func:`create` in its task, on the Airflow host, in both runtimes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from tripclick_dags import backup_names, pg_client
from tripclick_dags.contract import AIRFLOW_BACKUPS
from tripclick_dags.settings import Lookup, SettingError, Settings, env_lookup, load

KIND = "airflow"
# The archive's form follows the database it was taken from.
EXTENSIONS = {"postgresql": "dump", "sqlite": "sqlite"}
NAME_RE = backup_names.name_pattern(KIND, EXTENSIONS.values())
DEFAULT_KEEP = backup_names.DEFAULT_KEEP
# The URL Airflow puts in a running task's configuration so task code cannot reach its
# database (airflow.sdk's block_orm_access); the task then reads tripclick_airflow_metadata_url.
BLOCKED_SCHEME = "airflow-db-not-allowed"
# The services that write the database and would write over a restore.
SERVICES = ("scheduler", "api-server", "dag-processor", "triggerer", "standalone")


class BackupError(RuntimeError):
    """A backup or restore cannot go on; the message says why and what to do, in one line."""


@dataclass(frozen=True)
class Metadata:
    """Where Airflow's metadata lives, from its SQLAlchemy URL."""

    backend: str  # a key of EXTENSIONS
    sqlite_path: Path | None = None
    # libpq's PGHOST (a socket folder or a host), PGPORT, PGUSER, PGDATABASE.
    libpq: dict[str, str] = field(default_factory=dict)
    password: str | None = field(default=None, repr=False)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.backend]

    @property
    def label(self) -> str:
        if self.sqlite_path is not None:
            return f"SQLite {self.sqlite_path}"
        return f"PostgreSQL database {self.libpq.get('PGDATABASE', '?')}"


@dataclass(frozen=True)
class BackupResult:
    name: str
    uri: str
    size_bytes: int
    seconds: float
    deleted: tuple[str, ...]


def parse_url(url: str) -> Metadata:
    """The database of a SQLAlchemy URL (``sqlite:///...`` or ``postgresql[+driver]://...``)."""
    scheme, sep, rest = url.partition("://")
    dialect = scheme.split("+", 1)[0]
    if dialect == "sqlite" and sep:
        path = rest.removeprefix("/").split("?", 1)[0]
        if path in ("", ":memory:"):
            raise BackupError(
                "Airflow's metadata is an in-memory SQLite database; nothing to back up"
            )
        return Metadata("sqlite", sqlite_path=Path(unquote(path)).resolve())
    if dialect in ("postgresql", "postgres") and sep:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        libpq = {"PGDATABASE": unquote(parts.path.lstrip("/")) or "airflow"}
        host = (query.get("host") or [parts.hostname or ""])[0]
        if host:
            libpq["PGHOST"] = host
        if parts.port:
            libpq["PGPORT"] = str(parts.port)
        if parts.username:
            libpq["PGUSER"] = unquote(parts.username)
        password = unquote(parts.password) if parts.password else None
        return Metadata("postgresql", libpq=libpq, password=password)
    raise BackupError(
        f"Airflow's metadata database ({scheme or url!r}) is neither SQLite nor PostgreSQL;"
        " only those two are backed up"
    )


def configured_url(lookup: Lookup = env_lookup) -> str:
    """The metadata database's URL: Airflow's own ``[database] sql_alchemy_conn``.

    A task's process gets a placeholder instead (Airflow keeps task code off its database),
    so there the setting ``tripclick_airflow_metadata_url``, which a deployment sets to the
    same URL, stands in for it.
    """
    from airflow.configuration import conf

    url = conf.get("database", "sql_alchemy_conn")
    if not url.startswith(BLOCKED_SCHEME):
        return url
    explicit = (lookup("airflow_metadata_url") or "").strip()
    if not explicit:
        raise BackupError(
            "a task cannot read Airflow's database URL; set tripclick_airflow_metadata_url"
            " (or TRIPCLICK_AIRFLOW_METADATA_URL) to its [database] sql_alchemy_conn"
        )
    return explicit


# ---------------------------------------------------------------- the two databases


def _tool(name: str) -> str:
    try:
        return pg_client.find_tool(name)
    except LookupError as err:
        raise BackupError(str(err)) from None


@contextmanager
def _libpq_env(meta: Metadata) -> Iterator[dict[str, str]]:
    """libpq's environment; a password, when the URL has one, in a pgpass file for one command.

    The fleet's URL has none: peer authentication over the socket.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(meta.libpq, PGCONNECT_TIMEOUT="10")
    if meta.password is None:
        yield env
        return
    with pg_client.pgpass(meta.password) as passfile:
        yield {**env, "PGPASSFILE": passfile}


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    """Run a client tool in a process group of its own, so a task timeout also ends it."""
    proc = subprocess.Popen(
        argv,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate()
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    if proc.returncode != 0:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        raise BackupError(f"{what} failed: {lines[0] if lines else f'exit code {proc.returncode}'}")
    return out


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy a SQLite database with the online backup API (the source opened read-only)."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _dump(meta: Metadata, archive: Path) -> None:
    if meta.sqlite_path is not None:
        if not meta.sqlite_path.is_file():
            raise BackupError(f"{meta.label} does not exist; create it first (make airflow-setup)")
        _sqlite_copy(meta.sqlite_path, archive)
        return
    with _libpq_env(meta) as env:
        argv = [_tool("pg_dump"), "--format=custom", "--no-password", "--file", str(archive)]
        _run(argv, env, f"pg_dump of {meta.label}")


def _check_archive(meta: Metadata, archive: Path, name: str) -> None:
    """Refuse an archive that is not a backup of an Airflow database before touching it."""
    if meta.sqlite_path is not None:
        try:
            conn = sqlite3.connect(f"{archive.resolve().as_uri()}?mode=ro", uri=True)
            try:
                tables = {r[0] for r in conn.execute("select name from sqlite_master")}
            finally:
                conn.close()
        except sqlite3.DatabaseError:
            tables = set()
    else:
        listing = _run([_tool("pg_restore"), "--list", str(archive)], dict(os.environ), name)
        tables = set(re.findall(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", listing, flags=re.M))
    if not {"dag_run", "alembic_version"} <= tables:
        raise BackupError(f"{name} holds no Airflow metadata (no dag_run table); pick another")


def _load(meta: Metadata, archive: Path, name: str) -> None:
    if meta.sqlite_path is not None:
        _sqlite_copy(archive, meta.sqlite_path)
        return
    argv = [
        _tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
        "--dbname",
        meta.libpq["PGDATABASE"],
        str(archive),
    ]
    with _libpq_env(meta) as env:
        _run(argv, env, f"pg_restore of {name}")


# ---------------------------------------------------------------- where backups live


class _Store:
    """The ``backups/airflow/`` prefix of the lake: a local folder, or S3 through the
    amazon provider's connection (the instance profile on AWS, moto locally)."""

    def __init__(self, settings: Settings) -> None:
        root = settings.lake_root.rstrip("/")
        self.uri = f"{root}/{AIRFLOW_BACKUPS}"
        parsed = urlsplit(root)
        self.s3 = parsed.scheme in ("s3", "s3a")
        self.aws_conn_id = settings.aws_conn_id
        self._client = None
        if self.s3:
            self.bucket = parsed.netloc
            key = parsed.path.strip("/")
            self.prefix = f"{key}/{AIRFLOW_BACKUPS}/" if key else f"{AIRFLOW_BACKUPS}/"
        else:
            self.folder = Path(root) / AIRFLOW_BACKUPS

    @contextmanager
    def _s3(self):
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if self._client is None:
                self._client = S3Hook(aws_conn_id=self.aws_conn_id).get_conn()
            yield self._client
        except (BotoCoreError, ClientError) as err:
            raise BackupError(f"the lake at {self.uri} cannot be used: {err}") from None

    def names(self) -> list[str]:
        """Backup names, oldest first."""
        if self.s3:
            with self._s3() as s3:
                pages = s3.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=self.prefix
                )
                found = [o["Key"].rsplit("/", 1)[-1] for p in pages for o in p.get("Contents", [])]
        else:
            found = [p.name for p in self.folder.iterdir()] if self.folder.is_dir() else []
        return sorted(n for n in found if NAME_RE.match(n))

    def put(self, local: Path, name: str) -> None:
        if self.s3:
            with self._s3() as s3:
                s3.upload_file(str(local), self.bucket, self.prefix + name)
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, self.folder / name)

    def get(self, name: str, local: Path) -> None:
        if self.s3:
            with self._s3() as s3:
                s3.download_file(self.bucket, self.prefix + name, str(local))
        else:
            shutil.copyfile(self.folder / name, local)

    def delete(self, name: str) -> None:
        if self.s3:
            with self._s3() as s3:
                s3.delete_object(Bucket=self.bucket, Key=self.prefix + name)
        else:
            (self.folder / name).unlink(missing_ok=True)


# ---------------------------------------------------------------- who is writing


def _service(argv: list[str]) -> str | None:
    """The Airflow service a command line runs (``airflow scheduler``...), if any."""
    for i, token in enumerate(argv[:-1]):
        if Path(token).name == "airflow" and argv[i + 1] in SERVICES:
            return argv[i + 1]
    return None


def _home_of(proc: Path, environ: dict[str, str]) -> Path:
    home = Path(environ.get("AIRFLOW_HOME") or Path(environ.get("HOME", "/")) / "airflow")
    if not home.is_absolute():
        home = Path(os.readlink(proc / "cwd")) / home
    return home.resolve()


def running_services(home: Path) -> list[str]:
    """``<service> (pid N)`` for each Airflow service running with ``AIRFLOW_HOME`` = home."""
    home = home.resolve()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:  # ended while we looked
            continue
        # A service that set its process title has one string of words instead of argv.
        service = _service(argv.replace("\0", " ").split())
        if service is None:
            continue
        try:
            raw = (proc / "environ").read_bytes().decode(errors="replace")
        except OSError:  # another user's process: its home is unknown, so it may be ours
            found.append(f"{service} (pid {proc.name}, AIRFLOW_HOME unreadable)")
            continue
        environ = dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)
        if _home_of(proc, environ) == home:
            found.append(f"{service} (pid {proc.name})")
    return found


def airflow_home() -> Path:
    return Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow").resolve()


# ---------------------------------------------------------------- backup, list, restore


def create(settings: Settings, keep: int, url: str, now: dt.datetime | None = None) -> BackupResult:
    """Back the database of ``url`` up into the lake, then delete backups beyond ``keep``."""
    if keep < 1:
        raise BackupError(f"--keep {keep}: keep at least 1 backup")
    meta = parse_url(url)
    store = _Store(settings)
    name = backup_names.backup_name(KIND, now or dt.datetime.now(dt.UTC), meta.extension)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tripclick-airflow-backup-") as tmp:
        archive = Path(tmp) / name
        _dump(meta, archive)
        size = archive.stat().st_size
        store.put(archive, name)
    deleted = backup_names.to_delete(store.names(), keep)
    for old in deleted:
        store.delete(old)
    return BackupResult(
        name, f"{store.uri}/{name}", size, time.monotonic() - started, tuple(deleted)
    )


def names(settings: Settings) -> list[str]:
    return _Store(settings).names()


def restore(settings: Settings, url: str, home: Path, name: str | None = None) -> str:
    """Write backup ``name`` (the newest of the database's kind when None) over the database."""
    meta = parse_url(url)
    running = running_services(home)
    if running:
        raise BackupError(
            f"Airflow still runs on {home}: {', '.join(running)}; stop its scheduler and"
            " api-server, then restore"
        )
    store = _Store(settings)
    available = store.names()
    matching = [n for n in available if n.endswith(f".{meta.extension}")]
    if name is None:
        if not matching:
            raise BackupError(
                f"no {meta.backend} backup in {store.uri}; run make backup-airflow first"
            )
        name = matching[-1]
    elif name not in available:
        raise BackupError(f"backup {name!r} is not in {store.uri}; list shows them")
    elif name not in matching:
        raise BackupError(f"{name} is not a {meta.backend} backup; {meta.label} needs one")
    with tempfile.TemporaryDirectory(prefix="tripclick-airflow-restore-") as tmp:
        archive = Path(tmp) / name
        store.get(name, archive)
        _check_archive(meta, archive, name)
        _load(meta, archive, name)
    return name


# ---------------------------------------------------------------- command line


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} must be a whole number of 1 or more")
    return int(value)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airflow-backup",
        description=f"Airflow's metadata database in <lake>/{AIRFLOW_BACKUPS}/",
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("create", help="back the metadata database up, keep the newest --keep")
    p.add_argument("--keep", type=_positive, default=DEFAULT_KEEP, metavar="N")
    sub.add_parser("list", help="the backups, oldest first")
    p = sub.add_parser("restore", help="write a backup over the metadata database")
    p.add_argument("--name", metavar="airflow-YYYYMMDDTHHMMSSZ.sqlite|.dump")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # Airflow, imported below, logs each connection it reads; the output here is the result.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    try:
        settings = load(env_lookup)
        if args.action == "create":
            result = create(settings, args.keep, configured_url())
            print(f"backup {result.uri}: {result.size_bytes} bytes in {result.seconds:.1f} s")
            for old in result.deleted:
                print(f"deleted {old} (beyond the newest {args.keep})")
        elif args.action == "list":
            for name in names(settings):
                print(name)
        else:
            name = restore(settings, configured_url(), airflow_home(), args.name)
            print(
                f"restored Airflow's metadata from {name}; before starting Airflow, run"
                " airflow db migrate (a no-op when the backup is of this Airflow version)"
            )
    except (BackupError, SettingError, ValueError) as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
