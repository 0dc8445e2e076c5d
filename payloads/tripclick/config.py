"""Configuration shared by the producers, the Spark jobs, the DAGs and the local stack.

Everything comes from environment variables prefixed ``TRIPCLICK_`` with defaults that
fit the ``local`` runtime; the ``aws`` runtime sets the same variables from Terraform
outputs (see ``ansible/roles/airflow``). Code reads settings from here and nowhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tripclick import contract
from tripclick.contract import REPO_ROOT, RUNTIMES, TOPIC, read_or_create_secret
from tripclick.errors import UserError

__all__ = [
    "MAX_LINE_BYTES",
    "REPO_ROOT",
    "RUNTIMES",
    "TOPIC",
    "Settings",
    "load",
    "read_or_create_secret",
]

# The longest input line the producers send (TRIPCLICK_MAX_LINE_BYTES). Below Kafka's
# 1,000,000-byte message limit with room for the fields a value adds; a TripClick line
# is about 1 KB, so anything near it is a broken file.
MAX_LINE_BYTES = 512 * 1024


def _env(name: str, default: str) -> str:
    return os.environ.get(f"TRIPCLICK_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError:
        raise UserError(f"TRIPCLICK_{name}={raw!r} is not an integer; set it to a number") from None


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with :func:`load`."""

    runtime: str
    home: Path
    timezone: str
    topic: str
    topic_partitions: int
    kafka_bootstrap: str
    kafka_port: int
    kafka_controller_port: int
    kafka_heap: str
    s3_port: int
    s3_endpoint: str
    s3_bucket: str
    pg_host: str
    pg_port: int
    pg_database: str
    pg_user: str
    lake_root: str
    jars_dir: Path
    superset_port: int = 18088
    airflow_port: int = 18080
    # PLAINTEXT or SSL (tripclick.kafka_security turns these into each client's options).
    kafka_security_protocol: str = "PLAINTEXT"
    # PEM file of the CA that signed the brokers' certificates (SSL only).
    kafka_ssl_ca: str = ""
    # PEM file with this client's certificate and its PKCS#8 key: who it is to the brokers,
    # which ask every client for a certificate and hold its name to the ACLs (SSL only).
    kafka_ssl_keystore: str = ""
    # Lines longer than this are rejected as too_large (see MAX_LINE_BYTES).
    max_line_bytes: int = MAX_LINE_BYTES
    # How long a stage waits for another run of the same stage and date before failing.
    stage_lock_wait_seconds: int = 60
    # host:port of the Pushgateway the stages push their figures to; empty: none pushed.
    pushgateway: str = ""
    # The most dates one `tripclick backfill` takes: a longer range is refused up front.
    backfill_max_days: int = 31
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        """Service data and logs of the local stack."""
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def pg_password(self) -> str:
        """The gold database password: from the environment, else generated once per checkout."""
        explicit = os.environ.get("TRIPCLICK_PG_PASSWORD")
        if explicit:
            return explicit
        return read_or_create_secret(contract.secret_path(self.home, "pg_password"))

    @property
    def pg_params(self) -> dict[str, str | int]:
        """libpq's keywords for the gold database, for ``psycopg2.connect(**pg_params)``.

        Keywords, not a DSN string: a password with a space or a quote needs no escaping.
        TLS (``PGSSLMODE``, ``PGSSLROOTCERT``) comes from libpq's environment, which the
        cluster sets to ``verify-full`` against the platform CA.
        """
        return {
            "host": self.pg_host,
            "port": self.pg_port,
            "dbname": self.pg_database,
            "user": self.pg_user,
            "password": self.pg_password,
        }

    @property
    def pg_jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.pg_host}:{self.pg_port}/{self.pg_database}"

    @property
    def lake_is_s3(self) -> bool:
        return self.lake_root.startswith("s3a://")


