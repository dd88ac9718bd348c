"""The dashboard's numbers: the daily counters of a date range, added up (see docs/counters.md).

Only counters: no person, no number. The questionnaire's funnel: "reached" a step is
`node.<step>`; "left there" is the calls that ended there (`left.<step>`) or, when more,
the people who reached it and went on to none of the nodes it leads to.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import scriptview

MAX_DAYS = 366
FAILED = ("failed", "undelivered")


def date_range(args: Mapping[str, str], today: dt.date) -> tuple[dt.date, dt.date]:
    """`from`/`to` (YYYY-MM-DD) of a query, else the last 7 days; at most a year."""
    def parse(name: str) -> dt.date | None:
        try:
            return dt.date.fromisoformat((args.get(name) or "").strip())
        except ValueError:
            return None

    last = parse("to") or today
    first = parse("from") or last - dt.timedelta(days=6)
    if first > last:
        first, last = last, first
    if (last - first).days >= MAX_DAYS:
        first = last - dt.timedelta(days=MAX_DAYS - 1)
    return first, last


@dataclass
class Usage:
    """The counters of each day of a range."""

    days: dict[dt.date, dict[str, int]]

    def total(self, name: str) -> int:
        return sum(day.get(name, 0) for day in self.days.values())

    def series(self, name: str) -> list[int]:
        return [day.get(name, 0) for day in self.days.values()]

    def by_suffix(self, prefix: str) -> dict[str, int]:
        """{suffix: total} of the counters named `prefix<suffix>`, largest first."""
        totals: dict[str, int] = {}
        for day in self.days.values():
            for name, value in day.items():
                if name.startswith(prefix):
                    key = name[len(prefix):]
                    totals[key] = totals.get(key, 0) + value
        return dict(sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])))

    def names(self) -> list[str]:
        return sorted({name for day in self.days.values() for name in day})


def funnel(usage: Usage, script: Any) -> list[dict[str, Any]]:
    codes = scriptview.outcome_codes(script)

    def reached(node_id: str) -> int:
        count = usage.total(f"node.{node_id}")
        if node_id in codes:  # an outcome is also counted by its code
            count = max(count, usage.total(f"outcome.{codes[node_id]}"))
        return count

    rows = []
    for step in scriptview.questionnaire_steps(script):
        came, calls_left = reached(step.id), usage.total(f"left.{step.id}")
        went_on = sum(reached(n) for n in step.next_ids)
        rows.append({"step": step.id, "label": step.label, "reached": came,
                     "left": max(came - went_on, calls_left, 0), "left_calls": calls_left})
    return rows


def summary(usage: Usage, script: Any) -> dict[str, Any]:
    """Everything the dashboard shows, as the JSON of /console/api/stats."""
    days = list(usage.days)
    statuses = usage.by_suffix("sms.status.")
    seconds = usage.total("call.seconds")
    calls_ended = usage.total("call.count")
    names = {code: name for code, name, _, _ in scriptview.languages(script)}
    languages = usage.by_suffix("lang.")
    return {
        "from": days[0].isoformat(), "to": days[-1].isoformat(),
        "days": [{"date": day.isoformat(),
                  "texts": counters.get("sms.text", 0),
                  "calls": counters.get("voice.start", 0),
                  "call_minutes": round(counters.get("call.seconds", 0) / 60, 1),
                  "sms_conversations": counters.get("conversation.sms", 0),
                  "call_conversations": counters.get("conversation.voice", 0),
                  "optouts": counters.get("optout", 0), "optins": counters.get("optin", 0),
                  "sms_sent": counters.get("sms.out.messages", 0),
                  "sms_segments": counters.get("sms.out.segments", 0),
                  "sms_failed": sum(counters.get(f"sms.status.{s}", 0) for s in FAILED)}
                 for day, counters in usage.days.items()],
        "totals": {"texts": usage.total("sms.text"), "calls": usage.total("voice.start"),
                   "people": sum(languages.values()),
                   "calls_ended": calls_ended, "call_seconds": seconds,
                   "call_minutes": round(seconds / 60, 1),
                   "average_call_seconds": round(seconds / calls_ended) if calls_ended else 0,
                   "sms_sent": usage.total("sms.out.messages"),
                   "sms_segments": usage.total("sms.out.segments"),
                   "sms_failed": sum(statuses.get(s, 0) for s in FAILED),
                   "optouts": usage.total("optout"), "optins": usage.total("optin"),
                   "copies": usage.total("copy.requested"), "dials": usage.total("dial.requested"),
                   "not_understood": usage.total("invalid.sms") + usage.total("invalid.voice")},
        "languages": languages,
        "language_names": {code: names.get(code, code) for code in languages},
        "outcomes": usage.by_suffix("outcome."),
        "funnel": funnel(usage, script),
        "call_ends": usage.by_suffix("left."),
        "sms_statuses": statuses,
        "postcodes": usage.by_suffix("postcode."),
        "hours": {"calls": [usage.total(f"call.hour.{h:02d}") for h in range(24)],
                  "texts": [usage.total(f"sms.hour.{h:02d}") for h in range(24)]},
        "topics": {k: v for k, v in usage.by_suffix("node.").items() if k.startswith("topic.")},
    }


def to_csv(usage: Usage) -> str:
    """Every counter of the range: one row per counter, its total, then one column a day."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["counter", "total", *(day.isoformat() for day in usage.days)])
    for name in usage.names():
        writer.writerow([name, usage.total(name), *usage.series(name)])
    return out.getvalue()
