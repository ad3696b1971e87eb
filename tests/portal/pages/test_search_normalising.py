"""The search page reads what people type: formulas and systems in any case and order, space groups in their
common spellings, anonymous formulas that keep named elements (ABO3: oxides); units and labels on every input,
no band-gap filter without band gaps, and the results exported as CSV and JSON Lines. Over the real K-Cl-O
entries of the Materials Project (KClO3 is an ABO3 oxide, K3ClO is not; three entries are P6_3/mmc)."""

import csv
import io
import json
import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from pymatgen.core import Composition
from pymatgen.symmetry.groups import SpaceGroup

from hull.models import Entry
from tests.conftest import subset
from tests.portal.pages.conftest import _module_catalogue

pytestmark = pytest.mark.django_db
K_CL_O = {"K", "Cl", "O"}


@pytest.fixture(scope="module")
def k_cl_o_module(django_db_setup, django_db_blocker, tmp_path_factory, mp_entry_dicts):
    with _module_catalogue(
        django_db_blocker, subset(mp_entry_dicts, K_CL_O), tmp_path_factory.mktemp("k_cl_o")
    ) as report:
        yield report


@pytest.fixture
def k_cl_o(k_cl_o_module, db):
    cache.clear()  # the band-gap question is kept per catalogue state; a test may change band gaps
    return k_cl_o_module


def found(client, query: str):
    """The entries a search page lists (all of them: the largest page)."""
    response = client.get("/search/", {**query, "per_page": 200})
    assert response.status_code == 200, response.content.decode()[:2000]
    return list(response.context["page"].object_list), response.content.decode()


def is_abo3_oxide(formula: str) -> bool:
    """pymatgen's reading of ABO3 with O oxygen: three elements in 1:1:3, oxygen the 3."""
    composition = Composition(formula).reduced_composition
    amounts = sorted(composition.get_el_amt_dict().values())
    return amounts == [1, 1, 3] and composition["O"] == 3


@pytest.mark.parametrize("typed", ["kclo3", "KCLO3", "O3ClK", "ClKO3"])
def test_formulas_in_any_case_and_order(client, k_cl_o, typed):
    entries, html = found(client, {"formula": typed})
    expected = Entry.objects.filter(reduced_formula=Composition("KClO3").reduced_formula)
    assert entries and {e.public_id for e in entries} == {e.public_id for e in expected}
    if typed.islower() or typed.isupper():
        assert f"Formula “{typed}” read as <strong>KClO3</strong>" in html
    else:
        assert 'id="search-readings"' not in html  # written with its case: read as written


def test_an_ambiguous_formula_says_its_reading_and_links_the_others(client, k_cl_o):
    entries, html = found(client, {"formula": "co"})
    assert entries == []
    assert "Formula “co” read as <strong>Co</strong>" in html
    link = re.search(r'<a href="([^"]+)" class="other-reading">CO</a>', html)
    assert link and "formula=CO" in link.group(1)
    assert "The catalogue holds no Co entries" in html


def test_chemical_systems_and_elements_in_any_case(client, k_cl_o):
    typed, html = found(client, {"chemsys": "o-k-cl"})
    written, _ = found(client, {"chemsys": "Cl-K-O"})
    assert typed and [e.public_id for e in typed] == [e.public_id for e in written]
    assert "Chemical system “o-k-cl” read as <strong>O-K-Cl</strong>" in html
    lower, _ = found(client, {"elements": "k,cl"})
    assert lower and all({"K", "Cl"} <= set(e.chemsys_id.split("-")) for e in lower)


@pytest.mark.parametrize("typed", ["P63/mmc", "p63/mmc", "P 63/m m c", "P6_3/mmc", "194", "P 6_3/m 2/m 2/c"])
def test_space_groups_in_common_spellings(client, k_cl_o, typed):
    number = SpaceGroup("P6_3/mmc").int_number
    entries, html = found(client, {"spacegroup_symbol": typed})
    expected = Entry.objects.filter(spacegroup_number=number)
    assert entries and {e.public_id for e in entries} == {e.public_id for e in expected}
    assert all(e.spacegroup_symbol == "P6_3/mmc" for e in entries)
    assert f"Space group “{typed}” read as <strong>P6_3/mmc (number {number})</strong>" in html


