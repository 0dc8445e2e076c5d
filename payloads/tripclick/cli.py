"""``tripclick``: the command line of the platform.

Each command lives in a module of ``tripclick.commands`` that exposes
``register(subparsers)``; this file only wires them together and turns a
:class:`UserError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from tripclick.errors import UserError

# Modules of tripclick.commands, in the order `tripclick --help` lists them.
COMMAND_MODULES = [
    "stack",
    "generate",
    "produce",
    "dashboards",
    "medallion",
]


def build_parser(modules: list[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tripclick",
        description="TripClick clickstream platform: local stack, producers and the daily jobs.",
        epilog="Settings come from TRIPCLICK_* environment variables; see docs/configuration.md.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in modules or COMMAND_MODULES:
        importlib.import_module(f"tripclick.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None, modules: list[str] | None = None) -> int:
    """Run the CLI; ``modules`` narrows the commands (the producer image has only its own)."""
    parser = build_parser(modules)
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