def load() -> Settings:
    """Read the settings from the environment.

    ``TRIPCLICK_PORT_OFFSET`` shifts every local port at once, so two checkouts (or two
    test runs) can keep stacks side by side on one machine.
    """
    runtime = _env("RUNTIME", contract.DEFAULT_RUNTIME)
    if runtime not in RUNTIMES:
        raise UserError(
            f"TRIPCLICK_RUNTIME={runtime!r} is unknown; use one of {', '.join(RUNTIMES)}"
        )
    home = contract.default_home().resolve()
    offset = _env_int("PORT_OFFSET", 0)
    kafka_port = _env_int("KAFKA_PORT", 19092 + offset)
    s3_port = _env_int("S3_PORT", 15000 + offset)
    pg_port = _env_int("PG_PORT", 15432 + offset)
    s3_endpoint = _env("S3_ENDPOINT", f"http://127.0.0.1:{s3_port}")
    s3_bucket = _env("S3_BUCKET", "tripclick-lake")
    # The cluster Ansible installs listens on TLS only; the local broker on plain text.
    kafka_protocol = _env("KAFKA_SECURITY_PROTOCOL", "SSL" if runtime == "aws" else "PLAINTEXT")
    if kafka_protocol.upper() not in ("PLAINTEXT", "SSL"):
        raise UserError(
            f"TRIPCLICK_KAFKA_SECURITY_PROTOCOL={kafka_protocol!r} is unknown; use PLAINTEXT or SSL"
        )
    max_line_bytes = _env_int("MAX_LINE_BYTES", MAX_LINE_BYTES)
    if max_line_bytes < 1024:
        raise UserError(
            f"TRIPCLICK_MAX_LINE_BYTES={max_line_bytes} is too small for a log line; "
            f"set at least 1024 (default {MAX_LINE_BYTES})"
        )
    lock_wait = _env_int("STAGE_LOCK_WAIT_SECONDS", 60)
    if lock_wait < 0:
        raise UserError(
            f"TRIPCLICK_STAGE_LOCK_WAIT_SECONDS={lock_wait} is negative; set 0 (fail at once) or more"
        )
    backfill_max_days = _env_int("BACKFILL_MAX_DAYS", 31)
    if backfill_max_days < 1:
        raise UserError(
            f"TRIPCLICK_BACKFILL_MAX_DAYS={backfill_max_days} allows no date; set 1 or more (default 31)"
        )
    return Settings(
        runtime=runtime,
        home=home,
        timezone=_env("TIMEZONE", contract.DEFAULT_TIMEZONE),
        topic=_env("TOPIC", TOPIC),
        topic_partitions=_env_int("TOPIC_PARTITIONS", 3),
        kafka_bootstrap=_env("KAFKA_BOOTSTRAP", f"127.0.0.1:{kafka_port}"),
        kafka_port=kafka_port,
        kafka_controller_port=_env_int("KAFKA_CONTROLLER_PORT", 19093 + offset),
        kafka_heap=_env("KAFKA_HEAP", "768m"),
        s3_port=s3_port,
        s3_endpoint=s3_endpoint,
        s3_bucket=s3_bucket,
        pg_host=_env("PG_HOST", "127.0.0.1"),
        pg_port=pg_port,
        pg_database=_env("PG_DATABASE", "tripclick"),
        pg_user=_env("PG_USER", "tripclick"),
        lake_root=_env("LAKE_ROOT", str(home / "lake")),
        jars_dir=Path(_env("JARS_DIR", str(home / "jars"))),
        superset_port=_env_int("SUPERSET_PORT", 18088 + offset),
        airflow_port=_env_int("AIRFLOW_PORT", 18080 + offset),
        kafka_security_protocol=kafka_protocol.upper(),
        kafka_ssl_ca=_env("KAFKA_SSL_CA", ""),
        kafka_ssl_keystore=_env("KAFKA_SSL_KEYSTORE", ""),
        max_line_bytes=max_line_bytes,
        stage_lock_wait_seconds=lock_wait,
        pushgateway=_env("PUSHGATEWAY", ""),
        backfill_max_days=backfill_max_days,
    )
