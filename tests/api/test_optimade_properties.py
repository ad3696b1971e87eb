"""OPTIMADE structures carry what users expect of a Materials Project mirror: the source's id, a version id
(immutable_id), the Hill formula, the Hermann-Mauguin symbol, the decomposition products and the stability values
with their hull set and evaluator; each declared in /info/structures, queryable where declared so."""

import pytest
from django.test import Client
from optimade.models import StructureResource
from pymatgen.core import Composition

from hull.models import Entry, Stability
from hull.stability_meaning import STABILITY_MEANING

pytestmark = pytest.mark.django_db

URL = "/optimade/v1/structures"
NEW = {
    "chemical_formula_hill": "string",
    "immutable_id": "string",
    "space_group_symbol_hermann_mauguin": "string",
    "_mdp_source_id": "string",
    "_mdp_hull_set": "string",
    "_mdp_decomposition": "list",
}
STABILITY = {
    "_mdp_energy_above_hull": "e_above_hull",
    "_mdp_formation_energy_per_atom": "formation_energy_per_atom",
    "_mdp_decomposition_energy": "decomposition_energy",
    "_mdp_is_stable": "is_stable",
}


@pytest.fixture
def served(catalogue) -> dict[str, dict]:
    body = Client().get(URL, {"page_limit": 500}).json()
    assert not body["meta"]["more_data_available"]
    return {item["id"]: item for item in body["data"]}


def ids(text: str, **params) -> list[str]:
    response = Client().get(URL, {"filter": text, "page_limit": 500, **params})
    assert response.status_code == 200, response.content[:500]
    return [item["id"] for item in response.json()["data"]]


def hill(reduced: str) -> str:
    """The Hill formula as the specification writes it, from pymatgen's formula unit."""
    amounts = Composition(reduced).get_el_amt_dict()
    first = [el for el in ("C", "H") if "C" in amounts and el in amounts]
    order = first + sorted(el for el in amounts if el not in first)
    return "".join(el + (str(int(amounts[el])) if amounts[el] != 1 else "") for el in order)


def test_every_new_property_is_declared_with_its_meaning():
    info = Client().get("/optimade/v1/info/structures").json()["data"]["properties"]
    for name, kind in NEW.items():
        assert info[name]["type"] == kind and info[name]["description"], name
    for name, field in STABILITY.items():
        description = info[name]["description"]
        assert description.startswith(STABILITY_MEANING[field]), name
        assert "hull set dft" in description and "_mdp_stability_source" in description, name
    assert "Not a stability flag" in info["_mdp_decomposition_energy"]["description"]
    assert info["_mdp_energy_above_hull"]["unit"] == "eV/atom"
    assert info["_mdp_source_id"]["sortable"] and info["immutable_id"]["sortable"]
    assert "_mdp_stability_source" in info


def test_the_new_properties_hold_the_catalogues_values_in_the_specifications_form(served):
    entries = {e.public_id: e for e in Entry.objects.filter(public_id__in=served)}
    stabilities = {
        s.entry.public_id: s for s in Stability.objects.filter(hull_set="dft").select_related("entry")
    }
    assert len(served) > 300
    for public_id, item in served.items():
        StructureResource(**item)  # the optimade package's model: Hill order, H-M pattern, types
        entry, attributes = entries[public_id], item["attributes"]
        assert attributes["_mdp_source_id"] == entry.source_id and entry.source_id.startswith(("mp-", "mvc-"))
        assert attributes["immutable_id"] == f"{public_id}:{entry.content_hash[:16]}"
        assert attributes["chemical_formula_hill"] == hill(entry.reduced_formula)
        symbol = attributes["space_group_symbol_hermann_mauguin"]
        assert symbol.replace(" ", "") == entry.spacegroup_symbol.replace("_", "")
        assert attributes["_mdp_hull_set"] == "dft"
        stability = stabilities[public_id]
        assert attributes["_mdp_energy_above_hull"] == stability.e_above_hull
        products = attributes["_mdp_decomposition"]
        assert products == [
            {"id": part["public_id"], "formula": part["formula"], "amount": part["amount"]}
            for part in stability.decomposition
        ]
        assert products and sum(part["amount"] for part in products) == pytest.approx(1.0)
        if stability.is_stable:  # a stable entry of the catalogue is its own decomposition
            assert [(part["id"], part["amount"]) for part in products] == [(public_id, 1.0)]
        else:
            assert public_id not in {part["id"] for part in products}
    hills = {item["attributes"]["chemical_formula_hill"] for item in served.values()}
    assert {"Li2O2", "O2", "Li2O", "Fe2O3"} <= hills  # pymatgen's formula units, spaces left out
    symbols = {item["attributes"]["space_group_symbol_hermann_mauguin"] for item in served.values()}
    assert {"F m -3 m", "P 63/m m c", "P 21/c"} & symbols


