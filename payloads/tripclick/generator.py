"""Deterministic synthetic TripClick days of any size.

A day is written as one JSON-lines file per web server (``<date>_part-000.jsonl``,
...), split by session the way a sticky load balancer splits traffic, each file in
click-time order like a server's log. The same :class:`DaySpec` (seed included)
always gives byte-identical files.

Shape of the day, after the real logs: sessions of about 3.3 clicks (geometric),
Zipf-skewed document popularity, clinical areas and queries from
:mod:`tripclick.vocabulary`, and a share of the sessions starting inside the daily
window (default 15:00-16:00 in the configured time zone) on top of a diurnal curve.
Exact numbers of duplicate lines (a click logged twice) and malformed lines can be
injected; ``records`` counts every line written.

History (:func:`generate_days`): N consecutive days whose sizes follow a weekly shape,
over one document catalog (so the popular documents stay popular from day to day), each
day with a seed of its own derived from the base seed and its date. Anomalous sessions
(a burst of clicks from one session inside one click minute, like a scraper) can be added
to any day, so the live anomaly mart has something to find.
"""

from __future__ import annotations

import dataclasses
import hashlib
import heapq
import json
import math
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tripclick import vocabulary as vocab
from tripclick.contract import DEFAULT_TIMEZONE
from tripclick.errors import UserError

DAY_MS = 86_400_000
MEAN_CLICKS_PER_SESSION = 3.3
MAX_CLICKS_PER_SESSION = 60
MEAN_GAP_MS = 90_000
MIN_GAP_MS = 2_000
ZIPF_EXPONENT = 1.1
# Share of UTC hours in the day's traffic outside the window (a generic diurnal curve).
HOURLY_WEIGHTS = [2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 9, 9, 8, 8, 9, 9, 8, 7, 6, 5, 4, 4, 3, 2]
SESSION_ALPHABET = "abcdefghijklmnopqrstuvwxyz012345"  # ASP.NET session ids, as in the logs
# Day sizes Monday..Sunday relative to the requested size (mean 1.0): the weekend dip of a
# clinicians' search engine used mostly at work.
WEEKLY_SHAPE = (1.14, 1.16, 1.14, 1.10, 1.02, 0.71, 0.73)
MAX_DAYS = 366
# An anomalous session: 24-70 clicks 300-700 ms apart, all inside one click minute, so a
# per-minute count over 20 clicks finds each one; above 50 clicks it is critical (the
# original project's WARNING / CRITICAL split).
BURST_CLICKS = (24, 70)
BURST_CRITICAL_OVER = 50
BURST_GAP_MS = (300, 700)
MALFORMED_KINDS = (
    "truncated",
    "no_session_id",
    "bad_date",
    "bad_document_id",
    "not_utf8",
    "plain_text",
    "json_array",
)


@dataclass(frozen=True)
class DaySpec:
    """What to generate; every field takes part in the output, the seed included."""

    day: date
    records: int
    seed: int = 42
    servers: int = 2
    duplicate_rate: float = 0.0
    malformed_rate: float = 0.0
    timezone: str = DEFAULT_TIMEZONE
    window_start: time = time(15, 0)
    window_minutes: int = 60
    peak_share: float = 0.35
    with_event_time: bool = False
    anomalous_sessions: int = 0
    # A history's days share one catalog: its seed and size (default: this day's own).
    catalog_seed: int | None = None
    catalog_size: int | None = None

    def counts(self) -> tuple[int, int, int]:
        """(unique valid clicks, duplicate lines, malformed lines); they add up to records."""
        dups = round(self.records * self.duplicate_rate)
        bad = round(self.records * self.malformed_rate)
        return self.records - dups - bad, dups, bad

    def check(self) -> None:
        if self.records < 1:
            raise UserError(f"--records {self.records}: ask for at least 1 line")
        if self.servers < 1:
            raise UserError(f"--servers {self.servers}: ask for at least 1 web server")
        for name in ("duplicate_rate", "malformed_rate", "peak_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise UserError(f"{name.replace('_', '-')} {value}: give a fraction in 0..1")
        valid, dups, bad = self.counts()
        if valid < max(dups, bad, 1):
            raise UserError(
                "duplicate and malformed rates are too high: at least half the lines must be valid clicks"
            )
        if self.anomalous_sessions < 0:
            raise UserError(
                f"--anomalous-sessions {self.anomalous_sessions}: give 0 or more sessions a day"
            )
        need = self.anomalous_sessions * BURST_CLICKS[1] + 1
        if self.anomalous_sessions and valid < need:
            raise UserError(
                f"--anomalous-sessions {self.anomalous_sessions} needs at least {need:,} clicks "
                f"on {self.day} ({valid:,} asked); give more --records or fewer sessions"
            )
        if not 1 <= self.window_minutes <= 24 * 60:
            raise UserError(f"--window-minutes {self.window_minutes}: give 1..1440")
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError):
            raise UserError(
                f"time zone {self.timezone!r} is unknown; use an IANA name like Asia/Seoul"
            ) from None


