"""Catalogue reads kept per URL and catalogue state (portal/response_cache.py): a repeated read is served
without querying the catalogue, byte for byte the same, with an ETag that answers 304; every write through
the services (ingest, hull update, structure features) is seen by the next read; errors are never kept."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from hull.models import Entry, EntryFeatures
from hull.selectors import catalogue_state
from hull.services.features import features_compute
from tests.api.conftest import OPEN_RATES, ingest_items

pytestmark = pytest.mark.django_db

LIST = "/api/v1/materials/?elements=Li,O&e_above_hull_max=0.05&page_size=50"
OPTIMADE = (
    '/optimade/v1/structures?filter=elements HAS ALL "Li","O" AND _mdp_energy_above_hull<0.05&page_limit=50'
)
DIAGRAM = "/api/v1/phase-diagrams/Li-O/"


def timed(client, url: str, **headers):
    """The response and the number of SQL statements it took."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return response, len(queries)


def without_time_stamp(content: bytes) -> bytes:
    """An answer without OPTIMADE's ``meta.time_stamp``: two answers computed a second apart differ there."""
    return re.sub(rb'"time_stamp":"[^"]*"', b'"time_stamp":""', content)


def detail_url() -> str:
    return f"/api/v1/materials/{Entry.objects.filter(chemsys_id='Li-O').order_by('id').first().public_id}/"


def lower_li2o(lifeo_items: list[dict], name: str, shift: float) -> list[dict]:
    """The real Li2O entry again under a new id, ``shift`` eV/atom lower: a new stable phase of Li-O."""
    li2o = next(item for item in lifeo_items if item["composition"] == {"Li": 2.0, "O": 1.0})
    return [dict(li2o, entry_id=name, energy=li2o["energy"] + shift * 3)]


@pytest.mark.parametrize("url", [LIST, OPTIMADE, DIAGRAM, "detail"])
def test_a_repeated_read_is_served_kept_with_its_etag(catalogue, url):
    url = detail_url() if url == "detail" else url
    client = Client()
    first, first_queries = timed(client, url)
    again, again_queries = timed(client, url)
    assert first.status_code == again.status_code == 200, first.content[:300]
    assert again.content == first.content
    assert again["ETag"] == first["ETag"] and first["ETag"].startswith('"')
    assert first_queries >= 2  # the catalogue state, then the data
    assert again_queries == 1  # the catalogue state only
    # the client holds it: 304 with no body; another tag gets the page
    held, held_queries = timed(client, url, HTTP_IF_NONE_MATCH=f'"other", {first["ETag"]}')
    assert held.status_code == 304 and held.content == b"" and held["ETag"] == first["ETag"]
    assert held_queries == 1
    assert client.get(url, HTTP_IF_NONE_MATCH='"other"').content == first.content


@pytest.mark.parametrize("url", [LIST, OPTIMADE, DIAGRAM, "detail"])
def test_if_none_match_any_is_not_modified_where_the_read_succeeds(catalogue, url):
    """``If-None-Match: *``: the client holds some version (RFC 9110 13.1.2), so a read that exists answers 304
    with its ETag, cold or kept."""
    url = detail_url() if url == "detail" else url
    client = Client()
    for _ in range(2):
        held = client.get(url, HTTP_IF_NONE_MATCH="*")
        assert held.status_code == 304 and held.content == b"", held.content[:300]
        assert held["ETag"] == client.get(url)["ETag"]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/materials/mdp-nonexistent/", 404),
        ("/optimade/v1/structures/mdp-nonexistent", 404),
        ("/optimade/v1/structures?filter=nelements = = 2", 400),
    ],
)
def test_if_none_match_any_still_answers_errors(catalogue, url, status):
    assert Client().get(url, HTTP_IF_NONE_MATCH="*").status_code == status


