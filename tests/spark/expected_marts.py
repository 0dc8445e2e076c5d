"""The four marts computed with plain Python from TripClick JSON lines, for comparison.

Written from ARCHITECTURE 3.5 alone, without the jobs' code, so a shared mistake
cannot make both sides agree.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

_DATE = re.compile(r"^/Date\((\d+)\)/$")


def clicks(paths: list[Path]) -> list[dict]:
    """The distinct valid clicks of the files (same session, document and time = one click)."""
    seen, out = set(), []
    for path in paths:
        for line in path.read_bytes().splitlines():
            try:
                obj = json.loads(line.decode("utf-8"))
            except ValueError:  # not UTF-8 or not JSON
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("SessionId"), str):
                continue
            m = _DATE.match(str(obj.get("DateCreated", "")))
            if not m or type(obj.get("DocumentId")) is not int:
                continue
            ms = int(m.group(1))
            key = (obj["SessionId"], obj["DocumentId"], ms)
            if key in seen:
                continue
            seen.add(key)
            ts = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=ms)
            areas = {a.strip() for a in obj.get("ClinicalAreas", "").split(",") if a.strip()}
            out.append(
                {
                    "ts": ts,
                    "session": obj["SessionId"],
                    "doc": obj["DocumentId"],
                    "title": obj.get("Title", ""),
                    "areas": areas,
                }
            )
    return out


def marts(rows: list[dict]) -> dict[str, list[dict]]:
    """The marts of one day in the shape of ``tripclick gold dump``."""
    day = rows[0]["ts"].date().isoformat()
    hours = Counter(r["ts"].hour for r in rows)
    peak = min(hours, key=lambda h: (-hours[h], h))
    daily = [
        {
            "event_date": day,
            "total_events": len(rows),
            "unique_sessions": len({r["session"] for r in rows}),
            "unique_documents": len({r["doc"] for r in rows}),
            "peak_hour": peak,
        }
    ]

    by_session = defaultdict(list)
    for r in rows:
        by_session[r["session"]].append(r)
    sessions = []
    for sid in sorted(by_session):
        rs = by_session[sid]
        first, last = min(r["ts"] for r in rs), max(r["ts"] for r in rs)
        sessions.append(
            {
                "session_id": sid,
                "event_date": day,
                "click_count": len(rs),
                "unique_docs": len({r["doc"] for r in rs}),
                "first_click_ts": first.isoformat(),
                "last_click_ts": last.isoformat(),
                "session_duration_sec": (last - first).total_seconds(),
            }
        )

    area_clicks, area_sessions = Counter(), defaultdict(set)
    for r in rows:
        for a in r["areas"]:
            area_clicks[a] += 1
            area_sessions[a].add(r["session"])
    areas = [
        {
            "event_date": day,
            "clinical_area": a,
            "search_count": area_clicks[a],
            "unique_sessions": len(area_sessions[a]),
        }
        for a in sorted(area_clicks)
    ]

    views, doc_sessions, latest = Counter(), defaultdict(set), {}
    for r in rows:
        views[r["doc"]] += 1
        doc_sessions[r["doc"]].add(r["session"])
        if r["doc"] not in latest or (r["ts"], r["title"]) > latest[r["doc"]]:
            latest[r["doc"]] = (r["ts"], r["title"])
    ranked = sorted(views, key=lambda d: (-views[d], d))
    docs = [
        {
            "event_date": day,
            "document_id": d,
            "title": latest[d][1],
            "view_count": views[d],
            "unique_sessions": len(doc_sessions[d]),
            "rank": i,
        }
        for i, d in enumerate(ranked, 1)
    ]
    return {
        "mart_daily_traffic": daily,
        "mart_session_analysis": sessions,
        "mart_clinical_areas": areas,
        "mart_popular_documents": docs,
    }
