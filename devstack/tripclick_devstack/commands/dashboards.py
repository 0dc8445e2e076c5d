"""``tripclick dashboards check | import | serve | stop``: Superset dashboards as code."""

from __future__ import annotations

import argparse

from tripclick import config
from tripclick.errors import UserError
from tripclick_devstack.dashboards import bundle
from tripclick_devstack.dashboards.server import ADMIN_USER, Superset


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dashboards", help="Superset: check, import and serve the dashboards")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = actions.add_parser("check", help="check that every UUID reference of the bundle resolves")
    a.set_defaults(func=_check)
    a = actions.add_parser("import", help="import the bundle into Superset (idempotent)")
    a.set_defaults(func=_import)
    a = actions.add_parser(
        "serve", help="import, then serve Superset on 127.0.0.1 in the background"
    )
    a.set_defaults(func=_serve)
    a = actions.add_parser("stop", help="stop the Superset server")
    a.set_defaults(func=_stop)


def _check(args: argparse.Namespace) -> int:
    files = bundle.load()
    problems = bundle.dangling_refs(files)
    for line in problems:
        print(line)
    if problems:
        raise UserError(f"{len(problems)} broken reference(s) in {bundle.BUNDLE_DIR}")
    counts = {kind: len(bundle.of_kind(files, kind)) for kind in bundle.KINDS}
    print(", ".join(f"{n} {kind}" for kind, n in counts.items()) + ": every reference resolves")
    return 0


def _import(args: argparse.Namespace) -> int:
    server = Superset(config.load())
    server.import_dashboards()
    print(f"imported {bundle.BUNDLE_DIR} into Superset ({server.state_dir})")
    return 0


def _serve(args: argparse.Namespace) -> int:
    server = Superset(config.load())
    server.import_dashboards()
    done = server.ensure_started()
    print(f"superset  {done}; log {server.log_file}")
    print(f"dashboard {server.dashboard_url}")
    print(f"login     {ADMIN_USER} / {server.admin_password}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    stopped = Superset(config.load()).stop()
    print("superset stopped" if stopped else "superset was not running")
    return 0
