"""Which database the Airflow metadata backup reaches for each URL Airflow is configured
with, and what a restore refuses to write (no Airflow and no server: URLs and SQLite files)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import airflow_run  # noqa: F401  (puts dags/ on the path)
import pytest
import yaml

from tripclick_dags import airflow_backup
from tripclick_dags.settings import load

REPO = Path(__file__).resolve().parents[2]


def test_the_fleets_url_is_peer_login_over_the_socket():
    # The airflow role's URL, as it renders with its defaults.
    defaults = yaml.safe_load((REPO / "ansible/roles/airflow/defaults/main.yml").read_text())
    template = defaults["airflow_database_url"]
    assert "postgresql+psycopg2://' ~ airflow_user ~ '@/' ~ airflow_metadata_database" in template
    assert defaults["airflow_user"] == defaults["airflow_metadata_database"] == "airflow"
    url = f"postgresql+psycopg2://airflow@/airflow?host={defaults['airflow_metadata_socket_dir']}"
    meta = airflow_backup.parse_url(url)
    assert meta.backend == "postgresql" and meta.extension == "dump"
    assert meta.libpq == {
        "PGDATABASE": "airflow",
        "PGHOST": "/var/run/postgresql",
        "PGUSER": "airflow",
    }
    assert meta.password is None  # no pgpass file: peer authentication


def test_a_tcp_url_keeps_its_password_out_of_the_environment():
    meta = airflow_backup.parse_url("postgresql://af:p%3Ass@db.internal:6543/meta")
    assert meta.libpq == {
        "PGDATABASE": "meta",
        "PGHOST": "db.internal",
        "PGPORT": "6543",
        "PGUSER": "af",
    }
    assert meta.password == "p:ss"
    assert "p:ss" not in repr(meta)


def test_sqlite_urls_name_the_file(tmp_path):
    meta = airflow_backup.parse_url(f"sqlite:///{tmp_path}/airflow.db")
    assert (meta.backend, meta.sqlite_path, meta.extension) == (
        "sqlite",
        tmp_path / "airflow.db",
        "sqlite",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql+mysqldb://airflow@localhost/airflow", "neither SQLite nor PostgreSQL"),
        ("sqlite://", "in-memory SQLite database"),
    ],
)
def test_other_databases_are_one_clear_error(url, message):
    with pytest.raises(airflow_backup.BackupError, match=message):
        airflow_backup.parse_url(url)


def test_names_sort_by_age_and_only_backups_are_kept_or_deleted():
    names = [
        "airflow-20160103T030000Z.dump",
        "airflow-20160101T030000Z.sqlite",
        "airflow-20160102T030000Z.dump",
    ]
    assert all(airflow_backup.NAME_RE.match(n) for n in names)
    assert not airflow_backup.NAME_RE.match("gold-20160101T030000Z.dump")
    assert not airflow_backup.NAME_RE.match("airflow-20160101T030000Z.dump.tmp")
    assert airflow_backup.backup_names.to_delete(names, 2) == ["airflow-20160101T030000Z.sqlite"]


def test_an_archive_without_airflows_tables_is_not_written_over_the_database(tmp_path):
    live = tmp_path / "airflow.db"
    with sqlite3.connect(live) as conn:
        conn.executescript(
            "create table alembic_version (version_num text);"
            "create table dag_run (id integer primary key, run_id text);"
            "insert into dag_run (run_id) values ('manual__1'), ('manual__2');"
        )
    conn.close()
    folder = tmp_path / "lake" / "backups" / "airflow"
    folder.mkdir(parents=True)
    stranger = folder / "airflow-20160101T030000Z.sqlite"
    with sqlite3.connect(stranger) as conn:
        conn.execute("create table something_else (x integer)")
    conn.close()
    settings = load({"lake_root": str(tmp_path / "lake")}.get)
    with pytest.raises(airflow_backup.BackupError, match="holds no Airflow metadata"):
        airflow_backup.restore(settings, f"sqlite:///{live}", tmp_path / "home")
    conn = sqlite3.connect(live)
    assert conn.execute("select run_id from dag_run order by id").fetchall() == [
        ("manual__1",),
        ("manual__2",),
    ]
    conn.close()
