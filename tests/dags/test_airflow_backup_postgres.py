"""The fleet's path of the Airflow metadata backup, against the stack's real PostgreSQL:
a throwaway database with dag_run-like rows is dumped with ``pg_dump -Fc`` into the lake,
changed, restored with ``pg_restore``, and holds the same rows again.

On the fleet the URL has no password (peer authentication over the socket); the stack's
server takes TCP with passwords only, so here the URL carries one and reaches libpq through
a pgpass file, the one difference.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

import airflow_run  # noqa: F401  (puts dags/ on the path)
import psycopg2
import pytest

from tripclick_dags import airflow_backup
from tripclick_dags.settings import load
from tripclick_devstack.stack.postgres import ADMIN_USER, Postgres

pytestmark = pytest.mark.stack

DAG_RUNS = [
    ("tripclick_daily_pipeline", f"scheduled__2016-01-0{d}T06:00:00+00:00", "success")
    for d in range(1, 6)
] + [("tripclick_maintenance", "manual__2016-01-06T03:00:00+00:00", "failed")]


def _as_admin(settings, sql: str) -> None:
    conn = psycopg2.connect(
        host="127.0.0.1",
        port=settings.pg_port,
        dbname="postgres",
        user=ADMIN_USER,
        password=Postgres(settings).admin_password,
        connect_timeout=5,
    )
    conn.autocommit = True  # create/drop database run outside a transaction
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture
def metadata_db(stack_services):
    """A database of its own, owned by the application role, dropped at the end."""
    settings = stack_services
    name = f"airflow_backup_test_{uuid.uuid4().hex[:8]}"
    _as_admin(settings, f'create database {name} owner "{settings.pg_user}"')
    url = (
        f"postgresql+psycopg2://{quote(settings.pg_user)}:{quote(settings.pg_password, safe='')}"
        f"@127.0.0.1:{settings.pg_port}/{name}"
    )
    params = {**settings.pg_params, "dbname": name}
    with psycopg2.connect(**params) as conn, conn.cursor() as cur:
        # The tables a restore checks for, shaped like Airflow's own.
        cur.execute("create table alembic_version (version_num varchar(32) primary key)")
        cur.execute("insert into alembic_version values ('cc92b33c6709')")
        cur.execute(
            "create table dag_run (id serial primary key, dag_id varchar(250) not null,"
            " run_id varchar(250) not null, state varchar(50), unique (dag_id, run_id))"
        )
        cur.executemany("insert into dag_run (dag_id, run_id, state) values (%s, %s, %s)", DAG_RUNS)
    yield url, params
    _as_admin(settings, f"drop database if exists {name} with (force)")


def _rows(params) -> list[tuple]:
    with psycopg2.connect(**params) as conn, conn.cursor() as cur:
        cur.execute("select id, dag_id, run_id, state from dag_run order by id")
        return cur.fetchall()


def test_pg_dump_and_pg_restore_give_the_same_dag_runs(metadata_db, tmp_path):
    url, params = metadata_db
    settings = load({"lake_root": str(tmp_path / "lake")}.get)
    before = _rows(params)
    assert len(before) == len(DAG_RUNS)

    result = airflow_backup.create(settings, 2, url)
    archive = tmp_path / "lake" / "backups" / "airflow" / result.name
    assert airflow_backup.NAME_RE.match(result.name) and result.name.endswith(".dump")
    assert archive.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    print(f"PostgreSQL backup: {result.size_bytes} bytes")

    # What the night after the backup did: one more run, one deleted, one changed.
    with psycopg2.connect(**params) as conn, conn.cursor() as cur:
        cur.execute("insert into dag_run (dag_id, run_id, state) values ('x', 'y', 'running')")
        cur.execute("delete from dag_run where id = 1")
        cur.execute("update dag_run set state = 'queued' where id = 2")
    assert _rows(params) != before

    restored = airflow_backup.restore(settings, url, tmp_path / "no-airflow-here")
    assert restored == result.name
    after = _rows(params)
    assert after == before
    print(f"restored dag_run rows: {len(after)}")
    # The sequence came back too: the next run gets the id after the last restored one.
    with psycopg2.connect(**params) as conn, conn.cursor() as cur:
        cur.execute("insert into dag_run (dag_id, run_id) values ('a', 'b') returning id")
        assert cur.fetchone()[0] == len(DAG_RUNS) + 1


def test_a_sqlite_backup_is_not_restored_into_postgresql(metadata_db, tmp_path):
    url, params = metadata_db
    settings = load({"lake_root": str(tmp_path / "lake")}.get)
    folder = tmp_path / "lake" / "backups" / "airflow"
    folder.mkdir(parents=True)
    (folder / "airflow-20160101T000000Z.sqlite").write_bytes(b"")
    with pytest.raises(airflow_backup.BackupError, match="no postgresql backup in"):
        airflow_backup.restore(settings, url, tmp_path / "no-airflow-here")
    with pytest.raises(airflow_backup.BackupError, match="is not a postgresql backup"):
        airflow_backup.restore(
            settings, url, tmp_path / "no-airflow-here", "airflow-20160101T000000Z.sqlite"
        )
    assert len(_rows(params)) == len(DAG_RUNS)