@dataclass
class GenerateSummary:
    files: list[Path]
    lines: int = 0
    valid: int = 0
    duplicates: int = 0
    malformed: int = 0
    sessions: int = 0
    lines_per_file: list[int] = field(default_factory=list)
    # Clicks of each anomalous session (burst), in the order they were drawn.
    anomalous: list[int] = field(default_factory=list)


def file_name(day: date, server: int) -> str:
    return f"{day.isoformat()}_part-{server:03d}.jsonl"


def server_of(session_id: str, servers: int) -> int:
    """The web server a sticky load balancer sends this session to."""
    return zlib.crc32(session_id.encode()) % servers


def window_offset_ms(spec: DaySpec) -> int:
    """Start of the daily window as ms after UTC midnight of ``spec.day``."""
    local = datetime.combine(spec.day, spec.window_start, ZoneInfo(spec.timezone))
    utc_midnight = datetime.combine(spec.day, time(0), UTC)
    return int((local - utc_midnight) / timedelta(milliseconds=1)) % DAY_MS


class _Catalog:
    """Documents with Zipf popularity; metadata derived from (seed, rank) so it is order-free."""

    def __init__(self, seed: int, size: int) -> None:
        self.seed = seed
        self.size = size
        acc, cum = 0.0, []
        for rank in range(1, size + 1):
            acc += rank**-ZIPF_EXPONENT
            cum.append(acc)
        self.cum = cum
        self.ranks = range(size)
        self.cache: dict[int, dict] = {}
        self.areas = [a for a, _ in vocab.CLINICAL_AREAS]
        self.area_weights = [w for _, w in vocab.CLINICAL_AREAS]

    def draw(self, rng: random.Random, k: int) -> list[int]:
        return rng.choices(self.ranks, cum_weights=self.cum, k=k)

    @staticmethod
    def doc_id(rank: int) -> int:
        # A bijection of 0..8,999,999 onto 7-digit ids (7,919,993 is coprime to 9,000,000).
        return 1_000_000 + (rank * 7_919_993) % 9_000_000

    def meta(self, rank: int) -> dict:
        doc = self.cache.get(rank)
        if doc is not None:
            return doc
        rng = random.Random(self.seed * 10_000_019 + rank)
        n_areas = rng.choices((0, 1, 2, 3), weights=(12, 45, 30, 13))[0]
        areas = sorted(set(rng.choices(self.areas, weights=self.area_weights, k=n_areas)))
        main = areas[0] if areas else rng.choice(self.areas)
        condition = rng.choice(vocab.CONDITIONS[main])
        title = rng.choice(vocab.TITLE_SHAPES).format(
            intervention=rng.choice(vocab.INTERVENTIONS).capitalize(),
            condition=condition,
            Condition=condition[:1].upper() + condition[1:],
        )
        title = title[:1].upper() + title[1:]
        url = rng.choice(vocab.URL_SHAPES).format(
            n8=rng.randrange(10**7, 10**8),
            n6=f"{rng.randrange(10**6):06d}",
            n5=rng.randrange(10**4, 10**5),
            n3=rng.randrange(100, 1000),
        )
        doi = ""
        if "pubmed" in url or "wiley" in url:
            doi = f"10.{rng.randrange(1000, 10000)}/j.{rng.randrange(10**6, 10**7)}"
        # Most logs write the list with a leading comma; a minority without.
        text = ",".join(areas)
        if areas and rng.random() < 0.8:
            text = "," + text
        doc = {
            "id": self.doc_id(rank),
            "url": url,
            "title": title,
            "doi": doi,
            "areas": text,
            "main": main,
        }
        self.cache[rank] = doc
        return doc


def _session_lengths(rng: random.Random, clicks: int) -> list[int]:
    """Geometric lengths with mean 3.3, summing to exactly ``clicks``."""
    stay = (MEAN_CLICKS_PER_SESSION - 1) / MEAN_CLICKS_PER_SESSION
    log_stay = math.log(stay)
    lengths, total = [], 0
    while total < clicks:
        extra = int(math.log(1.0 - rng.random()) / log_stay)
        n = min(1 + extra, MAX_CLICKS_PER_SESSION, clicks - total)
        lengths.append(n)
        total += n
    return lengths


