"""Superset dashboards as code: the export bundle under ``superset/`` and the local server."""
