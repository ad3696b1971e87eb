"""List pages read through SQL compiled per shape (portal/api/views.py, hull/compiled_reads.py) are the pages the
ORM reads, byte for byte, for random searches over the real Li-Fe-O space; a shape compiled once serves
other values (numbers, elements, names, cursors) correctly."""

import base64
import json
import random

import pytest
from rest_framework.test import APIClient

from hull.compiled_reads import Marks
from hull.search import UNVALUED, VALUED, EntrySearch, marked_search, search_entries, search_shape
from portal.api import views
from tests.api.conftest import ingest_entries_without_values

pytestmark = pytest.mark.django_db

ELEMENTS = ["Li", "Fe", "O"]
SORTS = ["id", "-id", "e_above_hull", "-formation_energy_per_atom", "nsites", "-energy_per_atom", "formula"]


def random_params(rng: random.Random) -> dict:
    params: dict = {"page_size": str(rng.choice([3, 7, 50]))}
    for name in ("elements", "elements_any", "exclude_elements"):
        if rng.random() < 0.35:
            params[name] = ",".join(rng.sample(ELEMENTS, rng.randint(1, 2)))
    if rng.random() < 0.2:
        params["elements_only"] = ",".join(rng.sample(ELEMENTS, 2))
    for low, high, top in (
        ("e_above_hull_min", "e_above_hull_max", 0.4),
        ("formation_energy_min", "formation_energy_max", 0.0),
        ("nsites_min", "nsites_max", None),
    ):
        if rng.random() < 0.3:
            if top is None:
                params[low], params[high] = str(rng.randint(1, 6)), str(rng.randint(6, 30))
            else:
                params[high] = str(round(rng.uniform(top - 2.5, top), 4))
                if rng.random() < 0.5:
                    params[low] = str(round(float(params[high]) - rng.uniform(0.01, 2.0), 4))
    if rng.random() < 0.2:
        params["is_stable"] = rng.choice(["true", "false"])
    if rng.random() < 0.2:
        params["hull_set"] = "all"
    if rng.random() < 0.15:
        params["li_conductor"] = "true"
        params["li_conductor_max_e_above_hull"] = str(round(rng.uniform(0.0, 0.3), 3))
    if rng.random() < 0.1:
        params["source"] = "mp"
    params["sort"] = rng.choice(SORTS)
    return params


def pages(client: APIClient, params: dict) -> list[bytes]:
    """Every page's body, following the cursors."""
    bodies, response = [], client.get("/api/v1/materials/", params)
    while True:
        assert response.status_code == 200, response.content
        assert len(bodies) < 200, f"the cursors of {params} do not come to an end"
        bodies.append(response.content)
        next_url = response.json()["next"]
        if not next_url:
            return bodies
        response = client.get(next_url)


def test_compiled_pages_equal_the_orm_pages(catalogue, monkeypatch, settings):
    settings.PORTAL_RESPONSE_CACHE_SECONDS = 0
    client = APIClient()
    rng = random.Random(20261206)
    cases = [random_params(rng) for _ in range(60)]
    views.LIST_PAGES.clear()
    compiled = [pages(client, params) for params in cases]
    assert len(views.LIST_PAGES._kept) > 10
    kept = [key for (_, key), value in views.LIST_PAGES._kept.items() if value is not None]
    # single reads, and both parts of searches read in two parts (the second also after a cursor within it)
    assert {key[0] for key in kept} == {None, VALUED, UNVALUED}
    monkeypatch.setattr(views.LIST_PAGES, "get", lambda *args, **kwargs: None)  # the ORM path
    orm = [pages(client, params) for params in cases]
    for params, got, expected in zip(cases, compiled, orm, strict=True):
        assert got == expected, params
    assert sum(len(bodies) for bodies in orm) > len(cases)  # cursors were followed


