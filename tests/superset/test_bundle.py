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
    assert counts == {"databases": 1, "datasets": 8, "charts": 10, "dashboards": 2}
    # Every chart is placed on one dashboard, once.
    dashboards = bundle.of_kind(files, "dashboards")
    placed = [u for d in dashboards.values() for u in bundle.dashboard_chart_uuids(d)]
    assert sorted(placed) == sorted(c["uuid"] for c in bundle.of_kind(files, "charts").values())
    assert {d["slug"]: d["dashboard_title"] for d in dashboards.values()} == {
        "tripclick-daily": "TripClick — daily",
        "tripclick-live": "TripClick — live",
    }
    live = bundle.dashboard_chart_uuids(dashboards["dashboards/tripclick_live.yaml"])
    assert len(live) == 4


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
        table = dataset["table_name"]
        assert table in actual, f"{name}: table gold.{table} does not exist"
        declared = {c["column_name"] for c in dataset["columns"]}
        assert declared <= actual[table], f"{name}: not in gold.{table}: {declared - actual[table]}"
        assert dataset["main_dttm_col"] in actual[table]


def test_zip_carries_the_configured_connection_and_git_holds_no_password(settings, tmp_path):
    uri = bundle.sqlalchemy_uri(settings)
    archive = bundle.write_zip(tmp_path / "bundle.zip", uri)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        db = yaml.safe_load(zf.read(f"{bundle.ZIP_ROOT}/databases/tripclick_gold.yaml"))
    assert f"{bundle.ZIP_ROOT}/metadata.yaml" in names
    assert len([n for n in names if "/charts/" in n]) == 10
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
