"""The small generic evaluator behind the questionnaire: dated parameters, household
ceilings from coefficients, and comparisons. Every figure comes from ivr_scripts/."""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any


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
    """The amounts general information quotes: 1 person, metropolitan France and overseas,
    and the CSS cost under both regimes (the caller's département is not known there)."""
    if "ceiling_base" not in parameters:
        return {}
    metro = ceilings(parameters, "metro", 1, today)
    dom = ceilings(parameters, "dom", 1, today)
    amounts: dict[str, Any] = {"ceiling_month": metro["ceiling_free_month"],
                               "part_month": metro["ceiling_part_month"],
                               "ceiling_month_dom": dom["ceiling_free_month"],
                               "part_month_dom": dom["ceiling_part_month"]}
    if "css_participation_monthly" in parameters:
        low, high = css_costs(parameters, "france", today)
        amounts.update(css_cost_min=low, css_cost_max=high)
        low, high = css_costs(parameters, "alsace_moselle", today)
        amounts.update(css_cost_min_am=low, css_cost_max_am=high)
    return amounts


def euros(amount: float) -> str:
    """An amount as written in France: 8, 2,80."""
    if float(amount).is_integer():
        return str(int(amount))
    return f"{amount:.2f}".replace(".", ",")


def css_costs(parameters: Mapping[str, Any], regime: str, today: dt.date) -> tuple[str, str]:
    """Lowest and highest monthly cost per person of the CSS with participation, under the
    general regime (`france`) or the régime local d'Alsace-Moselle (`alsace_moselle`)."""
    entry = in_force(parameters["css_participation_monthly"]["values"], today)
    by_age = (entry.get("by_regime") or {}).get(regime) or entry["by_age"]
    return euros(min(by_age.values())), euros(max(by_age.values()))


def forfait_logement(parameters: Mapping[str, Any], housing: str | None, household: int,
                     today: dt.date) -> int:
    """The yearly flat amount the CPAM adds to resources for the CSS when the household is
    housed free of charge (or owns its home: `free`) or receives a housing benefit
    (`benefit`): a share of the RSA for the household size (R.861-5 CSS). With a benefit it
    is at most the benefit itself; the hotline does not ask its amount and counts the forfait."""
    if housing not in ("free", "benefit") or "forfait_logement" not in parameters:
        return 0
    rates = in_force(parameters["forfait_logement"]["values"], today)[housing]
    rsa = parameters["rsa_base"]
    factors = rsa["household_factor"]["first"]
    size = min(max(household, 1), len(rates))
    monthly_rsa = in_force(rsa["values"], today)["amount"] * factors[min(size, len(factors)) - 1]
    return math.floor(12 * monthly_rsa * rates[size - 1])


def compute(parameters: Mapping[str, Any], facts: Mapping[str, Any],
            today: dt.date) -> dict[str, Any]:
    """Everything the questionnaire compares and says about money, from the caller's facts
    (territory, household, income_month, housing, regime) and the figures in force today.

    income_year is what the CPAM compares with the ceilings for the CSS: income plus the
    forfait logement. income_year_max is the most it could be with a forfait: the housing
    question is asked only when that changes the answer, and for AME (forfait not verified)
    it tells when to say plainly that the hotline cannot know."""
    household = int(facts.get("household") or 1)
    out = ceilings(parameters, facts.get("territory", "metro"), household, today)
    bare = int(facts.get("income_month") or 0) * 12
    forfait = forfait_logement(parameters, facts.get("housing"), household, today)
    most = max(forfait_logement(parameters, h, household, today) for h in ("free", "benefit"))
    out.update(income_year_bare=bare, forfait_year=forfait,
               forfait_month=round_about(forfait / 12), income_year=bare + forfait,
               income_year_max=bare + most)
    if "css_participation_monthly" in parameters:
        regime = "alsace_moselle" if facts.get("regime") == "alsace_moselle" else "france"
        out["css_cost_min"], out["css_cost_max"] = css_costs(parameters, regime, today)
        out["css_cost_min_am"], out["css_cost_max_am"] = css_costs(parameters, "alsace_moselle",
                                                                   today)
    return out


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
    """A condition is `[fact, op, value]` (value literal or `$fact`), or `{all: [...]}` /
    `{any: [...]}` of conditions."""
    if isinstance(condition, Mapping):
        if "all" in condition:
            return all(holds(c, facts) for c in condition["all"])
        if "any" in condition:
            return any(holds(c, facts) for c in condition["any"])
        raise ValueError(f"unknown condition {condition!r}")
    left, op, right = condition
    return _OPS[op](facts.get(left), value_of(right, facts))