@pytest.mark.parametrize("typed", ["ABO3", "abo3", "BAO3", "A2B2O6"])
def test_abo3_finds_the_oxides_only(client, k_cl_o, typed):
    entries, html = found(client, {"anonymous_formula": typed})
    expected = {e.public_id for e in Entry.objects.all() if is_abo3_oxide(e.reduced_formula)}
    assert expected and {e.public_id for e in entries} == expected
    assert Entry.objects.filter(reduced_formula="K3ClO").exists()  # A3BC too, but O is not the 3
    assert "read as <strong>ABO3</strong> (A, B: any elements, each a different one; O: oxygen)" in html


def test_fully_anonymous_formulas_stay_anonymous(client, k_cl_o):
    entries, _ = found(client, {"anonymous_formula": "AB2"})
    expected = {
        e.public_id for e in Entry.objects.all() if Composition(e.reduced_formula).anonymized_formula == "AB2"
    }
    assert expected and {e.public_id for e in entries} == expected
    three, _ = found(client, {"anonymous_formula": "ABC3"})
    assert {e.reduced_formula for e in three} >= {"KClO3", "K3ClO"}


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"formula": "xyz"}, "'xyz'"),
        ({"spacegroup_symbol": "P7"}, "'P7'"),
        ({"spacegroup_symbol": "231"}, "'231'"),
        ({"spacegroup_symbol": "P-3m"}, "P-31m (162) or P-3m1 (164)"),
        ({"anonymous_formula": "A2.3.4B"}, "'A2.3.4B'"),
        ({"chemsys": "k-qq"}, "'qq'"),
        ({"spacegroup_symbol": "Fm-3m", "spacegroup_number": "194"}, "'Fm-3m' is space group 225"),
    ],
)
def test_refusals_are_clear_and_name_the_input(client, k_cl_o, query, named):
    response = client.get("/search/", query)
    assert response.status_code == 400
    error = re.search(r'id="search-error">(.*?)</p>', response.content.decode(), re.S).group(1)
    assert named in error.replace("&#x27;", "'")


