"""Element queries ("contains all", "any", "only these", "exclude") behave the same on SQLite and PostgreSQL; the
pair table that answers "contains all" holds every ordered pair of each system's elements."""

import itertools
import random

import pytest

from hull.errors import CatalogueError
from hull.models import ChemicalSystem, ChemicalSystemPair
from hull.search import EntrySearch, search_condition, search_entries, search_order
from hull.selectors.elements import (
    _names_holding,
    chemsys_names_with_elements,
    chemsys_with_elements,
    entries_with_elements,
    system_holds,
)
from hull.selectors.search import sorted_parts
from hull.services.chemsys import chemsys_ensure

pytestmark = pytest.mark.django_db

SYSTEMS = ["Li", "O", "Fe", "Li-O", "Fe-O", "Fe-Li-O", "Fe-Li-O-P", "Co-Li-O", "Mn-Na", "C-Cl-K-Li-Na-O-P-Y"]


@pytest.fixture
def systems():
    chemsys_ensure(names=SYSTEMS)


def names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def listed(names_queryset) -> set[str]:
    """The names of a one-column queryset of names."""
    return {value for row in names_queryset for value in row.values()}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"contains_all": ["Li", "O"]}, {"Li-O", "Fe-Li-O", "Fe-Li-O-P", "Co-Li-O", "C-Cl-K-Li-Na-O-P-Y"}),
        ({"contains_all": ["Fe", "Li", "O"]}, {"Fe-Li-O", "Fe-Li-O-P"}),
        ({"contains_any": ["Co", "Mn"]}, {"Co-Li-O", "Mn-Na"}),
        ({"only": ["Fe", "Li", "O"]}, {"Li", "O", "Fe", "Li-O", "Fe-O", "Fe-Li-O"}),
        ({"contains_all": ["O"], "exclude": ["Li"]}, {"O", "Fe-O"}),
        ({"contains_all": ["Li"], "only": ["Li", "O", "Co"]}, {"Li", "Li-O", "Co-Li-O"}),
        ({"contains_any": ["Y"], "exclude": ["K"]}, set()),
        (
            {"only": ["C", "Cl", "Fe", "K", "Li", "Na", "O", "P", "Y"]},  # more than ONLY_ENUMERATED
            {"Li", "O", "Fe", "Li-O", "Fe-O", "Fe-Li-O", "Fe-Li-O-P", "C-Cl-K-Li-Na-O-P-Y"},
        ),
        ({"only": ["C", "Cl", "K", "Li", "Na", "O", "P", "Y"]}, {"Li", "O", "Li-O", "C-Cl-K-Li-Na-O-P-Y"}),
    ],
)
def test_chemsys_element_queries(systems, kwargs, expected):
    assert names(chemsys_with_elements(**kwargs)) == expected
    assert listed(chemsys_names_with_elements(**kwargs)) == expected


def test_each_system_has_every_ordered_pair_of_its_elements(systems):
    rows = set(ChemicalSystemPair.objects.values_list("chemsys_id", "first", "second"))
    expected = {(s, a, b) for s in SYSTEMS for a in s.split("-") for b in s.split("-")}
    assert rows == expected
    assert len(rows) == sum(len(s.split("-")) ** 2 for s in SYSTEMS)
    chemsys_ensure(names=[*SYSTEMS, "Cs-F"])  # existing systems are left as they are
    assert ChemicalSystemPair.objects.count() == len(expected) + 4


def test_contains_all_in_any_order_and_with_repeats(systems):
    """The elements in every order, repeated or not, select the systems that hold all of them (a search's elements
    and its chemical system's are joined in one list, unsorted and possibly repeated)."""
    rng = random.Random(7)
    symbols = sorted({el for s in SYSTEMS for el in s.split("-")})
    for size in (1, 2, 3, 4):
        for chosen in itertools.islice(itertools.combinations(symbols, size), 40):
            wanted = [*chosen, *rng.sample(chosen, rng.randint(0, size))]
            rng.shuffle(wanted)
            expected = {s for s in SYSTEMS if set(chosen) <= set(s.split("-"))}

            via_pairs = listed(_names_holding(wanted))
            assert via_pairs == expected, wanted
            assert names(chemsys_with_elements(contains_all=wanted)) == expected