def test_each_url_is_its_own_read(catalogue):
    client = APIClient()
    full = client.get(LIST)
    picked = client.get(LIST + "&fields=public_id,e_above_hull")
    assert full.status_code == picked.status_code == 200
    assert full["ETag"] != picked["ETag"]
    assert set(picked.json()["results"][0]) == {"public_id", "e_above_hull"}
    assert len(full.json()["results"][0]) > 2


def test_an_ingest_is_seen_by_the_next_read(catalogue, tmp_path, lifeo_items):
    client = Client()
    urls = [LIST, OPTIMADE, DIAGRAM]
    before = {url: client.get(url) for url in urls}
    detail = detail_url()
    before[detail] = client.get(detail)
    state = catalogue_state()
    ingest_items(tmp_path, lower_li2o(lifeo_items, "new-li2o", -0.2), source="cache-test")
    assert catalogue_state() != state
    new = Entry.objects.get(source="cache-test").public_id
    after = {url: client.get(url) for url in before}
    for url in before:
        assert after[url].status_code == 200
        assert after[url]["ETag"] != before[url]["ETag"]
    assert new not in before[LIST].content.decode() and new in after[LIST].content.decode()
    assert new in after[OPTIMADE].content.decode()
    stable = {row["public_id"] for row in after[DIAGRAM].json()["entries"] if row["is_stable"]}
    assert new in stable and new not in before[DIAGRAM].content.decode()
    # the old Li2O is pushed off the hull: its detail shows a positive energy above hull now
    old_rows = before[detail].json()["stabilities"]
    new_rows = after[detail].json()["stabilities"]
    assert old_rows != new_rows


def test_structure_features_are_seen_by_the_next_read(catalogue):
    client = APIClient()
    url = "/api/v1/materials/?chemsys=Fe-O&layered=false&page_size=100"
    assert client.get(url).json()["results"] == []  # no entry has features yet
    ids = list(
        Entry.objects.filter(chemsys_id="Fe-O").order_by("nsites", "id").values_list("id", flat=True)[:6]
    )
    state = catalogue_state()
    features_compute(entry_ids=ids, prototypes=False)
    assert catalogue_state() != state
    not_layered = EntryFeatures.objects.filter(entry_id__in=ids, dimensionality_cheon__isnull=False).exclude(
        dimensionality_cheon=2
    )
    assert not_layered.exists(), list(EntryFeatures.objects.filter(entry_id__in=ids).values())[:3]
    expected = set(not_layered.values_list("entry__public_id", flat=True))
    assert {row["public_id"] for row in client.get(url).json()["results"]} == expected


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/materials/?elements=Xx",
        "/api/v1/materials/?fields=nonsense",
        "/api/v1/materials/mdp-nonexistent/",
        "/api/v1/phase-diagrams/Li-Xx/",
        "/optimade/v1/structures?filter=nelements = = 2",
        "/optimade/v1/structures/mdp-nonexistent",
    ],
)
def test_errors_are_not_kept(catalogue, url):
    client = Client()
    first, first_queries = timed(client, url)
    again, again_queries = timed(client, url)
    assert 400 <= first.status_code < 500 and again.status_code == first.status_code
    assert without_time_stamp(again.content) == without_time_stamp(first.content)
    assert not first.has_header("ETag")
    assert again_queries == first_queries


def kept_reads(settings) -> list[tuple[str, object]]:
    """What the cache keeps: (key, value) of every slot in use."""
    slots = [f"catalogue-read-slot:{n}" for n in range(settings.PORTAL_RESPONSE_CACHE_KEYS)]
    return list(cache.get_many(slots).values())


def test_junk_parameters_are_answered_but_never_kept(catalogue, settings):
    """200 URLs with junk parameters (the attack that filled 49 MB) keep nothing (the REST list refuses them, the
    other reads answer them); the same URLs without them do not grow the cache either."""
    client = Client()
    for i in range(200):
        response = client.get(f"{LIST}&junk{i}={'x' * 100}")
        assert response.status_code == 400
    for i in range(20):
        assert client.get(f"{OPTIMADE}&utm_source={i}").status_code == 200
        assert client.get(f"/search/?formula=Li2O&junk={i}").status_code == 200
    assert kept_reads(settings) == []
    client.get(LIST)
    assert len(kept_reads(settings)) == 1


