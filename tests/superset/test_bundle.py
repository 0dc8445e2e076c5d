"""The export bundle under superset/: references, columns against the gold tables, the zip."""

from __future__ import annotations

import shutil
import stat
import subprocess
import zipfile

import yaml

from tripclick_devstack.dashboards import bundle


def test_every_uuid_reference_resolves():
    files = bundle.load()
    assert bundle.dangling_refs(files) == []
    counts = {kind: len(bundle.of_kind(files, kind)) for kind in bundle.KINDS}
    assert counts == {"databases": 1, "datasets": 12, "charts": 17, "dashboards": 3}
    # Every chart is placed on one dashboard, once.
    dashboards = bundle.of_kind(files, "dashboards")
    placed = [u for d in dashboards.values() for u in bundle.dashboard_chart_uuids(d)]
    assert sorted(placed) == sorted(c["uuid"] for c in bundle.of_kind(files, "charts").values())
    assert {d["slug"]: d["dashboard_title"] for d in dashboards.values()} == {
        "tripclick-daily": "TripClick — daily",
        "tripclick-live": "TripClick — live",
        "tripclick-operations": "TripClick — operations",
    }
    live = bundle.dashboard_chart_uuids(dashboards["dashboards/tripclick_live.yaml"])
    assert len(live) == 4
    operations = bundle.dashboard_chart_uuids(dashboards["dashboards/tripclick_operations.yaml"])
    assert len(operations) == 7


def test_a_dangling_reference_is_reported(tmp_path):
    copy = tmp_path / "superset"
    shutil.copytree(bundle.BUNDLE_DIR, copy, ignore=shutil.ignore_patterns("*.py", "*.txt"))
    chart = copy / "charts" / "clinical_areas.yaml"
    body = yaml.safe_load(chart.read_text())
    body["dataset_uuid"] = "00000000-0000-4000-8000-000000000000"
    chart.write_text(yaml.safe_dump(body))
    problems = bundle.dangling_refs(bundle.load(copy))
    assert problems == [
        "charts/clinical_areas.yaml: dataset_uuid 00000000-0000-4000-8000-000000000000 "
        "is not in datasets/"
    ]


def test_dataset_columns_exist_in_the_gold_tables(gold_schema):
    with gold_schema.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'gold'"
        )
        actual: dict[str, set[str]] = {}
        for table, column in cur.fetchall():
            actual.setdefault(table, set()).add(column)
    for name, dataset in bundle.of_kind(bundle.load(), "datasets").items():
        assert dataset["schema"] == "gold", name
        if dataset["sql"] is not None:
            continue  # a virtual dataset: test_virtual_datasets_run_with_their_columns
        table = dataset["table_name"]
        assert table in actual, f"{name}: table gold.{table} does not exist"
        declared = {c["column_name"] for c in dataset["columns"]}
        assert declared <= actual[table], f"{name}: not in gold.{table}: {declared - actual[table]}"
        assert dataset["main_dttm_col"] in actual[table]


def _virtual_datasets() -> dict[str, dict]:
    return {
        body["table_name"]: body
        for body in bundle.of_kind(bundle.load(), "datasets").values()
        if body["sql"] is not None
    }


def test_virtual_datasets_run_with_their_columns(gold_schema):
    datasets = _virtual_datasets()
    assert sorted(datasets) == [
        "ops_dq_results", "ops_dq_results_latest_day", "ops_reconciliation", "ops_stage_runs",
    ]  # fmt: skip
    for name, dataset in datasets.items():
        # Superset reads a virtual dataset as a subquery, so the SQL must work as one.
        with gold_schema.cursor() as cur:
            cur.execute(f"SELECT * FROM ({dataset['sql']}) AS virtual_table LIMIT 0")
            actual = [d.name for d in cur.description]
        gold_schema.rollback()
        assert [c["column_name"] for c in dataset["columns"]] == actual, name
        assert dataset["main_dttm_col"] in actual, name