@pytest.mark.parametrize(
    "only", [["Li"], ["Fe", "O"], ["Co", "Li", "O"], ["Fe", "Li", "O", "P"], ["Mn", "Na", "Xe"]]
)
def test_only_named_subsystems_equal_the_element_table_rule(systems, monkeypatch, only):
    """ "Only" with few elements names every subsystem; the result equals the NOT EXISTS rule used beyond that."""
    import hull.selectors.elements

    named = names(chemsys_with_elements(only=only, contains_any=["Li", "Fe", "Na"]))
    monkeypatch.setattr(hull.selectors.elements, "ONLY_ENUMERATED", 0)
    assert names(chemsys_with_elements(only=only, contains_any=["Li", "Fe", "Na"])) == named
    assert named == {
        s for s in SYSTEMS if set(s.split("-")) <= set(only) and set(s.split("-")) & {"Li", "Fe", "Na"}
    }


def test_entry_query_uses_the_same_rule(li_o_file):
    from hull.services.ingest import ingest_file

    ingest_file(path=li_o_file)
    only_li = entries_with_elements(only=["Li"])
    assert set(only_li.values_list("chemsys_id", flat=True)) == {"Li"}
    both = entries_with_elements(contains_all=["Li", "O"])
    assert set(both.values_list("chemsys_id", flat=True)) == {"Li-O"}
    assert entries_with_elements(contains_any=["Li", "O"]).count() == 57


def test_unknown_element_is_a_clear_error():
    with pytest.raises(CatalogueError, match="unknown element 'Xx'"):
        list(chemsys_with_elements(contains_all=["Li", "Xx"]))


# symbols that begin other symbols (C: Ca, Cl, Co; O: Os; N: Na, Nb, Ni; S: Si, Sn), first and last in a name
PREFIXES = ["C", "Ca", "Cl", "Co", "O", "Os", "N", "Na", "Nb", "Ni", "S", "Si", "Sn", "Li", "Fe"]
TRAPS = ["C", "Cl", "Ca-Co", "C-O", "Os", "O-Os", "Na", "N-Na", "Nb-Ni", "S-Si-Sn", "Si", "Li-Sn", "Fe-Li-O"]


def test_the_name_test_is_element_membership_of_the_name():
    """``system_holds`` reads elements off names alone (no pair table): on systems whose symbols begin one
    another, it agrees with splitting the name, for random conditions of every kind."""
    chemsys_ensure(names=TRAPS)
    rng = random.Random(5)
    for _ in range(150):
        all_of = rng.sample(PREFIXES, rng.randint(0, 2))
        any_of = rng.sample(PREFIXES, rng.choice([0, 0, 1, 3]))
        none_of = rng.sample(PREFIXES, rng.choice([0, 1, 2]))
        test = system_holds("name", contains_all=all_of, contains_any=any_of, exclude=none_of)
        expected = {
            name
            for name in TRAPS
            if set(all_of) <= set(name.split("-"))
            and (not any_of or set(any_of) & set(name.split("-")))
            and not set(none_of) & set(name.split("-"))
        }
        assert names(ChemicalSystem.objects.filter(test)) == expected, (all_of, any_of, none_of)


@pytest.mark.parametrize(
    ("query", "part"),
    [
        ({"elements": ["Li", "O"]}, None),
        ({"elements_any": ["Fe", "Co"], "exclude_elements": ["Na"]}, None),
        ({"elements": ["O"], "sort": "-e_above_hull"}, 0),
        ({"elements": ["O"], "sort": "-e_above_hull"}, 1),
        ({"chemsys": "Li-*-O", "e_above_hull_max": 0.05}, None),
    ],
)
def test_element_searches_test_the_names_of_the_rows_they_walk(query, part):
    """Every element search carries the name test beside its systems (on the entry's or on the stability row's
    copy), so that a page walked in index order tests rows before probing the pair table."""
    search = EntrySearch(**query)
    if part is None:  # the single query
        sql = str(search_entries(search).query)
    else:
        parts = sorted_parts(
            condition=search_condition(search), hull_set=search.hull_set, order=search_order(search)
        )
        sql = str(parts[part].query)
    function = "STRPOS(" if "STRPOS(" in sql else "INSTR("
    assert f"{function}'-' || " in sql
    on_row = part == 0 or "e_above_hull_max" in query
    assert (f"{function}'-' || stab.\"chemsys\"" in sql) == on_row