def _start_offset(rng: random.Random, spec: DaySpec, window_ms: int) -> int:
    if rng.random() < spec.peak_share:
        return (window_ms + rng.randrange(spec.window_minutes * 60_000)) % DAY_MS
    hour = rng.choices(range(24), weights=HOURLY_WEIGHTS)[0]
    return hour * 3_600_000 + rng.randrange(3_600_000)


def _query(rng: random.Random, main: str) -> str:
    if rng.random() < 0.15:
        return ""
    conditions = vocab.CONDITIONS[main]
    query = rng.choice(vocab.QUERY_SHAPES).format(
        condition=rng.choice(conditions),
        condition2=rng.choice(conditions),
        intervention=rng.choice(vocab.INTERVENTIONS),
    )
    if rng.random() < 0.1:
        query += " "  # trailing spaces occur in the real logs
    return query


def burst_sizes(rng: random.Random, k: int) -> list[int]:
    """Clicks of each of ``k`` anomalous sessions; about one in four is critical (over 50)."""
    critical = (k + 2) // 4
    low, high = BURST_CLICKS
    sizes = [rng.randint(BURST_CRITICAL_OVER + 1, high) for _ in range(critical)]
    sizes += [rng.randint(low, BURST_CRITICAL_OVER) for _ in range(k - critical)]
    rng.shuffle(sizes)
    return sizes


def _burst_plans(
    rng: random.Random, sizes: list[int]
) -> list[tuple[int, list[int], random.Random]]:
    """Each burst starts in a minute of a busy hour and ends inside that same minute."""
    plans = []
    for n in sizes:
        gaps = [rng.randint(*BURST_GAP_MS) for _ in range(n - 1)]
        minute = rng.choices(range(24), weights=HOURLY_WEIGHTS)[0] * 60 + rng.randrange(60)
        start = minute * 60_000 + rng.randrange(60_000 - sum(gaps))
        plans.append((start, gaps, rng))
    return plans


def _sessions(
    spec: DaySpec,
    rng: random.Random,
    catalog: _Catalog,
    lengths: list[int],
    bursts: list | None = None,
) -> Iterator:
    """Yield each session's clicks [(click_ms, seq, server, record dict)], sessions in start order."""
    day_ms = int(datetime.combine(spec.day, time(0), UTC).timestamp()) * 1000
    window_ms = window_offset_ms(spec)
    plans: list = []
    for n in lengths:
        start = _start_offset(rng, spec, window_ms)
        gaps = [max(MIN_GAP_MS, int(rng.expovariate(1 / MEAN_GAP_MS))) for _ in range(n - 1)]
        # Keep the whole session inside the day by moving it earlier when needed.
        plans.append((min(start, DAY_MS - 1 - sum(gaps)), gaps, None))
    # Bursts draw from their own generator, so the ordinary sessions stay what they were.
    plans += bursts or []
    plans.sort(key=lambda plan: plan[0])
    seq = 0
    for start, gaps, own in plans:
        r = own or rng
        n = len(gaps) + 1
        sid = "".join(r.choices(SESSION_ALPHABET, k=24))
        ranks = catalog.draw(r, n)
        query = _query(r, catalog.meta(ranks[0])["main"])
        results: list[int] = []
        if r.random() < 0.4:
            results = [catalog.doc_id(x) for x in catalog.draw(r, r.randint(5, 20))]
        server = server_of(sid, spec.servers)
        at = day_ms + start
        clicks = []
        for i, rank in enumerate(ranks):
            if i:
                at += gaps[i - 1]
            doc = catalog.meta(rank)
            record = {
                "DateCreated": f"/Date({at})/",
                "SessionId": sid,
                "DocumentId": doc["id"],
                "Url": doc["url"],
                "Title": doc["title"],
                "DOI": doc["doi"],
                "ClinicalAreas": doc["areas"],
                "Keywords": query,
                "Documents": results,
            }
            clicks.append((at, seq, server, record))
            seq += 1
        yield clicks


def _in_time_order(sessions: Iterator) -> Iterator:
    """Merge overlapping sessions into one click-time-ordered stream (small heap)."""
    heap: list = []
    for clicks in sessions:
        # Sessions arrive by start time: no later session has a click before this start.
        while heap and heap[0][0] <= clicks[0][0]:
            yield heapq.heappop(heap)
        for item in clicks:
            heapq.heappush(heap, item)
    while heap:
        yield heapq.heappop(heap)


