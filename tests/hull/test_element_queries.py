"""Element queries ("contains all", "any", "only these", "exclude") behave the same on SQLite and PostgreSQL."""

import pytest

from hull.errors import CatalogueError
from hull.selectors import chemsys_with_elements, entries_with_elements
from hull.services.chemsys import chemsys_ensure

pytestmark = pytest.mark.django_db

SYSTEMS = ["Li", "O", "Fe", "Li-O", "Fe-O", "Fe-Li-O", "Fe-Li-O-P", "Co-Li-O", "Mn-Na", "C-Cl-K-Li-Na-O-P-Y"]


@pytest.fixture
def systems():
    chemsys_ensure(names=SYSTEMS)


def names(queryset) -> set[str]:
    return set(queryset.values_list("name", flat=True))


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


@pytest.mark.parametrize(
    "only", [["Li"], ["Fe", "O"], ["Co", "Li", "O"], ["Fe", "Li", "O", "P"], ["Mn", "Na", "Xe"]]
)
def test_only_named_subsystems_equal_the_element_table_rule(systems, monkeypatch, only):
    """ "Only" with few elements names every subsystem; the result equals the NOT EXISTS rule used beyond that."""
    import hull.selectors

    named = names(chemsys_with_elements(only=only, contains_any=["Li", "Fe", "Na"]))
    monkeypatch.setattr(hull.selectors, "ONLY_ENUMERATED", 0)
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
