"""The small generic evaluator behind the questionnaire: dated parameters, household
ceilings from coefficients, and comparisons. Every figure comes from ivr_scripts/."""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Mapping


def in_force(entries: list[Mapping[str, Any]], today: dt.date) -> Mapping[str, Any]:
    """The dated entry in force on `today`: the latest whose effective_from is not after it."""
    dated = sorted(entries, key=lambda e: e["effective_from"])
    current = dated[0]
    for entry in dated:
        if entry["effective_from"] <= today:
            current = entry
    return current


def household_coefficient(size: int, coefficients: Mapping[str, Any]) -> float:
    """1, 1.5, 1.8, 2.1 for 1-4 people, then a fixed step per extra person (R.861-3 CSS)."""
    table = list(coefficients["first"])
    if size <= len(table):
        return float(table[max(size, 1) - 1])
    return float(table[-1]) + (size - len(table)) * float(coefficients["each_extra"])


def ceilings(parameters: Mapping[str, Any], territory: str, household: int,
             today: dt.date) -> dict[str, Any]:
    """Annual and monthly ceilings for CSS-free (= AME) and CSS with participation."""
    base = in_force(parameters["ceiling_base"]["values"], today)
    coeffs = parameters["household_coefficients"]
    free = base["amount"] * household_coefficient(household, coeffs)
    if territory == "dom":
        free *= 1 + float(parameters["overseas_uplift"]["value"])
    part = free * (1 + float(parameters["participation_uplift"]["value"]))
    free_y, part_y = math.floor(free), math.floor(part)
    return {
        "ceiling_free_year": free_y,
        "ceiling_part_year": part_y,
        "ceiling_free_month": round_about(free_y / 12),
        "ceiling_part_month": round_about(part_y / 12),
        "ceiling_confirmed": bool(base.get("confirmed")),
        "ceiling_since": base["effective_from"].isoformat(),
    }


def reference_amounts(parameters: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """The amounts general information quotes: 1 person, metropolitan France and overseas."""
    if "ceiling_base" not in parameters:
        return {}
    metro = ceilings(parameters, "metro", 1, today)
    dom = ceilings(parameters, "dom", 1, today)
    amounts = {"ceiling_month": metro["ceiling_free_month"],
               "part_month": metro["ceiling_part_month"],
               "ceiling_month_dom": dom["ceiling_free_month"]}
    if "css_participation_monthly" in parameters:
        by_age = in_force(parameters["css_participation_monthly"]["values"], today)["by_age"]
        amounts.update(css_cost_min=min(by_age.values()), css_cost_max=max(by_age.values()))
    return amounts


def round_about(amount: float) -> int:
    """Amounts are spoken as "about": to the nearest ten euros."""
    return int(round(amount / 10.0) * 10)


_OPS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<=": lambda a, b: a is not None and b is not None and a <= b,
    "<": lambda a, b: a is not None and b is not None and a < b,
    ">=": lambda a, b: a is not None and b is not None and a >= b,
    ">": lambda a, b: a is not None and b is not None and a > b,
    "in": lambda a, b: a in b,
}


def value_of(term: Any, facts: Mapping[str, Any]) -> Any:
    """A literal, or a fact when written `$name`; `$a*1.05` scales a fact (for margins)."""
    if isinstance(term, str) and term.startswith("$"):
        name, _, factor = term[1:].partition("*")
        value = facts.get(name)
        if factor and value is not None:
            return value * float(factor)
        return value
    return term


def holds(condition: Any, facts: Mapping[str, Any]) -> bool:
    """A condition is `[fact, op, value]` (value literal or `$fact`), or `{all: [...]}` / `{any: [...]}` of conditions."""
    if isinstance(condition, Mapping):
        if "all" in condition:
            return all(holds(c, facts) for c in condition["all"])
        if "any" in condition:
            return any(holds(c, facts) for c in condition["any"])
        raise ValueError(f"unknown condition {condition!r}")
    left, op, right = condition
    return _OPS[op](facts.get(left), value_of(right, facts))
