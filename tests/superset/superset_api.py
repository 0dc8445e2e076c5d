"""Helpers for Superset's REST API in the tests."""

from __future__ import annotations

import json

import requests

from tripclick_devstack.dashboards.server import Superset


def list_objects(api: requests.Session, superset: Superset, kind: str, columns: list[str]):
    """Every object of a kind (chart, dataset, dashboard, database) via the REST API."""
    query = json.dumps({"page_size": 100, "columns": columns})
    resp = api.get(f"{superset.url}/api/v1/{kind}/", params={"q": query}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]
