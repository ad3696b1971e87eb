"""Searches sorted by a stability value with entries that have none: the two parts (entries with a value, read
in order off the index; then those without, by id) are the single query's rows in its order, at every slice."""

import pytest
from django.http import QueryDict

from hull.models import Entry, Stability
from hull.search import (
    UNVALUED,
    VALUED,
    EntrySearch,
    SearchParts,
    search_entries,
    search_parts,
    sorts_by_missing_row,
)
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json

pytestmark = pytest.mark.django_db


def computed(formula: dict, energy_per_atom: float, name: str) -> dict:
    return {
        "@module": "pymatgen.entries.computed_entries",
        "@class": "ComputedEntry",
        "energy": energy_per_atom * sum(formula.values()),
        "composition": formula,
        "entry_id": name,
        "correction": 0.0,
        "data": {},
    }


@pytest.fixture
def catalogue(li_o_file, tmp_path):
    """The real Li-O space, three ML results (no row in the ``dft`` hull set) and two DFT entries with sulfur,
    which has no elemental reference (rows whose energies are empty, in both hull sets)."""
    ingest_file(path=li_o_file)
    li2o = Entry.objects.filter(reduced_formula="Li2O").order_by("energy_per_atom").first().energy_per_atom
    ml = [computed({"Li": 2, "O": 1}, li2o + shift, f"ml-{i}") for i, shift in enumerate((-0.1, 0.02, 0.3))]
    ingest_file(path=write_json(tmp_path / "ml.json", ml), source="ml", method="CHGNet", method_family="ml")
    sulfides = [computed({"Li": 2, "S": 1}, -4.0, "s-1"), computed({"Li": 1, "S": 1}, -3.5, "s-2")]
    ingest_file(path=write_json(tmp_path / "s.json", sulfides), source="sulfides")


def ids(rows) -> list[int]:
    return [row.pk for row in rows]


@pytest.mark.parametrize("hull_set", ["dft", "all"])
@pytest.mark.parametrize(
    "sort", ["e_above_hull", "-e_above_hull", "formation_energy_per_atom", "-formation_energy_per_atom"]
)
@pytest.mark.parametrize(
    "condition", ["", "elements=Li", "nelements_max=2&exclude_elements=S", "formula=Li2O"]
)
def test_the_parts_are_the_single_query_at_every_slice(catalogue, hull_set, sort, condition):
    search = EntrySearch.from_params(QueryDict(f"{condition}&sort={sort}&hull_set={hull_set}"))
    assert sorts_by_missing_row(search)
    single = ids(search_entries(search))
    valued, unvalued = search_parts(search)
    column = sort.lstrip("-")
    assert all(getattr(row, column) is not None for row in valued)
    assert all(getattr(row, column) is None for row in unvalued)
    boundary = valued.count()
    assert boundary > 0
    if condition in ("", "elements=Li"):  # the sulfides (empty values) and, in "dft", the ML entries
        assert unvalued.count() == (5 if hull_set == "dft" else 2)
    if condition == "formula=Li2O":
        assert unvalued.count() == (3 if hull_set == "dft" else 0)
    results = SearchParts([valued, unvalued], total=search_entries(search))
    assert results.count() == len(single)
    with pytest.raises(TypeError, match="no total to count"):
        SearchParts([valued, unvalued]).count()
    windows = [(0, 5), (0, len(single) + 3), (len(single) - 1, 10), (len(single) + 4, 3)]
    windows += [(max(0, boundary - 2), 5), (boundary, 3), (boundary + 1, 2), (max(0, boundary - 1), 1)]
    for start, size in windows:
        assert ids(results[start : start + size]) == single[start : start + size], (start, size)


def test_a_stability_condition_keeps_one_query(catalogue):
    for query in ("e_above_hull_max=0.1", "is_stable=true", "formation_energy_min=-3"):
        search = EntrySearch.from_params(QueryDict(f"{query}&sort=e_above_hull"))
        assert not sorts_by_missing_row(search) and len(search_parts(search)) == 1
    search = EntrySearch.from_params(QueryDict("sort=nsites"))
    assert not sorts_by_missing_row(search) and len(search_parts(search)) == 1


def test_the_first_part_joins_the_row_and_puts_the_elements_on_it(catalogue):
    search = EntrySearch.from_params(QueryDict("elements=Li&sort=e_above_hull"))
    sql = str(search_entries(search, part=VALUED).query)
    # the database reduces the outer join to an inner one: the condition rejects entries without a row
    assert '"e_above_hull" IS NOT NULL' in sql and 'stab."chemsys" IN' in sql
    assert "IS NULL" in str(search_entries(search, part=UNVALUED).query)
    rows = Stability.objects.filter(
        hull_set="dft", e_above_hull__isnull=False, entry__chemsys__name__contains="Li"
    )
    assert search_entries(search, part=VALUED).count() == rows.count()


def test_slices_are_read_in_slices_only(catalogue):
    search = EntrySearch.from_params(QueryDict("sort=e_above_hull"))
    results = SearchParts(search_parts(search), total=search_entries(search))
    with pytest.raises(TypeError, match="slices"):
        results[3]
