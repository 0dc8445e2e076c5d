"""Backups of the gold database: ``pg_dump`` archives in the lake's ``backups/gold/`` prefix.

A backup is one custom-format archive of the ``gold``, ``gold_stage`` and ``serving``
schemas, named by its UTC time so names sort by age; the newest ``keep`` are kept. A restore
replaces the schemas with an archive's in one ``pg_restore`` transaction; the schemas it
replaces are renamed aside first and renamed back if the restore fails, so a bad archive
leaves gold as it was. Why a logical dump is enough here (and pgBackRest is not needed):
docs/runbook.md "Backups".

The password reaches pg_dump and pg_restore through a pgpass file of mode 0600 that lives
for one command, never on a command line or in the environment.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tripclick import backup_names, pg_client
from tripclick.config import Settings
from tripclick.contract import BACKUPS
from tripclick.errors import UserError
from tripclick_spark import gold_db

# serving's views read gold's tables (migration V009): a restore that replaced gold alone
# would leave them on the tables set aside, and dropping those drops the views.
SCHEMAS = ("gold", "gold_stage", "serving")
# Where a schema waits while a restore runs; dropped when the restore succeeds.
ASIDE_SUFFIX = "_before_restore"
KIND = "gold"
NAME_RE = backup_names.name_pattern(KIND, ("dump",))
DEFAULT_KEEP = backup_names.DEFAULT_KEEP


@dataclass(frozen=True)
class BackupResult:
    name: str
    uri: str
    size_bytes: int
    seconds: float
    deleted: tuple[str, ...]


def _tool(name: str) -> str:
    try:
        return pg_client.find_tool(name)
    except LookupError as err:
        raise UserError(str(err)) from None


@contextmanager
def _libpq_env(settings: Settings) -> Iterator[dict[str, str]]:
    """libpq's environment for the gold database, the password in a throwaway pgpass file."""
    fields = (settings.pg_host, str(settings.pg_port), settings.pg_database, settings.pg_user)
    with pg_client.pgpass(settings.pg_password, *fields) as passfile:
        env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
        env.update(
            PGHOST=settings.pg_host,
            PGPORT=str(settings.pg_port),
            PGDATABASE=settings.pg_database,
            PGUSER=settings.pg_user,
            PGPASSFILE=passfile,
            PGCONNECT_TIMEOUT="10",
        )
        yield env


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    run = subprocess.run(argv, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        lines = [line for line in run.stderr.strip().splitlines() if line.strip()]
        raise UserError(f"{what} failed: {lines[0] if lines else f'exit code {run.returncode}'}")


# ---------------------------------------------------------------- where backups live


class _Store:
    """The ``backups/gold/`` prefix of the lake: a local folder or an S3 bucket."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        root = settings.lake_root.rstrip("/")
        self.uri = f"{root}/{BACKUPS}"
        self.s3 = settings.lake_is_s3
        if self.s3:
            bucket, _, key = root.removeprefix("s3a://").partition("/")
            self.bucket = bucket
            self.prefix = f"{key}/{BACKUPS}/" if key else f"{BACKUPS}/"
        else:
            self.folder = Path(root) / BACKUPS

    def _client(self):
        import boto3

        if self.settings.runtime == "local":
            # moto accepts any credentials; these never reach AWS.
            return boto3.client(
                "s3",
                endpoint_url=self.settings.s3_endpoint,
                region_name="us-east-1",
                aws_access_key_id="local",
                aws_secret_access_key="local",
            )
        return boto3.client("s3")  # the instance profile; AWS_ENDPOINT_URL where one is set

    def names(self) -> list[str]:
        """Backup names, oldest first."""
        if self.s3:
            pages = (
                self._client()
                .get_paginator("list_objects_v2")
                .paginate(Bucket=self.bucket, Prefix=self.prefix)
            )
            found = [o["Key"].rsplit("/", 1)[-1] for p in pages for o in p.get("Contents", [])]
        else:
            found = (
                [p.name for p in self.folder.glob("gold-*.dump")] if self.folder.is_dir() else []
            )
        return sorted(n for n in found if NAME_RE.match(n))

    def put(self, local: Path, name: str) -> None:
        if self.s3:
            self._client().upload_file(str(local), self.bucket, self.prefix + name)
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, self.folder / name)

    def get(self, name: str, local: Path) -> None:
        if self.s3:
            self._client().download_file(self.bucket, self.prefix + name, str(local))
        else:
            shutil.copyfile(self.folder / name, local)

    def delete(self, name: str) -> None:
        if self.s3:
            self._client().delete_object(Bucket=self.bucket, Key=self.prefix + name)
        else:
            (self.folder / name).unlink(missing_ok=True)


# ---------------------------------------------------------------- backup, list, restore


def backup_name(now: dt.datetime) -> str:
    return backup_names.backup_name(KIND, now, "dump")


def to_delete(names: list[str], keep: int) -> list[str]:
    """The backups beyond the newest ``keep`` (pure; ``names`` in any order)."""
    try:
        return backup_names.to_delete(names, keep)
    except ValueError as err:
        raise UserError(str(err)) from None


def create(settings: Settings, keep: int = DEFAULT_KEEP) -> BackupResult:
    """Dump gold into the lake, then delete the backups beyond the newest ``keep``."""
    if keep < 1:
        raise UserError(f"--keep {keep}: keep at least 1 backup")
    store = _Store(settings)
    name = backup_name(dt.datetime.now(dt.UTC))
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="tripclick-backup-") as tmp,
        _libpq_env(settings) as env,
    ):
        archive = Path(tmp) / name
        argv = [_tool("pg_dump"), "--format=custom", "--file", str(archive)]
        for schema in SCHEMAS:
            argv += ["--schema", schema]
        _run(argv, env, "pg_dump of the gold schemas")
        store.put(archive, name)
        size = archive.stat().st_size
    deleted = to_delete(store.names(), keep)
    for old in deleted:
        store.delete(old)
    return BackupResult(
        name, f"{store.uri}/{name}", size, time.monotonic() - started, tuple(deleted)
    )


def names(settings: Settings) -> list[str]:
    return _Store(settings).names()


def restore(settings: Settings, name: str | None = None) -> str:
    """Replace the gold schemas with backup ``name`` (the newest when None); return its name."""
    store = _Store(settings)
    available = store.names()
    if not available:
        raise UserError(f"no backup in {store.uri}; run tripclick backup create first")
    name = name or available[-1]
    if name not in available:
        raise UserError(f"backup {name!r} is not in {store.uri}; tripclick backup list shows them")
    with (
        tempfile.TemporaryDirectory(prefix="tripclick-restore-") as tmp,
        _libpq_env(settings) as env,
    ):
        archive = Path(tmp) / name
        store.get(name, archive)
        archived = _archived_schemas(archive, env)
        # An archive made before the serving layer has no serving schema: it goes too (its
        # views would go with the gold set aside), and the restored gold's migrations table,
        # which predates it, has the next migrate create it again.
        moved = _set_aside(settings, [s for s in SCHEMAS if s in archived or s == "serving"])
        try:
            argv = [_tool("pg_restore"), "--single-transaction", "--exit-on-error"]
            _run(
                [*argv, "--dbname", settings.pg_database, str(archive)],
                env,
                f"pg_restore of {name}",
            )
        except UserError:
            _put_back(settings, moved)
            raise
    _drop_aside(settings, moved)
    return name


def _exists(cur, schema: str) -> bool:
    cur.execute("select 1 from pg_namespace where nspname = %s", (schema,))
    return cur.fetchone() is not None


def _archived_schemas(archive: Path, env: dict[str, str]) -> list[str]:
    """The schemas an archive holds, from its table of contents (``pg_restore --list``)."""
    run = subprocess.run(
        [_tool("pg_restore"), "--list", str(archive)], env=env, capture_output=True, text=True
    )
    if run.returncode != 0:
        raise UserError(f"{archive.name} is not a pg_dump archive: {run.stderr.strip()[:200]}")
    found = set(re.findall(r"^\d+; \d+ \d+ SCHEMA - (\S+) ", run.stdout, flags=re.M))
    if "gold" not in found:
        raise UserError(f"{archive.name} holds no gold schema; it is not a gold backup")
    return [s for s in SCHEMAS if s in found]


def _set_aside(settings: Settings, schemas: list[str]) -> list[str]:
    """Rename the schemas a restore replaces; return those that existed."""
    moved = []
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        for schema in schemas:
            if _exists(cur, schema + ASIDE_SUFFIX):  # left by a restore that was killed
                cur.execute(f"drop schema {schema}{ASIDE_SUFFIX} cascade")
            if _exists(cur, schema):
                cur.execute(f"alter schema {schema} rename to {schema}{ASIDE_SUFFIX}")
                moved.append(schema)
    return moved


def _put_back(settings: Settings, moved: list[str]) -> None:
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        for schema in moved:
            cur.execute(f"drop schema if exists {schema} cascade")
            cur.execute(f"alter schema {schema}{ASIDE_SUFFIX} rename to {schema}")


def _drop_aside(settings: Settings, moved: list[str]) -> None:
    with gold_db.connect(settings) as conn, conn, conn.cursor() as cur:
        for schema in moved:
            cur.execute(f"drop schema if exists {schema}{ASIDE_SUFFIX} cascade")
