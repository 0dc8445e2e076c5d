"""``tripclick produce``: replay TripClick log files into Kafka (realtime or batch)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tripclick.commands import ExamplesFormatter
from tripclick.producer import print_summary, produce_files

EXAMPLES = """\
examples:
  # backfill a day as fast as possible, original click times
  tripclick produce --mode batch --input day/2016-01-01_part-000.jsonl --source web-0

  # the daily replay: the day's clicks squeezed into 15:00-16:00 (TRIPCLICK_TIMEZONE)
  # of 2026-03-02, sent as their replayed time comes
  tripclick produce --mode realtime --input day/2016-01-01_part-001.jsonl \\
      --source web-1 --date 2026-03-02

  # the same replay 60 times faster (one minute instead of an hour)
  tripclick produce --mode realtime --input FILE --source web-0 --speed 60

Every line becomes one record of topic TRIPCLICK_TOPIC (default tripclick_raw_logs).
Valid lines: key = SessionId, value = the nine fields + event_ts, event_date,
dedup_key, source, produced_at. Invalid lines: sent unchanged without a key, with
headers source, event_date and reject_reason, and listed in the reject file with the
reason. Ctrl-C or SIGTERM stops reading, delivers what was already accepted and prints
the summary.
Exit code: 0 all delivered, 1 some records failed, 2 usage error, 130/143 stopped.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "produce",
        help="send TripClick log files to Kafka (realtime replay or batch backfill)",
        description=(
            "Send TripClick log lines (JSON lines, the raw nine fields or with "
            "event_ts/event_date) to Kafka, one record per line. --mode batch sends as "
            "fast as possible with the original click times; --mode realtime replays the "
            "clicks paced by their time, moved onto --date and (by default) compressed "
            "from 24 hours into the daily window."
        ),
        epilog=EXAMPLES,
        formatter_class=ExamplesFormatter,
    )
    p.add_argument("--mode", choices=("realtime", "batch"), required=True, help="how to send")
    p.add_argument(
        "--input",
        type=Path,
        nargs="+",
        required=True,
        metavar="PATH",
        help="one or more .jsonl log files (realtime merges them by click time)",
    )
    p.add_argument(
        "--source",
        default="web-0",
        help="name of this web server, written to every record (default web-0)",
    )
    p.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        help="realtime: the day to replay onto (default today in TRIPCLICK_TIMEZONE); "
        "both modes: the event_date of rejected lines (else the date in the file name)",
    )
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="realtime: replay speed factor, 1 = real time, 60 = an hour in a minute",
    )
    p.add_argument(
        "--window-start",
        default="15:00",
        metavar="HH:MM",
        help="realtime: start of the window the day is compressed into, in "
        "TRIPCLICK_TIMEZONE (default 15:00)",
    )
    p.add_argument(
        "--window-minutes",
        type=int,
        default=60,
        metavar="N",
        help="realtime: length of that window in minutes (default 60)",
    )
    p.add_argument(
        "--no-compression",
        action="store_true",
        help="realtime: keep each click's time of day instead of compressing into the window",
    )
    p.add_argument(
        "--reject-file",
        type=Path,
        metavar="PATH",
        help="where rejected lines go (default <TRIPCLICK_HOME>/rejects/<date>_<source>.jsonl)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines")
    p.add_argument("--json", action="store_true", help="also print the summary as JSON on stdout")
    p.set_defaults(func=_produce)


def _produce(args: argparse.Namespace) -> int:
    summary = produce_files(
        args.input,
        mode=args.mode,
        source=args.source,
        day=args.date,
        speed=args.speed,
        window_start=args.window_start,
        window_minutes=args.window_minutes,
        compress=not args.no_compression,
        reject_file=args.reject_file,
        progress=not args.no_progress,
    )
    print_summary(summary, as_json=args.json)
    if summary.stopped_by:
        return 143 if summary.stopped_by == "SIGTERM" else 130
    return 0 if summary.failed == 0 else 1
