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
    assert counts == {"databases": 1, "datasets": 16, "charts": 22, "dashboards": 4}
    # Every chart is placed on one dashboard, once.
    dashboards = bundle.of_kind(files, "dashboards")
    placed = [u for d in dashboards.values() for u in bundle.dashboard_chart_uuids(d)]
    assert sorted(placed) == sorted(c["uuid"] for c in bundle.of_kind(files, "charts").values())
    assert {d["slug"]: d["dashboard_title"] for d in dashboards.values()} == {
        "tripclick-daily": "TripClick — daily",
        "tripclick-live": "TripClick — live",
        "tripclick-operations": "TripClick — operations",
        "tripclick-overview": "TripClick — overview",
    }
    live = bundle.dashboard_chart_uuids(dashboards["dashboards/tripclick_live.yaml"])
    assert len(live) == 4
    operations = bundle.dashboard_chart_uuids(dashboards["dashboards/tripclick_operations.yaml"])
    assert len(operations) == 7
    overview = bundle.dashboard_chart_uuids(dashboards["dashboards/tripclick_overview.yaml"])
    assert len(overview) == 5


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
    """Physical datasets against gold's tables; the overview's (virtual) read schema serving."""
    with gold_schema.cursor() as cur:
        cur.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'gold'"
        )
        actual: dict[str, set[str]] = {}
        for table, column in cur.fetchall():
            actual.setdefault(table, set()).add(column)
    for name, dataset in bundle.of_kind(bundle.load(), "datasets").items():
        assert dataset["schema"] == ("serving" if "overview_" in name else "gold"), name
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
        "overview_clinical_areas", "overview_daily_traffic", "overview_speed_accuracy",
        "overview_top_documents_latest_day",
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


def test_overview_datasets_keep_the_published_month_and_the_speed_dates(gold_schema):
    """The overview's datasets on rows of future dates, in a transaction rolled back: gold
    publishes 9998-01-01, -02 and -31; the speed layer alone has 9997-12-01 (a stale day)
    and 9998-02-01 (today)."""
    datasets = _virtual_datasets()
    conn = gold_schema
    try:
        with conn.cursor() as cur:
            for day, clicks in (("9998-01-01", 10), ("9998-01-02", 20), ("9998-01-31", 30)):
                cur.execute(
                    "INSERT INTO gold.mart_daily_traffic (event_date, total_events, unique_sessions,"
                    " unique_documents, peak_hour) VALUES (%s, %s, 2, 3, 4)",
                    (day, clicks),
                )
                cur.execute(
                    "INSERT INTO gold.mart_clinical_areas (event_date, clinical_area, search_count,"
                    " unique_sessions) VALUES (%s, 'Cardiology', %s, 1)",
                    (day, clicks),
                )
                cur.execute(
                    "INSERT INTO gold.mart_popular_documents (event_date, document_id, title, view_count,"
                    " unique_sessions, rank) VALUES (%s, 7, 'Old', %s, 1, 1)",
                    (day, clicks),
                )
            cur.execute(
                "INSERT INTO gold.live_session_days (event_date, batch_id, session_id, clicks, documents,"
                " first_click_ts, last_click_ts) VALUES"
                " ('9998-02-01', 0, 's1', 4, 2, '9998-02-01 10:00+00', '9998-02-01 10:05+00'),"
                " ('9998-02-01', 1, 's1', 1, 1, '9998-02-01 10:06+00', '9998-02-01 10:07+00'),"
                " ('9997-12-01', 0, 's2', 9, 1, '9997-12-01 10:00+00', '9997-12-01 10:05+00')"
            )
            cur.execute(
                "INSERT INTO gold.live_document_days (event_date, batch_id, document_id, title,"
                " last_click_ts, clicks, sessions) VALUES"
                " ('9998-02-01', 0, 8, 'New', '9998-02-01 10:05+00', 5, 1)"
            )
        # 30 days back from the newest published date on: -02 is in, -01 is not; the speed
        # layer's -02-01 is in, its stale 9997-12-01 is not.
        traffic = _rows(conn, datasets["overview_daily_traffic"]["sql"])
        assert [(str(r["event_date"]), r["total_events"], r["source"]) for r in traffic] == [
            ("9998-01-02", 20, "batch"),
            ("9998-01-31", 30, "batch"),
            ("9998-02-01", 5, "speed"),
        ]
        assert str(traffic[-1]["as_of"].date()) == "9998-02-01"
        areas = _rows(conn, datasets["overview_clinical_areas"]["sql"])
        assert sorted((str(r["event_date"]), r["search_count"]) for r in areas) == [
            ("9998-01-02", 20),
            ("9998-01-31", 30),
        ]
        # The newest date's documents, whichever source has it.
        documents = _rows(conn, datasets["overview_top_documents_latest_day"]["sql"])
        assert [(r["document_id"], r["title"], r["rank"], r["source"]) for r in documents] == [
            (8, "New", 1, "speed")
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
    assert len([n for n in names if "/charts/" in n]) == 22
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
