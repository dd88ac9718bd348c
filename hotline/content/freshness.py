"""Freshness of the dated figures and sources: how old each is, and which are past validity.

Pure functions over the loaded script (parameters and messages) and today's date, used by
`hotline content check`. A dated figure in force today is stale when today is after its
`valid_until`, or, for a figure marked `revalued: april` (the CSS/AME ceiling, the RSA), after
the 31 March that follows its latest entry: the April revaluation was not entered.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from . import rules


def valid_until(spec: Mapping[str, Any], entry: Mapping[str, Any]) -> dt.date | None:
    """The last day an entry may be used: its own `valid_until`, else the April rule."""
    if entry.get("valid_until"):
        return entry["valid_until"]
    if spec.get("revalued") == "april":
        start = entry["effective_from"]
        year = start.year + (1 if (start.month, start.day) >= (4, 1) else 0)
        return dt.date(year, 3, 31)
    return None


def parameter_freshness(parameters: Mapping[str, Any], today: dt.date
                        ) -> tuple[list[str], list[str]]:
    """(faults, notes): a figure in force past its validity is a fault; every figure's
    entry in force and the age of its `checked` date are notes."""
    faults: list[str] = []
    notes: list[str] = []
    for name, spec in parameters.items():
        if not isinstance(spec, Mapping):
            continue
        checked = spec.get("checked")
        age = f", checked {(today - checked).days} days ago" if isinstance(checked, dt.date) else ""
        values = spec.get("values")
        if not values:
            notes.append(f"freshness {name}: undated{age}")
            continue
        entry = rules.in_force(values, today)
        until = valid_until(spec, entry)
        state = "confirmed" if entry.get("confirmed") else "UNCONFIRMED"
        notes.append(f"freshness {name}: in force since {entry['effective_from']} ({state})"
                     + (f", valid until {until}" if until else "") + age)
        if until is not None and today > until:
            faults.append(f"parameter {name}: the entry of {entry['effective_from']} expired "
                          f"on {until}; add the new figure with its source")
    return faults, notes


def source_ages(messages: Mapping[str, Any], today: dt.date) -> list[str]:
    """One note: how old the `checked` dates of the factual messages are (oldest first)."""
    dated = sorted((m.checked, mid) for mid, m in messages.items() if m.checked)
    if not dated:
        return []
    oldest, mid = dated[0]
    return [(f"freshness messages: {len(dated)} dated, oldest {mid} checked {oldest} "
             f"({(today - oldest).days} days ago), newest {dated[-1][0]}")]
