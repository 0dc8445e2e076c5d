"""``tripclick generate``: write a synthetic TripClick day, one file per web server."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from tripclick import config
from tripclick.commands import ExamplesFormatter
from tripclick.contract import canonical_date
from tripclick.errors import UserError
from tripclick.generator import MAX_DAYS, DaySpec, generate_day, generate_days
from tripclick.timeshift import parse_hhmm

EXAMPLES = """\
examples:
  tripclick generate --date 2016-01-01 --records 10000 --out data/day
      two files, data/day/2016-01-01_part-000.jsonl and ..._part-001.jsonl
  tripclick generate --date 2016-01-01 --records 1000000 --duplicate-rate 0.01 \\
      --malformed-rate 0.001 --seed 7 --out /tmp/big-day
  tripclick generate --date 2016-01-04 --days 7 --records 20000 \\
      --anomalous-sessions 4 --out data/week
      a week from Monday 2016-01-04: 22,800 lines on Monday ... 14,200 on Saturday

The same arguments always write byte-identical files. Feed them to
`tripclick produce --input FILE ...`.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="write a synthetic TripClick day (deterministic; split across web servers)",
        description=(
            "Write a synthetic, TripClick-like day of click logs: sessions of about 3.3 "
            "clicks, a few popular documents and a long tail, real clinical areas and "
            "queries, and a peak of traffic in the daily window. One JSON-lines file per "
            "web server; a session always stays on one server."
        ),
        epilog=EXAMPLES,
        formatter_class=ExamplesFormatter,
    )
    p.add_argument(
        "--date",
        required=True,
        help="the UTC day of the clicks, YYYY-MM-DD (with --days: the first day)",
    )
    p.add_argument(
        "--records",
        type=int,
        required=True,
        help="lines to write in total (all servers); with --days, an average day's lines",
    )
    p.add_argument(
        "--days",
        type=int,
        help=(
            f"write this many consecutive days from --date (1..{MAX_DAYS}), sized by a "
            "weekly shape with a weekend dip, over one document catalog"
        ),
    )
    p.add_argument(
        "--anomalous-sessions",
        type=int,
        default=0,
        metavar="K",
        help=(
            "add K sessions a day that click 24-70 times inside one minute, about one in "
            "four over 50 (default 0)"
        ),
    )
    p.add_argument("--out", type=Path, required=True, help="folder for the files (created)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    p.add_argument("--servers", type=int, default=2, help="web servers = files (default 2)")
    p.add_argument(
        "--duplicate-rate",
        type=float,
        default=0.0,
        help="share of lines that repeat an earlier click exactly (default 0)",
    )
    p.add_argument(
        "--malformed-rate",
        type=float,
        default=0.0,
        help="share of lines that are broken: bad JSON, missing fields, ... (default 0)",
    )
    p.add_argument(
        "--window-start",
        default="15:00",
        help="start of the busy window, HH:MM in TRIPCLICK_TIMEZONE (default 15:00)",
    )
    p.add_argument(
        "--window-minutes", type=int, default=60, help="length of the busy window (default 60)"
    )
    p.add_argument(
        "--peak-share",
        type=float,
        default=0.35,
        help="share of sessions that start in the window (default 0.35)",
    )
    p.add_argument(
        "--with-event-time",
        action="store_true",
        help="also write event_ts/event_date, like the preprocessed sample",
    )
    p.set_defaults(func=_generate)


def _generate(args: argparse.Namespace) -> int:
    settings = config.load()
    canonical = canonical_date(args.date)
    if canonical is None:
        raise UserError(f"--date {args.date!r} is not a date; use YYYY-MM-DD")
    day = date.fromisoformat(canonical)
    spec = DaySpec(
        day=day,
        records=args.records,
        seed=args.seed,
        servers=args.servers,
        duplicate_rate=args.duplicate_rate,
        malformed_rate=args.malformed_rate,
        timezone=settings.timezone,
        window_start=parse_hhmm(args.window_start),
        window_minutes=args.window_minutes,
        peak_share=args.peak_share,
        with_event_time=args.with_event_time,
        anomalous_sessions=args.anomalous_sessions,
    )
    if args.days is None:
        summaries = [generate_day(spec, args.out)]
    else:
        summaries = generate_days(spec, args.days, args.out)
    for summary in summaries:
        for path, n in zip(summary.files, summary.lines_per_file, strict=True):
            print(f"{path}  {n:,} lines")
        anomalous = f", {len(summary.anomalous)} anomalous" if summary.anomalous else ""
        print(
            f"{summary.lines:,} lines: {summary.valid:,} clicks in {summary.sessions:,} "
            f"sessions{anomalous}, {summary.duplicates:,} duplicates, "
            f"{summary.malformed:,} malformed"
        )
    return 0