@pytest.mark.parametrize("sort", ["e_above_hull", "-formation_energy_per_atom"])
def test_two_part_pages_cross_into_the_second_part_as_the_orm_does(
    catalogue, tmp_path, lifeo_items, monkeypatch, settings, sort
):
    """Entries without a value of the sort key (ML results: no row in "dft"; a sulfide: no sulfur reference) come
    after those with one; with two rows a page, some page's cursor lies within the second part."""
    settings.PORTAL_RESPONSE_CACHE_SECONDS = 0
    ingest_entries_without_values(tmp_path, lifeo_items)
    client = APIClient()
    views.LIST_PAGES.clear()
    params = {"sort": sort, "exclude_elements": "Fe", "page_size": "2"}
    compiled = pages(client, params)
    kept = [key for (_, key), value in views.LIST_PAGES._kept.items() if value is not None]
    assert any(key[0] == UNVALUED and key[3] is not None for key in kept)  # a cursor within the second part
    monkeypatch.setattr(views.LIST_PAGES, "get", lambda *args, **kwargs: None)
    assert compiled == pages(client, params)
    last = json.loads(compiled[-1])["results"]
    assert last and last[-1][sort.lstrip("-")] is None


def test_one_shape_serves_other_values(catalogue, settings):
    """The same shape with other numbers and elements: the second request reuses the compiled SQL and gets its
    own rows (the ids of the shared search), not the first request's."""
    settings.PORTAL_RESPONSE_CACHE_SECONDS = 0
    client = APIClient()
    views.LIST_PAGES.clear()
    first = {"elements": "Li", "e_above_hull_max": "0.02", "page_size": "500"}
    second = {"elements": "Fe", "e_above_hull_max": "0.3", "page_size": "500"}
    got = {}
    for params in (first, second):
        response = client.get("/api/v1/materials/", params)
        assert response.status_code == 200
        got[params["elements"]] = [row["public_id"] for row in response.json()["results"]]
    assert len(views.LIST_PAGES._kept) == 1  # one shape, compiled once
    for params in (first, second):
        search = EntrySearch.from_params({**params, "sort": "id"})
        expected = list(search_entries(search).values_list("public_id", flat=True))
        assert got[params["elements"]] == expected
    assert got["Li"] != got["Fe"] and got["Li"] and got["Fe"]


def test_values_that_shape_the_query_stay_in_the_key():
    """A formula, a chemical system, ``elements_only``, the sort and flags are part of the shape; numbers and
    elements are markers."""
    marks = Marks()
    search = EntrySearch(formula="Li2O", elements_only=["Li", "O"], e_above_hull_max=0.1, elements=["O"])
    marked = marked_search(search, marks)
    assert marked.formula == "Li2O" and marked.elements_only == ["Li", "O"]
    assert marked.e_above_hull_max != 0.1 and marked.elements != ["O"]
    assert marks.values == [0.1, "O"]
    other = marked_search(
        EntrySearch(formula="Li2O", elements_only=["Li", "O"], e_above_hull_max=0.3, elements=["Li"]), Marks()
    )
    assert search_shape(marked) == search_shape(other)
    assert marked_search(EntrySearch(chemsys="Li-*", elements=["O"]), Marks()) is None
    assert marked_search(EntrySearch(elements_only=["Og", "Li"]), Marks()) is None


def cursor_of(payload: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    ("params", "status", "count"),
    [
        ({"nelements_min": "99999999999999999999999"}, 400, None),  # beyond the database's integers
        ({"nelements_max": "99999999999999999999999", "elements": "Li"}, 400, None),
        ({"nelements_max": "9223372036854775807", "elements": "Li"}, 200, None),
        ({"elements": "Li", "nsites_min": "-3"}, 200, None),
        ({"elements": "Li", "cursor": cursor_of({"v": "0.5", "id": 5})}, 400, None),  # text for an id
        ({"sort": "e_above_hull", "is_stable": "true", "cursor": cursor_of({"v": "x", "id": 5})}, 400, None),
        ({"sort": "nsites", "cursor": cursor_of({"v": 2.5e300, "id": 5})}, 200, 0),
    ],
)
def test_odd_values_answer_as_the_orm_does(catalogue, settings, params, status, count):
    settings.PORTAL_RESPONSE_CACHE_SECONDS = 0
    response = APIClient().get("/api/v1/materials/", params)
    assert response.status_code == status, response.content
    if status == 200 and count is not None:
        assert len(response.json()["results"]) == count
    if status == 200 and count is None:
        assert response.json()["results"]


def test_a_structure_id_with_a_nul_character_is_not_found(catalogue):
    response = APIClient().get("/optimade/v1/structures/mdp-1%00")
    assert response.status_code == 404
    assert response.json()["errors"][0]["status"] == "404"
