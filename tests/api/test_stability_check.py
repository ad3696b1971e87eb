"""``POST /api/v1/stability/`` gives pymatgen's answer for any composition and energy against the demo catalogue (the
3,176 Materials Project entries of the shared data), and refuses bad input with a 400 that names the field.

The reference is pymatgen's ``PhaseDiagram``: with the hypothetical entry added last for its energy above hull,
decomposition and stability, and without it for its formation energy and ``get_decomp_and_phase_separation_energy``.
"""

import json
import warnings

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.entries.computed_entries import ComputedEntry
from scipy.optimize import linprog

from hull.models import Entry
from hull.stability_meaning import STABILITY_MEANING
from tests.catalogue_files import ingested_until_exit, write_json

pytestmark = pytest.mark.django_db

TOL = 1e-6  # eV/atom and atom fractions: the engine agrees with pymatgen to ~1e-13
# pymatgen finds the decomposition energy of a phase below the others' hull with SLSQP, which stops up to ~1e-5
# eV/atom short of the minimum (Y2C2Cl2: 1.05e-5); there the reference is the same minimum solved exactly (HiGHS)
SLSQP_TOL = 1e-4
URL = "/api/v1/stability/"


def computed_entry_dict(item: dict) -> dict:
    """An MP entry without its structure: the check reads compositions and corrected energies only, and the
    catalogue loads in 1.5 s instead of 19 s."""
    keep = ("entry_id", "composition", "energy", "correction", "energy_adjustments", "parameters")
    return {
        "@module": "pymatgen.entries.computed_entries",
        "@class": "ComputedEntry",
        **{key: item[key] for key in keep if key in item},
        "data": {},
    }


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker, tmp_path_factory, mp_entry_dicts):
    """The demo catalogue (every MP entry), loaded once for the module and rolled back at its end; pymatgen's
    entries of it by MP id and the MP id of each public id."""
    items = [computed_entry_dict(item) for item in mp_entry_dicts]
    path = write_json(tmp_path_factory.mktemp("demo") / "demo.json", items)
    with ingested_until_exit(django_db_blocker, path):
        source_of = dict(Entry.objects.values_list("public_id", "source_id"))
        stored = dict(Entry.objects.values_list("source_id", "energy_per_atom"))
        entries = [ComputedEntry.from_dict(item) for item in items]
        assert len(source_of) == len(entries) == len(stored)
        assert all(stored[e.entry_id] == e.energy_per_atom for e in entries)  # ties below are exact ties
        yield Demo(entries, source_of)


class Demo:
    def __init__(self, entries: list[ComputedEntry], source_of: dict[str, str]) -> None:
        self.entries = entries
        self.source_of = source_of
        self.elements = sorted({el.symbol for e in entries for el in e.composition})
        self.systems = sorted({e.composition.chemical_system for e in entries})
        self._diagrams: dict[frozenset, PhaseDiagram] = {}

    def within(self, elements) -> list[ComputedEntry]:
        return [e for e in self.entries if {el.symbol for el in e.composition} <= set(elements)]

    def diagram(self, elements) -> PhaseDiagram:
        key = frozenset(elements)
        if key not in self._diagrams:
            self._diagrams[key] = PhaseDiagram(self.within(key))
        return self._diagrams[key]


def check(payload: dict) -> tuple[int, dict]:
    response = Client().post(URL, json.dumps(payload), content_type="application/json")
    return response.status_code, response.json()


def pymatgen_answer(demo: Demo, probe: PDEntry) -> dict:
    """What pymatgen says of a hypothetical entry against the catalogue."""
    elements = [el.symbol for el in probe.composition]
    catalogue = demo.diagram(elements)
    # the new entry last: at an equal energy the catalogue's entry of the composition stays the stable one
    with_probe = PhaseDiagram([*demo.within(elements), probe])
    decomposition, e_above_hull = with_probe.get_decomp_and_e_above_hull(probe)
    return {
        "is_stable": probe in with_probe.stable_entries,
        "e_above_hull": e_above_hull,
        "formation_energy_per_atom": catalogue.get_form_energy_per_atom(probe),
        "decomposition_energy": catalogue.get_decomp_and_phase_separation_energy(probe)[1],
        "decomposition": {e.entry_id: a for e, a in decomposition.items() if e is not probe and a > TOL},
    }


