"""The catalogue's one read (hull/selectors/search.py). Searches sorted by a stability value with entries that have
none are read in two parts (entries with a value, in order off the index; then those without, by id): every
offset window and every walk of keyset cursors gives the single query's rows in its order."""

import pytest
from django.db.models import Q
from django.http import QueryDict

from hull.models import Entry, Stability
from hull.search import EntrySearch, search_condition, search_entries, search_order
from hull.selectors.search import InvalidCursor, Window, search_count, search_page, sorted_parts
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
    return [row.pk if isinstance(row, Entry) else row["id"] for row in rows]


def read(search: EntrySearch, window: Window):
    return search_page(
        condition=search_condition(search),
        hull_set=search.hull_set,
        order=search_order(search),
        columns=["public_id"],
        window=window,
    )


def parts_of(search: EntrySearch) -> list:
    return sorted_parts(
        condition=search_condition(search), hull_set=search.hull_set, order=search_order(search)
    )


@pytest.mark.parametrize("hull_set", ["dft", "all"])
@pytest.mark.parametrize(
    "sort", ["e_above_hull", "-e_above_hull", "formation_energy_per_atom", "-formation_energy_per_atom"]
)
@pytest.mark.parametrize(
    "condition", ["", "elements=Li", "nelements_max=2&exclude_elements=S", "formula=Li2O"]
)
def test_the_parts_are_the_single_query_at_every_window(catalogue, hull_set, sort, condition):
    search = EntrySearch.from_params(QueryDict(f"{condition}&sort={sort}&hull_set={hull_set}"))
    single = ids(search_entries(search))
    valued, unvalued = parts_of(search)
    column = sort.lstrip("-")
    assert all(getattr(row, column) is not None for row in valued)
    assert all(getattr(row, column) is None for row in unvalued)
    boundary = valued.count()
    assert boundary > 0
    if condition in ("", "elements=Li"):  # the sulfides (empty values) and, in "dft", the ML entries
        assert unvalued.count() == (5 if hull_set == "dft" else 2)
    if condition == "formula=Li2O":
        assert unvalued.count() == (3 if hull_set == "dft" else 0)
    assert search_count(condition=search_condition(search), hull_set=hull_set) == (len(single), False)
    windows = [(0, 5), (0, len(single) + 3), (len(single) - 1, 10), (len(single) + 4, 3)]
    windows += [(max(0, boundary - 2), 5), (boundary, 3), (boundary + 1, 2), (max(0, boundary - 1), 1)]
    for start, size in windows:
        page = read(search, Window(limit=size, offset=start))
        assert ids(page.rows) == single[start : start + size], (start, size)
        assert page.more == (start + size < len(single))
    for size in (1, 2, 3, boundary, len(single)):  # cursor by cursor, across the boundary
        seen, after = [], None
        while True:
            page = read(search, Window(limit=size, after=after))
            seen += ids(page.rows)
            if not page.more:
                break
            assert page.next_cursor == (page.rows[-1][column], page.rows[-1]["id"])
            after = page.next_cursor
        assert seen == single, size


def test_a_stability_condition_keeps_one_query(catalogue):
    for query in ("e_above_hull_max=0.1", "is_stable=true", "formation_energy_min=-3", "is_stable=false"):
        search = EntrySearch.from_params(QueryDict(f"{query}&sort=e_above_hull"))
        assert len(parts_of(search)) == 1
    assert len(parts_of(EntrySearch.from_params(QueryDict("sort=nsites")))) == 1
    assert len(parts_of(EntrySearch.from_params(QueryDict("sort=e_above_hull")))) == 2


def test_the_first_part_joins_the_row_and_puts_the_elements_on_it(catalogue):
    search = EntrySearch.from_params(QueryDict("elements=Li&sort=e_above_hull"))
    valued, unvalued = parts_of(search)
    sql = str(valued.query)
    # the database reduces the outer join to an inner one: the condition rejects entries without a row
    assert '"e_above_hull" IS NOT NULL' in sql and 'stab."chemsys" IN' in sql
    assert "IS NULL" in str(unvalued.query) and 'stab."chemsys" IN' not in str(unvalued.query)
    rows = Stability.objects.filter(
        hull_set="dft", e_above_hull__isnull=False, entry__chemsys__name__contains="Li"
    )
    assert valued.count() == rows.count()


def test_a_bad_cursor_is_refused_by_name(catalogue):
    search = EntrySearch.from_params(QueryDict("sort=created_at"))
    with pytest.raises(InvalidCursor, match="cursor"):
        read(search, Window(limit=3, after=("not a date", 1)))
    with pytest.raises(ValueError, match="one key"):
        search_page(
            condition=Q(),
            hull_set="dft",
            order=[("nsites", False), ("nelements", True)],
            columns=["id"],
            window=Window(limit=3, after=(1, 1)),
        )
