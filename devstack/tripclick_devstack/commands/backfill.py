"""``tripclick backfill``: a range of dates through run-day's stages, resumable."""

from __future__ import annotations

import argparse
from pathlib import Path

from tripclick import config
from tripclick.commands import ExamplesFormatter
from tripclick_devstack import backfill

EXAMPLES = """\
examples:
  tripclick generate --date 2016-01-04 --days 7 --records 20000 --out data/week
  tripclick backfill --from 2016-01-04 --to 2016-01-10 --input data/week
      the week, oldest first; run it again and every date is skipped
  tripclick backfill --from 2016-01-06 --to 2016-01-06 --input data/week --force
      one date again, although it is published

One line per date on stderr, a table on stdout. The first date that fails stops the
run and says how to resume; dates complete in gold are skipped.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "backfill",
        help="a range of dates end to end on the local stack, oldest first, resumable",
        description=(
            "Run each date from --from to --to, oldest first, through the stages run-day "
            "runs (produce, silver, bronze, gold, reconcile and publish). A date whose marts "
            "are published and whose reconciliation passed is skipped unless --force. At most "
            "TRIPCLICK_BACKFILL_MAX_DAYS dates (default 31), none in the future."
        ),
        epilog=EXAMPLES,
        formatter_class=ExamplesFormatter,
    )
    p.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD")
    p.add_argument(
        "--input",
        type=Path,
        required=True,
        metavar="FOLDER",
        help="folder with each date's files, named <date>_part-NNN.jsonl as generate writes them",
    )
    p.add_argument("--force", action="store_true", help="re-run dates that are complete")
    p.set_defaults(func=_backfill)


def _backfill(args: argparse.Namespace) -> int:
    settings = config.load()
    result = backfill.run(settings, args.first, args.last, args.input, force=args.force)
    print(backfill.summary_table(result))
    return 0
