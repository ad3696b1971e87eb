"""The shared catalogue search: parameters, validation and results on the real Li-O space."""

import re

import pytest
from django.http import QueryDict

from hull.errors import CatalogueError
from hull.models import Entry, Stability
from hull.search import EntrySearch, search_entries
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(li_o_file):
    ingest_file(path=li_o_file)


def run(query: str):
    return list(search_entries(EntrySearch.from_params(QueryDict(query))))


def test_formula_matches_reduced_formula(catalogue):
    rows = run("formula=Li4O2")
    assert rows and {row.reduced_formula for row in rows} == {"Li2O"}


def test_anonymous_formula_in_any_order(catalogue):
    assert {r.reduced_formula for r in run("anonymous_formula=AB2")} == {
        r.reduced_formula for r in run("anonymous_formula=A2B")
    }
    assert "Li2O" in {r.reduced_formula for r in run("anonymous_formula=AB2")}


def test_wildcard_chemsys(catalogue):
    assert {r.chemsys_id for r in run("chemsys=Li-*")} == {"Li-O"}
    assert {r.chemsys_id for r in run("chemsys=*")} == {"Li", "O"}
    assert {r.chemsys_id for r in run("chemsys=O-Li")} == {"Li-O"}


def test_stability_filters_and_sort(catalogue):
    stable = run("is_stable=true&sort=formation_energy_per_atom")
    assert stable and all(r.is_stable for r in stable)
    energies = [r.formation_energy_per_atom for r in stable]
    assert energies == sorted(energies)
    near = run("e_above_hull_max=0.05&sort=-e_above_hull")
    assert all(r.e_above_hull <= 0.05 for r in near)
    assert [r.e_above_hull for r in near] == sorted((r.e_above_hull for r in near), reverse=True)


@pytest.mark.parametrize("hull_set", ["dft", "all"])
def test_stability_conditions_apply_to_the_hull_sets_row(catalogue, hull_set):
    rows = {
        s.entry_id: s for s in Stability.objects.filter(hull_set=hull_set).exclude(e_above_hull__isnull=True)
    }
    query = (
        f"hull_set={hull_set}&e_above_hull_min=0.01&e_above_hull_max=0.2&formation_energy_max=-0.5&sort=id"
    )
    expected = sorted(
        pk for pk, s in rows.items() if 0.01 <= s.e_above_hull <= 0.2 and s.formation_energy_per_atom <= -0.5
    )
    assert expected and [r.pk for r in run(query)] == expected
    stable = sorted(pk for pk, s in rows.items() if s.is_stable)
    unstable = sorted(pk for pk, s in rows.items() if s.is_stable is False)
    assert [r.pk for r in run(f"hull_set={hull_set}&is_stable=true&sort=id")] == stable
    assert [r.pk for r in run(f"hull_set={hull_set}&is_stable=false&sort=id")] == unstable


def test_element_lists_repeat_or_comma(catalogue):
    assert len(run("elements=Li&elements=O")) == len(run("elements=Li,O")) == 25
    assert len(run("elements_only=Li")) == 9
    assert len(run("elements_any=Li&exclude_elements=O")) == 9


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("elements=Xx", "unknown element 'Xx'"),
        ("chemsys=Li--O", "malformed chemical system"),
        ("chemsys=C-Cl-K-Li-Na-O-P-Y-Fe", "has 9 elements; at most 8"),
        ("e_above_hull_max=abc", "parameter 'e_above_hull_max' is 'abc'"),
        ("e_above_hull_max=nan", "parameter 'e_above_hull_max' is 'nan'"),
        ("nsites_min=10&nsites_max=2", "nsites_min (10) is larger than nsites_max (2)"),
        ("hull_set=mine", "unknown hull set 'mine'"),
        ("sort=colour", "cannot sort by 'colour'"),
        ("formula=Qq2O", "cannot read formula"),
        ("spacegroup_number=231", "between 1 and 230"),
        ("is_stable=maybe", "parameter 'is_stable' is 'maybe'"),
    ],
)
def test_bad_parameters_name_what_is_wrong(query, message):
    with pytest.raises(CatalogueError, match=re.escape(message)):
        EntrySearch.from_params(QueryDict(query))


@pytest.fixture
def with_ml_entries(catalogue, tmp_path):
    """The Li-O space plus two ML results (rows in the "all" hull set only)."""
    li2o = Entry.objects.filter(reduced_formula="Li2O").order_by("energy_per_atom").first()
    items = [
        {
            "@module": "pymatgen.entries.computed_entries",
            "@class": "ComputedEntry",
            "energy": (li2o.energy_per_atom + shift) * 3,
            "composition": {"Li": 2, "O": 1},
            "entry_id": f"ml-{i}",
            "correction": 0.0,
            "data": {},
        }
        for i, shift in enumerate((-0.1, 0.02))
    ]
    ingest_file(
        path=write_json(tmp_path / "ml.json", items), source="ml", method="CHGNet", method_family="ml"
    )
    return set(Entry.objects.filter(source="ml").values_list("pk", flat=True))


@pytest.mark.parametrize("hull_set", ["dft", "all"])
@pytest.mark.parametrize(
    "condition",
    [
        "",
        "e_above_hull_max=0.05",
        "e_above_hull_min=0.01",
        "is_stable=true",
        "is_stable=false",
        "formation_energy_max=-1",
    ],
)
@pytest.mark.parametrize(
    "elements", ["elements=Li,O", "elements_only=Li", "elements_any=Li&exclude_elements=O"]
)
def test_element_searches_with_and_without_stability_conditions(
    with_ml_entries, hull_set, condition, elements
):
    """Element conditions move onto the stability row's copy of the system when a stability condition needs the
    row; results equal a direct reading of the rows either way, and entries without a row in the hull set
    (ML results in dft) match only searches without a stability condition."""
    query = "&".join(part for part in (f"hull_set={hull_set}", elements, condition, "sort=id") if part)
    search = EntrySearch.from_params(QueryDict(query))
    sql = str(search_entries(search).query)
    wanted = {
        "elements=Li,O": lambda c: {"Li", "O"} <= set(c),
        "elements_only=Li": lambda c: set(c) <= {"Li"},
        "elements_any=Li&exclude_elements=O": lambda c: "Li" in c and "O" not in c,
    }[elements]
    rows = {s.entry_id: s for s in Stability.objects.filter(hull_set=hull_set)}
    test = {
        "": lambda s: True,
        "e_above_hull_max=0.05": lambda s: (
            s is not None and s.e_above_hull is not None and s.e_above_hull <= 0.05
        ),
        "e_above_hull_min=0.01": lambda s: (
            s is not None and s.e_above_hull is not None and s.e_above_hull >= 0.01
        ),
        "is_stable=true": lambda s: s is not None and s.is_stable is True,
        "is_stable=false": lambda s: s is not None and s.is_stable is False,
        "formation_energy_max=-1": lambda s: (
            s is not None and s.formation_energy_per_atom is not None and s.formation_energy_per_atom <= -1
        ),
    }[condition]
    expected = sorted(
        pk
        for pk, composition in Entry.objects.values_list("pk", "composition")
        if wanted(composition) and test(rows.get(pk))
    )
    assert [r.pk for r in run(query)] == expected
    assert ('stab."chemsys" IN' in sql) == bool(condition)
    if elements == "elements=Li,O" and not condition:
        assert with_ml_entries <= set(expected)  # found, with no row in dft
    if hull_set == "dft" and condition:
        assert not with_ml_entries & set(expected)