@pytest.mark.parametrize(
    ("url", "reordered"),
    [
        (LIST, "/api/v1/materials/?page_size=50&e_above_hull_max=0.05&elements=Li,O"),
        (
            OPTIMADE,
            OPTIMADE.replace("structures?", "structures?page_limit=50&").removesuffix("&page_limit=50"),
        ),
        (
            "/search/?formula=Li2O&per_page=25&sort=e_above_hull",
            "/search/?sort=e_above_hull&formula=Li2O&per_page=25",
        ),
    ],
)
def test_reads_are_keyed_on_the_sorted_query(catalogue, settings, url, reordered):
    client = Client()
    first, first_queries = timed(client, url)
    again, again_queries = timed(client, reordered)
    assert first.status_code == again.status_code == 200 and reordered != url
    assert again_queries < first_queries and len(kept_reads(settings)) == 1
    if "ETag" in first:
        assert again["ETag"] == first["ETag"] and again.content == first.content


def test_the_kept_reads_are_bounded_in_number_and_size(catalogue, settings):
    settings.PORTAL_RESPONSE_CACHE_KEYS = 8
    client = Client()
    for i in range(200):  # 200 distinct known queries
        url = f"/api/v1/materials/?elements=Li,O&e_above_hull_max=0.{i:04d}&page_size=5"
        assert client.get(url).status_code == 200
    kept = kept_reads(settings)
    assert 0 < len(kept) <= 8
    assert sum(len(value) for _, value in kept) <= 8 * settings.PORTAL_RESPONSE_CACHE_ENTRY_BYTES
    # a read longer than the bound is answered, not kept
    cache.clear()
    settings.PORTAL_RESPONSE_CACHE_ENTRY_BYTES = 1000
    settings.PORTAL_COUNT_CACHE_SECONDS = 0  # the list's count is kept apart: not kept either here
    first, first_queries = timed(client, LIST)
    again, again_queries = timed(client, LIST)
    assert len(first.content) > 1000 and again.content == first.content
    assert again_queries == first_queries and kept_reads(settings) == []


def test_the_cache_can_be_turned_off(catalogue, settings):
    settings.PORTAL_RESPONSE_CACHE_SECONDS = 0
    settings.PORTAL_COUNT_CACHE_SECONDS = 0  # and the count of a list, kept apart
    client = Client()
    first, first_queries = timed(client, LIST)
    again, again_queries = timed(client, LIST)
    assert again.content == first.content and again_queries == first_queries >= 2
    assert again["ETag"] == first["ETag"]  # the state did not change: 304 still works
    assert client.get(LIST, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


@pytest.mark.parametrize(("url", "scope"), [(LIST, "anon"), (OPTIMADE, "optimade")])
def test_kept_reads_are_still_throttled(catalogue, settings, url, scope):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**OPEN_RATES, scope: "2/min"},
    }
    client = Client()
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_the_search_page_keeps_its_results_and_sees_an_ingest(catalogue, tmp_path, lifeo_items):
    client = Client()
    url = "/search/?formula=Li2O&sort=e_above_hull&per_page=25"
    first, first_queries = timed(client, url)
    again, again_queries = timed(client, url)
    assert first.status_code == again.status_code == 200
    assert again_queries < first_queries
    assert again.context["page"].paginator.count == first.context["page"].paginator.count
    assert [e.public_id for e in again.context["page"]] == [e.public_id for e in first.context["page"]]
    ingest_items(tmp_path, lower_li2o(lifeo_items, "page-li2o", -0.2), source="cache-test")
    new = Entry.objects.get(source="cache-test").public_id
    after = client.get(url)
    assert after.context["page"].paginator.count == first.context["page"].paginator.count + 1
    assert (
        after.context["page"][0].public_id == new
    )  # the only Li2O on the hull now: first by energy above hull
