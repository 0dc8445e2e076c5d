"""``tripclick``: the command line of the local platform, fronting every area.

The same front end as the producer image's (:func:`tripclick.cli.main`), over a longer
command table: the local stack, the producers, the Spark jobs, the dashboards and a
whole day end to end.
"""

from __future__ import annotations

import sys

from tripclick import cli

# In the order `tripclick --help` lists them.
COMMANDS = (
    "tripclick_devstack.commands.stack",
    *cli.COMMANDS,
    "tripclick_spark.cli",
    "tripclick_spark.ops_cli",
    "tripclick_devstack.commands.run_day",
    "tripclick_devstack.commands.backfill",
    "tripclick_devstack.commands.dashboards",
)
DESCRIPTION = "TripClick clickstream platform: local stack, producers and the daily jobs."


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, COMMANDS, DESCRIPTION)


if __name__ == "__main__":
    sys.exit(main())
