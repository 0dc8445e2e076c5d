"""PostgreSQL's client tools as the backups of gold and of Airflow's metadata call them.

Finding a tool (with the line to show when PostgreSQL's client is missing), and giving one
command a password through a pgpass file of mode 0600 in a private folder that lives only
as long as the command: never on a command line, never in the environment. Standard library
only, like ``backup_names``: ``dags/tripclick_dags/pg_client.py`` is a byte-for-byte copy of
this file (``tests/structure/test_contracts.py`` fails when the two differ).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_tool(name: str) -> str:
    """The path of ``pg_dump``, ``pg_restore``, ...; LookupError naming the fix if missing."""
    path = shutil.which(name)
    if path is None:
        raise LookupError(
            f"{name} is not installed; install PostgreSQL's client (apt-get install -y postgresql-client)"
        )
    return path


def _escape(field: str) -> str:
    return field.replace("\\", "\\\\").replace(":", "\\:")


@contextmanager
def pgpass(
    password: str, host: str = "*", port: str = "*", database: str = "*", user: str = "*"
) -> Iterator[str]:
    """A pgpass file holding one line (``*`` matches any value), removed on leaving."""
    with tempfile.TemporaryDirectory(prefix="tripclick-pg-") as tmp:
        passfile = Path(tmp) / "pgpass"
        fd = os.open(passfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        fields = [f if f == "*" else _escape(f) for f in (host, port, database, user)]
        with os.fdopen(fd, "w") as fh:
            fh.write(":".join([*fields, _escape(password)]) + "\n")
        yield str(passfile)