def _encode(record: dict, with_event_time: bool, at: int) -> bytes:
    if with_event_time:
        ts = datetime.fromtimestamp(at // 1000, UTC) + timedelta(milliseconds=at % 1000)
        record = {
            **record,
            "event_ts": ts.isoformat(timespec="microseconds"),
            "event_date": ts.date().isoformat(),
        }
    return json.dumps(record, ensure_ascii=False).encode()


def malformed_line(rng: random.Random, record: dict, kind: str) -> bytes:
    """A broken variant of ``record``, as corrupted logs show them."""
    if kind == "truncated":
        line = json.dumps(record).encode()
        return line[: max(1, len(line) // 2)]
    if kind == "no_session_id":
        return json.dumps({k: v for k, v in record.items() if k != "SessionId"}).encode()
    if kind == "bad_date":
        ms = int(record["DateCreated"][6:-2])
        text = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return json.dumps({**record, "DateCreated": text}).encode()
    if kind == "bad_document_id":
        return json.dumps({**record, "DocumentId": f"doc-{record['DocumentId']}"}).encode()
    if kind == "not_utf8":
        return json.dumps(record).encode().replace(b'"Title": "', b'"Title": "\xff\xfe', 1)
    if kind == "plain_text":
        return f"GET /Search?criteria={record['Keywords'] or 'x'} HTTP/1.1 500".encode()
    return json.dumps(list(record.values())).encode()


def generate_day(spec: DaySpec, out_dir: Path) -> GenerateSummary:
    """Write the day's files into ``out_dir`` (replacing them) and return what was written."""
    spec.check()
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / file_name(spec.day, s) for s in range(spec.servers)]
    rng = random.Random(spec.seed)
    n_valid, n_dup, n_bad = spec.counts()
    catalog = _Catalog(
        spec.seed if spec.catalog_seed is None else spec.catalog_seed,
        spec.catalog_size or max(200, n_valid // 3),
    )
    summary = GenerateSummary(files=paths, lines_per_file=[0] * spec.servers)
    # Separate generators, so the rates do not change the clicks themselves.
    pick = random.Random(spec.seed + 1)
    dups_left, bad_left, valid_left = n_dup, n_bad, n_valid
    burst_rng = random.Random(spec.seed + 2)
    sizes = burst_sizes(burst_rng, spec.anomalous_sessions)
    bursts = _burst_plans(burst_rng, sizes)
    lengths = _session_lengths(rng, n_valid - sum(sizes))
    outs = [open(p, "wb") for p in paths]  # noqa: SIM115 - closed in finally
    try:
        sessions = _sessions(spec, rng, catalog, lengths, bursts)
        for at, _, server, record in _in_time_order(sessions):
            lines = [_encode(record, spec.with_event_time, at)]
            # Selection sampling: exactly n_dup / n_bad of the n_valid clicks are chosen.
            if dups_left and pick.random() * valid_left < dups_left:
                lines.append(lines[0])
                dups_left -= 1
            if bad_left and pick.random() * valid_left < bad_left:
                kind = MALFORMED_KINDS[pick.randrange(len(MALFORMED_KINDS))]
                lines.append(malformed_line(pick, record, kind))
                bad_left -= 1
            valid_left -= 1
            out = outs[server]
            for line in lines:
                out.write(line + b"\n")
            summary.lines_per_file[server] += len(lines)
    finally:
        for out in outs:
            out.close()
    summary.valid, summary.duplicates, summary.malformed = n_valid, n_dup, n_bad
    summary.lines = n_valid + n_dup + n_bad
    summary.sessions = len(lengths) + len(sizes)
    summary.anomalous = sizes
    return summary


def day_seed(seed: int, day: date) -> int:
    """A history day's seed: a stable function of the base seed and the date alone."""
    digest = hashlib.blake2b(f"{seed}:{day.isoformat()}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def history_specs(spec: DaySpec, days: int) -> list[DaySpec]:
    """The ``days`` consecutive days from ``spec.day``, sized by WEEKLY_SHAPE.

    ``spec.records`` is the mean day's size; every day draws from the catalog of ``spec``.
    """
    if not 1 <= days <= MAX_DAYS:
        raise UserError(f"--days {days}: give 1..{MAX_DAYS} consecutive days")
    spec.check()
    catalog_size = spec.catalog_size or max(200, spec.counts()[0] // 3)
    specs = []
    for i in range(days):
        d = spec.day + timedelta(days=i)
        specs.append(
            dataclasses.replace(
                spec,
                day=d,
                records=max(1, round(spec.records * WEEKLY_SHAPE[d.weekday()])),
                seed=day_seed(spec.seed, d),
                catalog_seed=spec.seed if spec.catalog_seed is None else spec.catalog_seed,
                catalog_size=catalog_size,
            )
        )
    return specs


def generate_days(spec: DaySpec, days: int, out_dir: Path) -> list[GenerateSummary]:
    """Write ``days`` consecutive days from ``spec.day`` into ``out_dir``, one file set a day."""
    specs = history_specs(spec, days)
    for s in specs:
        s.check()  # refuse before writing anything
    return [generate_day(s, out_dir) for s in specs]