class Inputs(HTMLParser):
    """The search form's inputs and selects, each with the text of the label around it."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: list[list[str]] = []  # open labels' text
        self.fields: list[tuple[dict, str | None]] = []
        self.pending: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.labels.append([])
        elif tag in ("input", "select") and attrs.get("type") != "hidden":
            self.fields.append((attrs, None))
            if self.labels:
                self.pending.append(attrs)

    def handle_data(self, data):
        for label in self.labels:
            label.append(data)

    def handle_endtag(self, tag):
        if tag == "label" and self.labels:
            text = " ".join("".join(self.labels.pop()).split())
            for attrs in self.pending:
                self.fields = [(a, text if a is attrs else t) for a, t in self.fields]
            self.pending = []


def test_every_input_has_a_label_and_numbers_their_units(client, k_cl_o):
    _, html = found(client, {})
    parser = Inputs()
    parser.feed(html)
    labels = {attrs.get("name"): text for attrs, text in parser.fields}
    unlabelled = [attrs for attrs, text in parser.fields if not text]
    assert not unlabelled
    for name in ("e_above_hull_min", "e_above_hull_max", "formation_energy_min", "formation_energy_max"):
        assert labels[name].endswith("eV/atom"), labels[name]
    assert "spacegroup_symbol" in labels and "spacegroup_number" not in labels
    assert 'placeholder="ABO3 (O: oxygen)"' in html and "abo3 is ABO3" in html


def test_no_band_gap_filter_without_band_gaps(client, k_cl_o):
    assert not Entry.objects.filter(band_gap__isnull=False).exists()
    _, html = found(client, {})
    assert 'name="band_gap_min"' not in html and 'value="band_gap"' not in html
    assert "No entry of the catalogue has a band gap" in html
    Entry.objects.filter(pk=Entry.objects.order_by("id").values("pk")[:1]).update(band_gap=1.5)
    cache.clear()
    _, html = found(client, {})
    labels = {attrs.get("name"): text for attrs, text in _fields(html)}
    assert labels["band_gap_min"].endswith(" eV") and 'value="band_gap"' in html
    assert "No entry of the catalogue has a band gap" not in html


def _fields(html: str):
    parser = Inputs()
    parser.feed(html)
    return parser.fields


@pytest.mark.parametrize(
    "query",
    [
        {"anonymous_formula": "abo3"},
        {"spacegroup_symbol": "p63/mmc", "sort": "-formula"},
        {"formula": "kclo3", "is_stable": "false"},
    ],
)
def test_exports_carry_the_search(client, k_cl_o, query):
    entries, html = found(client, query)
    wanted = [e.public_id for e in entries]
    assert wanted
    links = {
        fmt: re.search(rf'<a href="([^"]+)" id="export-{fmt}" download>', html).group(1).replace("&amp;", "&")
        for fmt in ("csv", "jsonl")
    }
    assert all(link.startswith("/api/v1/materials/export/?") for link in links.values())
    response = client.get(links["csv"])
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["public_id"] for row in rows] == wanted
    response = client.get(links["jsonl"])
    assert response.status_code == 200
    lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
    assert [line["public_id"] for line in lines] == wanted
    for row, line in zip(rows, lines, strict=True):
        assert row["e_above_hull"] == ("" if line["e_above_hull"] is None else repr(line["e_above_hull"]))
        assert row["elements"] == " ".join(line["elements"])


def test_hull_sets_without_entries_are_not_offered(client, k_cl_o):
    from hull.hull_sets import HULL_SETS
    from hull.models import Stability

    _, html = found(client, {})
    options = dict(re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', html))
    for name in HULL_SETS:
        filled = Stability.objects.filter(hull_set=name).exists()
        assert options[name] == (name if filled else f"{name} (no entries)")
        assert (f'<option value="{name}" disabled>' in html) == (not filled)
    assert any(not Stability.objects.filter(hull_set=name).exists() for name in HULL_SETS)


def test_sources_and_methods_are_picked_from_those_the_catalogue_holds(client, k_cl_o):
    """Source and method match exactly, so the page offers the catalogue's own values (a typed "MP" found nothing);
    a value a link names that the catalogue lacks stays picked and finds nothing."""
    entry = Entry.objects.order_by("id").first()
    Entry.objects.filter(pk=entry.pk).update(source="my-lab", method="PBE (my group)")
    cache.clear()
    _, html = found(client, {})
    for name in ("source", "method"):
        select = re.search(rf'<select name="{name}" multiple[^>]*>(.*?)</select>', html, re.S).group(1)
        offered = re.findall(r"<option(?: selected)?>([^<]+)</option>", select)
        assert offered == sorted(set(Entry.objects.values_list(name, flat=True))) and len(offered) >= 2
        assert "selected" not in select
    rows, html = found(client, {"source": "my-lab"})
    assert [row.public_id for row in rows] == [entry.public_id]
    assert "<option selected>my-lab</option>" in html and "<option>mp</option>" in html
    rows, _ = found(client, {"method": ["PBE (my group)", entry_method_other(entry)]})
    assert len(rows) == Entry.objects.count()
    rows, html = found(client, {"source": "nowhere"})
    assert not rows and "<option selected>nowhere</option>" in html


def entry_method_other(entry) -> str:
    """The method of every other entry of the catalogue (they share one)."""
    (method,) = set(Entry.objects.exclude(pk=entry.pk).values_list("method", flat=True))
    return method
