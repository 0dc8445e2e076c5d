"""The Superset export bundle under ``superset/``: read it, check it, zip it for import.

The bundle is kept unzipped in git (``metadata.yaml``, ``databases/``, ``datasets/``,
``charts/``, ``dashboards/``) and cross-referenced by fixed UUIDs. The database file
holds a connection string without a password; :func:`write_zip` swaps in the one built
from configuration, so the only copy with a password is the short-lived zip.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from tripclick.config import Settings
from tripclick.contract import REPO_ROOT
from tripclick.errors import UserError

BUNDLE_DIR = REPO_ROOT / "superset"
KINDS = ("databases", "datasets", "charts", "dashboards")
# The top folder inside the zip; Superset strips it when it reads the bundle.
ZIP_ROOT = "tripclick_dashboards"


def load(bundle_dir: Path = BUNDLE_DIR) -> dict[str, Any]:
    """Every YAML file of the bundle, parsed, keyed by its path relative to the bundle."""
    files: dict[str, Any] = {}
    meta = bundle_dir / "metadata.yaml"
    if not meta.exists():
        raise UserError(f"no Superset bundle at {bundle_dir}: metadata.yaml is missing")
    files["metadata.yaml"] = _read(meta)
    for kind in KINDS:
        for path in sorted((bundle_dir / kind).rglob("*.yaml")):
            files[str(path.relative_to(bundle_dir))] = _read(path)
    return files


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise UserError(f"{path} is not valid YAML: {err}") from None


def of_kind(files: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: body for name, body in files.items() if name.startswith(f"{kind}/")}


def dangling_refs(files: dict[str, Any]) -> list[str]:
    """Every UUID reference that names no object of the bundle, as readable lines."""
    uuids = {kind: {body["uuid"] for body in of_kind(files, kind).values()} for kind in KINDS}
    problems = []
    for name, body in of_kind(files, "datasets").items():
        if body.get("database_uuid") not in uuids["databases"]:
            problems.append(
                f"{name}: database_uuid {body.get('database_uuid')} is not in databases/"
            )
    for name, body in of_kind(files, "charts").items():
        if body.get("dataset_uuid") not in uuids["datasets"]:
            problems.append(f"{name}: dataset_uuid {body.get('dataset_uuid')} is not in datasets/")
    for name, body in of_kind(files, "dashboards").items():
        for ref in dashboard_chart_uuids(body):
            if ref not in uuids["charts"]:
                problems.append(f"{name}: chart {ref} in the layout is not in charts/")
        for flt in body.get("metadata", {}).get("native_filter_configuration", []):
            for target in flt.get("targets", []):
                ref = target.get("datasetUuid")
                if ref is not None and ref not in uuids["datasets"]:
                    problems.append(f"{name}: filter {flt.get('name')} targets dataset {ref}")
    all_uuids = [body["uuid"] for kind in KINDS for body in of_kind(files, kind).values()]
    problems += [
        f"uuid {u} is used twice" for u in {u for u in all_uuids if all_uuids.count(u) > 1}
    ]
    return problems


def dashboard_chart_uuids(dashboard: dict[str, Any]) -> list[str]:
    """The chart UUIDs a dashboard's layout places."""
    return [
        node["meta"]["uuid"]
        for node in dashboard.get("position", {}).values()
        if isinstance(node, dict) and node.get("type") == "CHART"
    ]


def sqlalchemy_uri(settings: Settings) -> str:
    """The gold database as Superset connects to it, password included."""
    return (
        f"postgresql+psycopg2://{quote(settings.pg_user, safe='')}:"
        f"{quote(settings.pg_password, safe='')}@{settings.pg_host}:{settings.pg_port}/"
        f"{quote(settings.pg_database, safe='')}"
    )


def write_zip(dest: Path, uri: str, bundle_dir: Path = BUNDLE_DIR) -> Path:
    """Zip the bundle to ``dest`` (mode 0600) with every database pointed at ``uri``."""
    files = load(bundle_dir)
    problems = dangling_refs(files)
    if problems:
        raise UserError(f"the Superset bundle is inconsistent: {problems[0]}")
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    dest.unlink(missing_ok=True)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            if name.startswith("databases/"):
                body = {**body, "sqlalchemy_uri": uri}
            zf.writestr(f"{ZIP_ROOT}/{name}", yaml.safe_dump(body, sort_keys=False))
    return dest