@pytest.mark.parametrize(
    ("name", "pick"),
    [
        ("_mdp_source_id", lambda values: values[len(values) // 2]),
        ("immutable_id", lambda values: values[3]),
        ("chemical_formula_hill", lambda values: "Li2O2"),
        ("chemical_formula_hill", lambda values: "FeLiO2"),
        ("space_group_symbol_hermann_mauguin", lambda values: "F m -3 m"),
        ("space_group_symbol_hermann_mauguin", lambda values: "P 21/c"),
    ],
)
def test_the_new_string_properties_filter_as_served(served, name, pick):
    values = sorted(item["attributes"][name] for item in served.values())
    value = pick(values)
    served_as = {public_id: item["attributes"][name] for public_id, item in served.items()}
    for op, test in (
        ("=", lambda a: a == value),
        ("!=", lambda a: a != value),
        ("<", lambda a: a < value),
        (">=", lambda a: a >= value),
    ):
        expected = {i for i, a in served_as.items() if a is not None and test(a)}
        assert set(ids(f'{name} {op} "{value}"')) == expected, (name, op, value)
    assert set(ids(f'{name} = "{value}"')), (name, value)
    start = value[:4]
    assert set(ids(f'{name} STARTS WITH "{start}"')) == {
        i for i, a in served_as.items() if a.startswith(start)
    }
    end = value[-3:]
    assert set(ids(f'{name} ENDS WITH "{end}"')) == {i for i, a in served_as.items() if a.endswith(end)}


def test_the_source_id_and_version_sort(served):
    for name in ("_mdp_source_id", "immutable_id"):
        for sign in ("", "-"):
            response = Client().get(URL, {"sort": sign + name, "page_limit": 500})
            values = [item["attributes"][name] for item in response.json()["data"]]
            assert values == sorted(values, reverse=sign == "-") and len(values) == len(served)


def test_a_materials_project_id_finds_its_structure(served):
    entry = Entry.objects.filter(source_id="mp-1960").first()
    assert entry is not None  # Li2O
    assert ids('_mdp_source_id = "mp-1960"') == [entry.public_id]
    assert ids('_mdp_hull_set = "dft"', page_limit=1)


def test_the_decomposition_is_declared_not_queryable(served):
    response = Client().get(URL, {"filter": '_mdp_decomposition HAS "x"'})
    assert response.status_code in (400, 501)
    assert "not queryable" in response.json()["errors"][0]["detail"]


def test_every_declared_property_can_be_asked_for_by_name(served):
    """``response_fields`` knows every property of /info/structures (the validator asks for random ones)."""
    info = Client().get("/optimade/v1/info/structures").json()["data"]["properties"]
    names = [name for name in info if name not in ("id", "type")]
    body = Client().get(URL, {"response_fields": ",".join(names), "page_limit": 1}).json()
    assert set(body["data"][0]["attributes"]) == set(names)
    assert "warnings" not in body["meta"]
    one = Client().get(URL, {"response_fields": "_mdp_stability_source", "page_limit": 1}).json()
    assert set(one["data"][0]["attributes"]) == {"_mdp_stability_source"}
