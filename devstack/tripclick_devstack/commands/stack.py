"""``tripclick up | down | status``: the local stack; ``tripclick monitoring up | down``:
Prometheus and Alertmanager watching it."""

from __future__ import annotations

import argparse

from tripclick import config
from tripclick_devstack import stack
from tripclick_devstack.stack import monitoring


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("up", help="start Kafka, moto S3 and PostgreSQL on 127.0.0.1 (idempotent)")
    p.set_defaults(func=_up)
    p = sub.add_parser("down", help="stop the local stack; leaves no process behind")
    p.set_defaults(func=_down)
    p = sub.add_parser("status", help="show each service's port, pid, health and log file")
    p.set_defaults(func=_status)
    p = sub.add_parser(
        "monitoring",
        help="start or stop Prometheus (the alert rules) and Alertmanager on 127.0.0.1",
    )
    p.add_argument("action", choices=("up", "down"))
    p.set_defaults(func=_monitoring)


def _up(args: argparse.Namespace) -> int:
    settings = config.load()
    stack.up(settings)
    print(f"lake      {settings.lake_root}")
    print(
        f"gold db   postgresql://{settings.pg_user}@127.0.0.1:{settings.pg_port}/{settings.pg_database}"
    )
    return 0


def _down(args: argparse.Namespace) -> int:
    stack.down(config.load())
    return 0


def _status(args: argparse.Namespace) -> int:
    rows = stack.status(config.load())
    print(f"{'service':<9} {'port':>6} {'pid':>8}  {'health':<9} log")
    for r in rows:
        health = "healthy" if r.healthy else ("UNHEALTHY" if r.pid else "stopped")
        print(f"{r.name:<9} {r.port:>6} {r.pid or '-':>8}  {health:<9} {r.log}")
    # Informational: the exit status stays the stack's (the monitoring is started apart).
    print("\nmonitoring (tripclick monitoring up)")
    for r in stack.monitoring_status(config.load()):
        state = "up" if r.healthy else ("DOWN" if r.pid else "stopped")
        print(f"{r.name:<17} {r.port:>6} {r.pid or '-':>8}  {state:<7} {r.log}")
    return 0 if all(r.healthy for r in rows) else 1


def _monitoring(args: argparse.Namespace) -> int:
    settings = config.load()
    services = monitoring.services(settings)
    if args.action == "down":
        for svc in reversed(services):
            print(f"{svc.name:<17} {'stopped' if svc.stop() else 'was not running'}")
        return 0
    for svc in services:
        print(
            f"{svc.name:<17} {svc.ensure_started()} (http://127.0.0.1:{svc.port}/, log {svc.log_file})"
        )
    return 0
