"""The ``tripclick`` commands that keep gold: ``backup create|list|restore`` and ``prune-live``.

They need PostgreSQL's client tools and the lake, not Spark. ``python -m
tripclick_spark.ops_cli`` is the same command table for a host without the ``tripclick``
front end (the nightly DAG on the aws runtime).
"""

from __future__ import annotations

import argparse
import sys

from tripclick import cli, config
from tripclick_spark import gold_backup, live_retention


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return number


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser(
        "backup", help="gold backups in the lake's backups/gold/: create, list, restore"
    )
    bsub = b.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    p = bsub.add_parser("create", help="pg_dump gold into the lake, keep the newest --keep")
    p.add_argument(
        "--keep",
        type=_positive,
        default=gold_backup.DEFAULT_KEEP,
        metavar="N",
        help=f"backups to keep (default {gold_backup.DEFAULT_KEEP})",
    )
    p.set_defaults(func=_create)
    p = bsub.add_parser("list", help="the backups, oldest first")
    p.set_defaults(func=_list)
    p = bsub.add_parser(
        "restore", help="replace the gold schemas with a backup (default: the newest)"
    )
    p.add_argument("--name", metavar="gold-YYYYMMDDTHHMMSSZ.dump", help="which backup")
    p.set_defaults(func=_restore)

    p = sub.add_parser("prune-live", help="delete gold.live_* partials past the live views' window")
    p.add_argument(
        "--keep-hours",
        type=_positive,
        default=live_retention.DEFAULT_KEEP_HOURS,
        metavar="H",
        help=f"hours kept before the latest minute (default {live_retention.DEFAULT_KEEP_HOURS})",
    )
    p.set_defaults(func=_prune_live)


def _create(args: argparse.Namespace) -> int:
    result = gold_backup.create(config.load(), keep=args.keep)
    print(f"backup {result.uri}: {result.size_bytes} bytes in {result.seconds:.1f} s")
    for name in result.deleted:
        print(f"deleted {name} (beyond the newest {args.keep})")
    return 0


def _list(args: argparse.Namespace) -> int:
    for name in gold_backup.names(config.load()):
        print(name)
    return 0


def _restore(args: argparse.Namespace) -> int:
    name = gold_backup.restore(config.load(), args.name)
    print(f"restored gold from {name}")
    return 0


def _prune_live(args: argparse.Namespace) -> int:
    deleted = live_retention.prune(config.load(), args.keep_hours)
    print(", ".join(f"{table}: {n} rows deleted" for table, n in deleted.items()))
    return 0


if __name__ == "__main__":
    sys.exit(
        cli.main(None, ("tripclick_spark.ops_cli",), "Keep the gold database: backups, pruning.")
    )