def _rows(conn, sql: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM ({sql}) AS virtual_table WHERE event_date >= '9998-01-01'")
        names = [d.name for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_operations_datasets_keep_the_last_30_days_and_the_latest_run(gold_schema):
    """The operations datasets on rows of a future date, in a transaction rolled back."""
    datasets = _virtual_datasets()
    conn = gold_schema
    try:
        with conn.cursor() as cur:
            for day in ("9998-01-01", "9998-01-02", "9998-01-31"):
                cur.execute(
                    "INSERT INTO gold.reconciliation (event_date, kafka_records, bronze_records,"
                    " bronze_distinct, silver_records, quarantine_records, quarantine_distinct,"
                    " gold_total_events, passed, mismatches) VALUES"
                    " (%s, 100, 100, 90, 80, 10, 10, 80, %s, %s)",
                    (day, day != "9998-01-02", [] if day != "9998-01-02" else ["a", "b"]),
                )
            cur.execute(
                "INSERT INTO gold.stage_runs VALUES"
                " ('9998-01-31', 'silver', '9998-02-01 10:00+00', 5, false, 'h'),"
                " ('9998-01-31', 'silver', '9998-02-01 11:00+00', 7, true, 'h'),"
                " ('9998-01-31', 'gold', '9998-02-01 11:00+00', 3, true, 'h'),"
                " ('9998-01-01', 'gold', '9998-02-01 11:00+00', 3, true, 'h')"
            )
            cur.execute(
                "INSERT INTO gold.dq_results (event_date, check_name, dataset, outcome, value,"
                " checked) VALUES"
                " ('9998-01-30', 'old_check', 'd', 'error', 1, 'staged'),"
                " ('9998-01-31', 'a_pass', 'd', 'pass', 0.123456, 'staged'),"
                " ('9998-01-31', 'b_error', 'd', 'error', 2, 'staged'),"
                " ('9998-01-31', 'c_warning', 'd', 'warning', 3, 'published')"
            )
        # 30 days back from the newest date: 9998-01-02 is in, 9998-01-01 is not.
        reconciliation = _rows(conn, datasets["ops_reconciliation"]["sql"])
        assert [(str(r["event_date"]), r["result"], r["mismatches"]) for r in reconciliation] == [
            ("9998-01-02", "failed", "a; b"),
            ("9998-01-31", "passed", ""),
        ]
        stages = _rows(conn, datasets["ops_stage_runs"]["sql"])
        assert [
            (str(r["event_date"]), r["stage"], r["seconds"], r["succeeded"], r["runs"],
             r["failed_runs"]) for r in stages
        ] == [
            ("9998-01-31", "gold", 3, True, 1, 0),
            ("9998-01-31", "silver", 7, True, 2, 1),
        ]  # fmt: skip
        outcomes = _rows(conn, datasets["ops_dq_results"]["sql"])
        assert sorted((str(r["event_date"]), r["check_name"]) for r in outcomes) == [
            ("9998-01-30", "old_check"),
            ("9998-01-31", "a_pass"),
            ("9998-01-31", "b_error"),
            ("9998-01-31", "c_warning"),
        ]
        latest = sorted(
            _rows(conn, datasets["ops_dq_results_latest_day"]["sql"]),
            key=lambda r: (r["severity"], r["check_name"]),
        )
        assert [(r["check_name"], r["outcome"], r["value"]) for r in latest] == [
            ("b_error", "error", 2),
            ("c_warning", "warning", 3),
            ("a_pass", "pass", 0.1235),
        ]
    finally:
        conn.rollback()


def test_zip_carries_the_configured_connection_and_git_holds_no_password(settings, tmp_path):
    uri = bundle.sqlalchemy_uri(settings)
    archive = bundle.write_zip(tmp_path / "bundle.zip", uri)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        db = yaml.safe_load(zf.read(f"{bundle.ZIP_ROOT}/databases/tripclick_gold.yaml"))
    assert f"{bundle.ZIP_ROOT}/metadata.yaml" in names
    assert len([n for n in names if "/charts/" in n]) == 17
    assert db["sqlalchemy_uri"] == uri
    assert f":{settings.pg_port}/" in uri and settings.pg_password in uri
    # The committed bundle has no password, and no generated secret is tracked by git.
    tracked = subprocess.run(
        ["git", "ls-files", "superset"], cwd=bundle.BUNDLE_DIR.parent, capture_output=True,
        text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert tracked, "superset/ is not tracked by git"
    for rel in tracked:
        assert settings.pg_password not in (bundle.BUNDLE_DIR.parent / rel).read_text()
    committed = yaml.safe_load(
        (bundle.BUNDLE_DIR / "databases" / "tripclick_gold.yaml").read_text()
    )
    assert (
        "@" in committed["sqlalchemy_uri"]
        and ":" not in committed["sqlalchemy_uri"].split("//")[1].split("@")[0]
    )