def separation_energy(demo: Demo, probe: PDEntry) -> float:
    """The probe's energy per atom less the lowest energy of any mixture of the catalogue's other compositions with
    its composition: the minimum pymatgen's ``get_decomp_and_phase_separation_energy`` approaches with SLSQP, here
    solved exactly as a linear programme."""
    elements = [el.symbol for el in probe.composition]
    reduced = probe.composition.reduced_composition
    others = [e for e in demo.within(elements) if e.composition.reduced_composition != reduced]
    fractions = [[e.composition.get_atomic_fraction(el) for e in others] for el in elements]
    target = [probe.composition.get_atomic_fraction(el) for el in elements]
    energies = [e.energy_per_atom for e in others]
    mixture = linprog(energies, A_eq=fractions, b_eq=target, bounds=(0, None), method="highs")
    assert mixture.status == 0, mixture.message
    return probe.energy_per_atom - mixture.fun


def test_the_decomposition_energy_is_the_exact_minimum_where_pymatgens_optimiser_stops_short(demo):
    """Y2C2Cl2 below the Y-C-Cl hull: pymatgen's SLSQP answer lies 1.05e-5 eV/atom below the exact minimum."""
    probe = hypothetical(Composition("Y2C2Cl2"), -43.7441 / 6)
    status, body = check({"composition": "Y2C2Cl2", "energy_per_atom": probe.energy_per_atom})
    exact = separation_energy(demo, probe)
    assert status == 200 and body["is_stable"]
    assert body["decomposition_energy"] == pytest.approx(exact, abs=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slsqp = demo.diagram(["C", "Cl", "Y"]).get_decomp_and_phase_separation_energy(probe)[1]
    assert 1e-6 < exact - slsqp < SLSQP_TOL


def hypothetical(comp: Composition, energy_per_atom: float) -> PDEntry:
    return PDEntry(comp, energy_per_atom * comp.num_atoms)


def assert_matches_pymatgen(demo: Demo, probe: PDEntry) -> dict:
    """The check's answer for ``probe`` (its energy per atom exactly as pymatgen computes it) equals pymatgen's."""
    formula = probe.composition.formula.replace(" ", "")
    status, body = check({"composition": formula, "energy_per_atom": probe.energy_per_atom})
    assert status == 200, body
    expected = pymatgen_answer(demo, probe)
    assert body["is_stable"] is expected["is_stable"]
    for name in ("e_above_hull", "formation_energy_per_atom"):
        assert body[name] == pytest.approx(expected[name], abs=TOL), name
    if expected["decomposition_energy"] < 0 and len(probe.composition) > 1:  # pymatgen's SLSQP path
        assert body["decomposition_energy"] == pytest.approx(expected["decomposition_energy"], abs=SLSQP_TOL)
        assert body["decomposition_energy"] == pytest.approx(separation_energy(demo, probe), abs=TOL)
    else:
        assert body["decomposition_energy"] == pytest.approx(expected["decomposition_energy"], abs=TOL)
    ours = {demo.source_of[part["public_id"]]: part["amount"] for part in body["decomposition"]}
    assert ours.keys() == expected["decomposition"].keys()
    for source_id, amount in expected["decomposition"].items():
        assert ours[source_id] == pytest.approx(amount, abs=TOL)
    if body["is_stable"]:  # below the hull of every other phase
        assert body["decomposition_energy"] < 0 and body["e_above_hull"] == 0 and body["decomposition"] == []
    else:
        assert body["e_above_hull"] >= 0
    return body


@pytest.mark.parametrize(
    ("formula", "energy", "e_above_hull"),
    [("LiCoNiO2", -3.0, 3.340), ("Li3MnNiCoO6", -6.0, 0.666), ("KYCl4", -4.2, 0.904)],
)
def test_the_reported_wrong_answers_are_unstable_now(demo, formula, energy, e_above_hull):
    """Compositions no catalogue entry has, above the hull: reported stable before (the probe's key was the
    engine's "no stable polymorph" mark)."""
    body = assert_matches_pymatgen(demo, hypothetical(Composition(formula), energy))
    assert body["is_stable"] is False and body["e_above_hull"] == pytest.approx(e_above_hull, abs=1e-3)


REGIMES = ("far above", "near above", "near below", "far below", "tie")


@st.composite
def hypothetical_entries(draw, demo: Demo) -> PDEntry:
    """A composition in a catalogue system or in a random one of up to five of its elements (mostly compositions
    no entry has), and an energy far above, near or far below pymatgen's hull, or equal to the catalogue's
    lowest energy of that composition."""
    if draw(st.booleans()):
        elements = draw(st.sampled_from(demo.systems)).split("-")
    else:
        elements = sorted(draw(st.sets(st.sampled_from(demo.elements), min_size=1, max_size=5)))
    regime = draw(st.sampled_from(REGIMES))
    same_system = [e for e in demo.within(elements) if len(e.composition) == len(elements)]
    if regime == "tie" and same_system:
        entry = draw(st.sampled_from(same_system))
        polymorphs = [
            e
            for e in same_system
            if e.composition.reduced_composition == entry.composition.reduced_composition
        ]
        lowest = min(polymorphs, key=lambda e: e.energy_per_atom)
        return PDEntry(lowest.composition, lowest.energy)  # the very same energy per atom
    if same_system and draw(st.booleans()):
        comp = draw(st.sampled_from(same_system)).composition
    else:
        comp = Composition({el: draw(st.integers(1, 8)) for el in elements})
    hull = demo.diagram(elements).get_hull_energy_per_atom(comp)
    size = {
        "far above": st.floats(0.3, 5.0),
        "near above": st.floats(1e-5, 0.05),
        "near below": st.floats(-0.05, -1e-5),
        "far below": st.floats(-5.0, -0.3),
        "tie": st.floats(-0.05, 0.05),  # no catalogue entry of the system to tie with
    }[regime]
    return hypothetical(comp, hull + draw(size))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_check_is_pymatgens_answer(demo, data):
    body = assert_matches_pymatgen(demo, data.draw(hypothetical_entries(demo)))
    event(f"stable: {body['is_stable']}, negative decomposition energy: {body['decomposition_energy'] < 0}")
    event(f"{len(body['chemsys'].split('-'))} elements")


def test_an_element_below_its_reference_is_stable_and_measured_against_it(demo):
    reference = demo.diagram(["Li"]).el_refs[Composition("Li").elements[0]]
    body = assert_matches_pymatgen(demo, hypothetical(Composition("Li"), reference.energy_per_atom - 0.25))
    assert body["is_stable"] and body["decomposition_energy"] == pytest.approx(-0.25)
    assert body["formation_energy_per_atom"] == pytest.approx(-0.25)
    tie = assert_matches_pymatgen(demo, PDEntry(reference.composition, reference.energy))
    assert tie["is_stable"] is False and tie["e_above_hull"] == 0


def test_an_element_without_a_reference_gives_no_numbers(demo):
    for composition in ({"Li": 1, "S": 1}, "S"):
        status, body = check({"composition": composition, "energy_per_atom": -4.0})
        assert status == 200 and body["missing_elements"] == ["S"]
        assert body["is_stable"] is None and body["e_above_hull"] is None and body["decomposition"] == []


def test_a_structure_and_a_total_energy_give_the_same_answer(demo):
    status, by_formula = check({"composition": "Li2O", "energy_per_atom": -4.5})
    structure = Structure(
        Lattice.cubic(4.6), ["Li", "Li", "O"], [[0, 0, 0], [0.5, 0.5, 0], [0.25, 0.25, 0.5]]
    )
    status_s, by_structure = check({"structure": structure.as_dict(), "energy": -13.5})
    status_t, by_total = check({"composition": {"Li": 4, "O": 2}, "energy": -27.0})
    assert status == status_s == status_t == 200
    assert by_formula == by_structure == by_total
    assert by_formula["reduced_formula"] == "Li2O" and by_formula["energy_per_atom"] == -4.5


LEAKS = ("Traceback", "not supported between", "object has no attribute", "<class", "Error:", "__")

BAD_INPUT = [
    # (payload, the field named, words of the message)
    ({"composition": "LiO", "energy_per_atom": True}, "energy_per_atom", "boolean"),
    ({"composition": "LiO", "energy": False}, "energy", "boolean"),
    ({"composition": "LiO", "energy_per_atom": "-3.0"}, "energy_per_atom", "must be a number"),
    ({"composition": "LiO", "energy_per_atom": "nan"}, "energy_per_atom", "must be a number"),
    ({"composition": "LiO", "energy_per_atom": None}, "energy_per_atom", "null"),
    ({"composition": "LiO", "energy_per_atom": [1.0]}, "energy_per_atom", "list"),
    ({"composition": "LiO", "energy_per_atom": 10**400}, "energy_per_atom", "out of range"),
    ({"composition": "LiO", "energy_per_atom": 5000.0}, "energy_per_atom", "out of range"),
    (
        {"composition": "LiO", "energy": 1e308 * 10},
        "energy",
        "finite",
    ),  # json writes Infinity: refused as JSON
    ({"composition": "LiO", "energy": 1e30}, "energy", "out of range"),
    ({"composition": "Xx2", "energy_per_atom": -3.0}, "composition", "Xx"),
    ({"composition": "li2o", "energy_per_atom": -3.0}, "composition", "li2o"),
    ({"composition": "Li2O)", "energy_per_atom": -3.0}, "composition", "not a formula"),
    ({"composition": "", "energy_per_atom": -3.0}, "composition", "not a formula"),
    ({"composition": "LiO0", "energy_per_atom": -3.0}, "composition", "amount of O"),
    ({"composition": "Li1e400O", "energy_per_atom": -3.0}, "composition", "finite"),
    ({"composition": "Li1e-300O", "energy_per_atom": -3.0}, "composition", "amount of Li"),
    ({"composition": "Li" * 150, "energy_per_atom": -3.0}, "composition", "characters"),
    ({"composition": {"Li": "1", "O": 1}, "energy_per_atom": -3.0}, "composition", "amount of Li"),
    ({"composition": {"Li": True, "O": 1}, "energy_per_atom": -3.0}, "composition", "boolean"),
    ({"composition": {"Li": -1, "O": 1}, "energy_per_atom": -3.0}, "composition", "positive"),
    ({"composition": {"Li": 0, "O": 1}, "energy_per_atom": -3.0}, "composition", "positive"),
    ({"composition": {"Li": 1e9, "O": 1}, "energy_per_atom": -3.0}, "composition", "at most"),
    ({"composition": {"Li": 1e-9, "O": 1}, "energy_per_atom": -3.0}, "composition", "at least"),
    ({"composition": {"Qq": 1}, "energy_per_atom": -3.0}, "composition", "Qq"),
    ({"composition": {"D": 2, "O": 1}, "energy_per_atom": -3.0}, "composition", "not an element"),
    ({"composition": {}, "energy_per_atom": -3.0}, "composition", "non-empty"),
    ({"composition": [["Li", 1]], "energy_per_atom": -3.0}, "composition", "formula"),
    ({"composition": 3, "energy_per_atom": -3.0}, "composition", "formula"),
    ({"composition": "LiNaKCoNiMnFeOCl", "energy_per_atom": -3.0}, "composition", "at most 8"),
    ({"composition": "LiNaKCoNiMnFeOClCP", "energy_per_atom": -3.0}, "composition", "at most"),
    ({"structure": {"lattice": 1}, "energy": -3.0}, "structure", "sites"),
    ({"structure": "Li2O", "energy": -3.0}, "structure", "JSON object"),
    ({"composition": "LiO", "structure": {}, "energy": -3.0}, "structure", "not both"),
    ({"energy_per_atom": -3.0}, "composition", "give a composition"),
    ({"composition": "LiO"}, "energy_per_atom", "give energy_per_atom"),
    ({"composition": "LiO", "energy": -6.0, "energy_per_atom": -3.0}, "energy", "not both"),
    ({"composition": "LiO", "energy_per_atm": -3.0}, "energy_per_atm", "unknown field"),
    ({"composition": "LiO", "energy_per_atom": -3.0, "hull_set": "nope"}, "hull_set", "nope"),
]


@pytest.mark.parametrize(("payload", "field", "words"), BAD_INPUT, ids=[str(p) for p, _, _ in BAD_INPUT])
def test_bad_input_is_a_400_that_names_the_field(demo, payload, field, words):
    text = json.dumps(payload)
    response = Client().post(URL, text, content_type="application/json")
    body = response.json()
    assert response.status_code == 400, body
    if "Infinity" in text:  # not JSON: refused by the parser, before any field
        assert "JSON" in body["detail"]
        return
    assert list(body) == [field], body
    message = " ".join(body[field])
    assert words in message, message
    assert not any(leak in message for leak in LEAKS), message


def test_a_form_post_and_a_body_that_is_no_object_are_refused(demo):
    form = Client().post(URL, {"composition": "LiO", "energy_per_atom": "-3.0"})
    assert form.status_code == 400 and "must be a number" in form.json()["energy_per_atom"][0]
    status, body = check(["LiO", -3.0])
    assert status == 400 and "dictionary" in json.dumps(body)


def test_every_output_field_says_what_it_means_in_the_schema():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    output = schema["components"]["schemas"]["StabilityCheckOutput"]["properties"]
    assert all(field.get("description") for field in output.values()), output
    assert "Not a stability flag" in output["decomposition_energy"]["description"]
    request = schema["components"]["schemas"]["StabilityCheckInputRequest"]["properties"]
    assert request["energy_per_atom"]["type"] == "number"


def test_every_stability_field_of_the_api_states_the_one_meaning():
    """The materials list, a material's stabilities, the phase diagram's entries and the stability check describe
    each stability value with the same text, which says that a negative decomposition energy is no stability flag."""
    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    described = {
        "Material": ("e_above_hull", "formation_energy_per_atom", "decomposition_energy", "is_stable"),
        "Stability": tuple(STABILITY_MEANING),
        "DiagramEntry": (
            "e_above_hull",
            "formation_energy_per_atom",
            "decomposition_energy",
            "is_stable",
            "decomposition",
        ),
        "StabilityCheckOutput": tuple(STABILITY_MEANING),
    }
    for schema, names in described.items():
        properties = schemas[schema]["properties"]
        for name in names:
            assert properties[name]["description"] == STABILITY_MEANING[name], (schema, name)
    assert "Not a stability flag" in STABILITY_MEANING["decomposition_energy"]
    assert "e_above_hull > 0" in STABILITY_MEANING["decomposition_energy"]


def test_a_polymorph_above_a_stable_entry_can_have_a_negative_decomposition_energy(demo):
    """Li2O is stable; an entry 0.1 eV/atom above it is not, yet it lies below every combination of the other
    phases: a negative decomposition energy that is no sign of stability (as pymatgen's)."""
    li2o = Composition("Li2O")
    stable = min(
        (e for e in demo.entries if e.composition.reduced_composition == li2o),
        key=lambda e: e.energy_per_atom,
    )
    body = assert_matches_pymatgen(demo, hypothetical(li2o, stable.energy_per_atom + 0.1))
    assert body["is_stable"] is False and body["e_above_hull"] == pytest.approx(0.1)
    assert body["decomposition_energy"] < 0
    assert [demo.source_of[part["public_id"]] for part in body["decomposition"]] == [stable.entry_id]
