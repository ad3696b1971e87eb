"""OPTIMADE structure pages and counts read through SQL compiled per filter shape (portal/optimade/views.py,
portal/optimade/filters.py ``marked_filter``): generated filters, sorts and windows give the ORM's documents;
one shape serves other values; what shapes the SQL stays in the key."""

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.core.cache import cache
from django.db.models import Q
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hull.compiled_reads import Marks
from portal.optimade import filters as f
from portal.optimade import resources, views
from tests.api.test_optimade import URL
from tests.api.test_optimade import filters as generated_filters

pytestmark = pytest.mark.django_db


def document(params: dict) -> dict:
    """The structures document, less its time stamp, with the Django cache (kept counts) emptied first."""
    cache.clear()
    response = Client().get(URL, params)
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    body["meta"].pop("time_stamp")
    return body


def through_the_orm(params: dict) -> dict:
    with (
        mock.patch.object(views.STRUCTURE_PAGES, "get", return_value=None),
        mock.patch.object(views.STRUCTURE_COUNTS, "get", return_value=None),
    ):
        return document(params)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    case=generated_filters,
    sort=st.sampled_from(["", "id", "-nsites", "chemical_formula_descriptive", "-_mdp_energy_per_atom"]),
    limit=st.sampled_from([2, 5, 40]),
    offset=st.sampled_from([0, 3, 30]),
)
def test_compiled_pages_equal_the_orm_pages(catalogue, case, sort, limit, offset):
    params = {
        "filter": case[0],
        "page_limit": limit,
        "page_offset": offset,
        **({"sort": sort} if sort else {}),
    }
    assert document(params) == through_the_orm(params), params


def test_pages_and_counts_are_compiled_once_per_shape(catalogue, settings):
    """Two filters of one shape (other elements and threshold): the second reuses the SQL of the first, page and
    count, and reads its own rows and count."""
    settings.PORTAL_RESPONSE_CACHE_SECONDS = 0
    views.STRUCTURE_PAGES.clear()
    views.STRUCTURE_COUNTS.clear()
    texts = {
        "Li": 'elements HAS ALL "Li","O" AND _mdp_energy_above_hull < 0.3',
        "Fe": 'elements HAS ALL "Fe","O" AND _mdp_energy_above_hull < 0.05',
    }
    got = {name: document({"filter": text, "page_limit": 3}) for name, text in texts.items()}
    assert len(views.STRUCTURE_PAGES._kept) == len(views.STRUCTURE_COUNTS._kept) == 1
    assert all(value is not None for value in views.STRUCTURE_PAGES._kept.values())
    assert all(value is not None for value in views.STRUCTURE_COUNTS._kept.values())
    for name, text in texts.items():
        matching = views._structures().filter(f.parse_filter(text, resources.fields()))
        expected = list(matching.order_by("id").values_list("public_id", flat=True))
        assert len(expected) > 3  # the page is not the last: data_returned was counted
        assert [item["id"] for item in got[name]["data"]] == expected[:3]
        assert got[name]["meta"]["data_returned"] == len(expected)
    assert got["Li"]["data"] != got["Fe"]["data"]


def key(text: str) -> tuple:
    marks = Marks()
    return f.marked_filter(text, resources.fields(), marks).key, marks.values


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ('elements HAS ALL "Li","O"', 'elements HAS ALL "Fe","Na"'),
        ("nsites > 3 AND _mdp_energy_above_hull < 0.1", "nsites > 8 AND _mdp_energy_above_hull < 0.5"),
        ('id = "mdp-1"', 'id = "mdp-9"'),
        ('chemical_formula_reduced = "LiO"', 'chemical_formula_reduced = "FeO"'),
    ],
)
def test_values_are_markers(catalogue, one, other):
    (key_one, values_one), (key_other, values_other) = key(one), key(other)
    assert key_one is not None and key_one == key_other
    assert values_one != values_other


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("nsites > 3", "nsites > 3.0"),  # an integer and a float compare differently with an integer column
        ("nsites > 3", "nsites < 3"),
        ('elements HAS ALL "Li","O"', 'elements HAS ANY "Li","O"'),
        ('elements HAS ALL "Li","O"', 'elements HAS ALL "Li","O","Fe"'),
        ('elements HAS ONLY "Li","O"', 'elements HAS ONLY "Fe","O"'),  # the names of its subsystems
        ('elements HAS "Li"', 'elements HAS "Xx"'),  # no entry has an unknown element
        ("_mdp_is_stable = TRUE", "_mdp_is_stable = FALSE"),
        ('chemical_formula_descriptive CONTAINS "Li"', 'chemical_formula_descriptive CONTAINS "Fe"'),
        ('last_modified > "2020-01-01T00:00:00Z"', 'last_modified > "2021-01-01T00:00:00Z"'),
        ('chemical_formula_reduced = "LiO"', 'chemical_formula_reduced = "OLi"'),  # not in OPTIMADE form
        ("NOT nsites > 3", "nsites > 3"),
    ],
)
def test_what_shapes_the_sql_stays_in_the_key(catalogue, one, other):
    assert key(one)[0] != key(other)[0]


def test_conditions_that_cannot_be_told_from_markers_are_read_through_the_orm(catalogue):
    # an element list kept as it is may not hold a marker element: its subsystem names would read as markers
    assert key('elements HAS ONLY "Og","Li"')[0] is None
    many = ", ".join(f'"{symbol}"' for symbol in ["H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne"])
    assert key(f"elements HAS ALL {many} AND elements HAS ANY {many}")[0] is None  # markers run out
    assert (
        document({"filter": 'elements HAS ONLY "Og","Li"'})["meta"]["data_returned"]
        == document({"filter": 'elements HAS ONLY "Li"'})["meta"]["data_returned"]
    )


def test_the_shape_key_knows_its_value_types():
    assert f.shape_key(Q(nsites=3)) != f.shape_key(Q(nsites=3.0)) != f.shape_key(Q(nsites=True))
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    assert f.shape_key(Q(updated_at__gt=moment)) == f.shape_key(
        Q(updated_at__gt=datetime(2024, 1, 1, tzinfo=UTC))
    )
    assert f.shape_key(Q(nsites__in=[object()])) is None


def test_a_broken_substitution_is_caught(catalogue):
    """The comparison above fails when markers are not replaced by the request's values."""
    params = {"filter": 'elements HAS ALL "Li","O" AND _mdp_energy_above_hull < 0.3', "page_limit": 40}
    expected = through_the_orm(params)
    with mock.patch("hull.compiled_reads.Compiled.rows", lambda self, values, using="default": []):
        views.STRUCTURE_PAGES.clear()
        assert document(params) != expected
    views.STRUCTURE_PAGES.clear()
    assert document(params) == expected
    assert len(expected["data"]) == 40 < expected["meta"]["data_returned"]  # a full page, then a count


@pytest.mark.parametrize(
    "text",
    [
        'elements HAS ALL "Li","Li","O"',  # one element under two markers
        'elements HAS ALL "O","Li"',
        'elements HAS ALL "O","Fe","Li" AND elements HAS ANY "Fe","Fe"',
        'elements HAS "O" AND NOT elements HAS ALL "Fe","O"',
    ],
)
def test_repeated_and_unsorted_elements(catalogue, text):
    params = {"filter": text, "page_limit": 500}
    got = document(params)
    assert got == through_the_orm(params)
    expected = views._structures().filter(f.parse_filter(text, resources.fields()))
    assert {item["id"] for item in got["data"]} == set(expected.values_list("public_id", flat=True))
    assert got["data"]
