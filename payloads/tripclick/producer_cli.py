"""Entry point of the producer image: ``tripclick generate`` and ``tripclick produce`` only.

The web servers run nothing else, so the image carries neither the Spark jobs nor
the dashboards and needs only confluent-kafka, xxhash, msgspec and rich.
"""

from __future__ import annotations

import sys

from tripclick import cli

MODULES = ["generate", "produce"]


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, modules=MODULES)


if __name__ == "__main__":
    sys.exit(main())
