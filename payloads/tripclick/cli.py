"""``tripclick``: the command line of the web servers' producer image (``generate``, ``produce``).

Commands are a declarative table: each entry names a module exposing
``register(subparsers)``. The local platform's CLI (``tripclick_devstack.cli``) runs this
same :func:`main` over a longer table; this module knows nothing of it. A
:class:`UserError` becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tripclick.errors import UserError

# What the producer image runs, in the order `--help` lists it.
COMMANDS = (
    "tripclick.commands.generate",
    "tripclick.commands.produce",
)
DESCRIPTION = "TripClick producers: generate synthetic days and replay log files into Kafka."


def build_parser(
    commands: tuple[str, ...] = COMMANDS, description: str = DESCRIPTION
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tripclick",
        description=description,
        epilog="Settings come from TRIPCLICK_* environment variables; see docs/configuration.md.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in commands:
        importlib.import_module(module).register(sub)
    return parser


def main(
    argv: list[str] | None = None,
    commands: tuple[str, ...] = COMMANDS,
    description: str = DESCRIPTION,
) -> int:
    parser = build_parser(commands, description)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as err:
        print(f"tripclick {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"tripclick {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
