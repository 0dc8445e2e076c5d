"""python -m tripclick_devstack.fleet COMMAND --env ENV

image, up, status, down, paths: the fleet itself; converge-report LOG: a site.yml run's recap;
day: run a date through Airflow on the fleet; gold-dump: print a date's marts from its gold host.
"""

from __future__ import annotations

import argparse
import json
import sys

from tripclick_devstack.fleet.engine import FleetError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tripclick_devstack.fleet", description=__doc__)
    parser.add_argument(
        "command",
        choices=["image", "up", "status", "down", "paths", "converge-report", "day", "gold-dump"],
    )
    parser.add_argument("log", nargs="?", help="converge-report: the log of a site.yml run")
    parser.add_argument("--env", default="dev", help="Terraform environment (terraform/envs/<env>)")
    operate = parser.add_argument_group("day and gold-dump")
    operate.add_argument("--date", default="2016-01-01", help="the day (YYYY-MM-DD)")
    operate.add_argument("--mode", choices=["daily", "backfill"], default="daily")
    operate.add_argument("--time-scale", type=float, default=120.0, help="daily: compression")
    operate.add_argument("--timeout", type=float, default=3600.0, help="day: seconds to wait")
    operate.add_argument("--json", help="day: also write the result as JSON to this file")
    operate.add_argument("--vault", help="the environment's vault file")
    operate.add_argument("--vault-password-file", help="its password file")
    operate.add_argument("--ansible-vault", default="ansible-vault", help="the ansible-vault CLI")
    args = parser.parse_args(argv)
    if args.command == "converge-report":
        from pathlib import Path

        from tripclick_devstack.fleet import converge

        if not args.log or not Path(args.log).is_file():
            print(f"error: no converge log at {args.log}; run make fleet-converge", file=sys.stderr)
            return 2
        for line in converge.report(Path(args.log).read_text(errors="replace")):
            print(line)
        return 0
    from tripclick_devstack.fleet import image
    from tripclick_devstack.fleet.fleet import Fleet

    def log(message: str) -> None:
        print(f"\033[1m==> {message}\033[0m", flush=True)

    try:
        fleet = Fleet(args.env, log=log)
        if args.command == "image":
            from tripclick_devstack.fleet.engine import ensure_engine

            ensure_engine()
            print(image.build(fleet.local, log=log))
        elif args.command == "up":
            fleet.up()
        elif args.command == "down":
            fleet.down()
        elif args.command == "status":
            rows = fleet.status()
            width = max(len(r["host"]) for r in rows)
            for r in rows:
                print(f"{r['host']:<{width}}  {r['state']:<8}  {r['addresses']:<22}  {r['health']}")
            print(
                f"S3 endpoint: {fleet.s3_endpoint} ({'running' if fleet._moto_pid() else 'stopped'})"
            )
        elif args.command in ("day", "gold-dump"):
            from tripclick_devstack.fleet import operate

            return operate.main(fleet, args)
        elif args.command == "paths":
            print(
                json.dumps(
                    {
                        "inventory": str(fleet.inventory),
                        "ssh_config": str(fleet.paths.ssh_config),
                        "outputs": str(fleet.paths.outputs),
                        "s3_endpoint": fleet.s3_endpoint,
                    },
                    indent=2,
                )
            )
    except (FleetError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
