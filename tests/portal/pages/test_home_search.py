"""Home and search pages: every search parameter, sorting, paging and columns; bad parameters give a clear
message on the page (status 400), never a 500."""

import json
import re

import pytest

from hull.models import Entry
from tests.html_assets import asset_urls, remote_asset_urls

pytestmark = pytest.mark.django_db


def figure(html: str, element_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert match, f"no figure {element_id}"
    return json.loads(match.group(1))


def test_home_counts_and_charts(client, catalogue):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="number" id="n-entries">57</span>' in html
    bars = figure(html, "fig-nelements")["data"][0]
    stable = Entry.objects.filter(stabilities__hull_set="dft", stabilities__is_stable=True)
    assert sum(bars["y"]) == stable.count()
    growth = figure(html, "fig-growth")["data"][0]
    assert growth["y"][-1] == stable.count()
    assert "No discovery rounds yet" in html
    assert any("/assets/plotly-" in url for url in asset_urls(html))
    assert remote_asset_urls(html) == []


def test_home_charts_rounds(client, discovery_round):
    html = client.get("/?hull_set=all").content.decode()
    rounds = figure(html, "fig-rounds")["data"][0]
    assert list(rounds["x"]) == ["round 1", "round 2"]
    assert rounds["y"][0] == 0 and rounds["y"][1] > 0


def test_home_bad_hull_set(client, catalogue):
    response = client.get("/?hull_set=nope")
    assert response.status_code == 400
    assert "unknown hull set" in response.content.decode()


def test_plotly_served_locally_with_long_cache(client):
    import plotly

    response = client.get(f"/assets/plotly-{plotly.__version__}.min.js")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()
    assert client.get("/assets/plotly-0.0.0.min.js").status_code == 404


def test_search_defaults(client, catalogue):
    response = client.get("/search/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>57</strong> entries" in html
    assert html.count('class="material-link"') == 50  # first page
    assert 'id="next-page"' in html
    assert 'data-el="Og"' not in html and 'data-el="Lr"' in html  # the periodic table picker


VALID = [
    ("formula", "Li2O", 6),
    ("formula", "OLi2", 6),
    ("anonymous_formula", "AB2", None),
    ("elements", "Li", None),
    ("elements", "Li,O", 25),
    ("elements_any", "Li", 34),
    ("elements_only", "O", 23),
    ("exclude_elements", "Li", 23),
    ("chemsys", "Li-O", 25),
    ("chemsys", "Li-*", 25),
    ("chemsys", "*", 32),
    ("nelements_min", "2", 25),
    ("nelements_max", "1", 32),
    ("nsites_min", "10", None),
    ("nsites_max", "4", None),
    ("e_above_hull_min", "0.1", None),
    ("e_above_hull_max", "0", None),
    ("formation_energy_min", "-1", None),
    ("formation_energy_max", "-1", None),
    ("band_gap_min", "0", None),
    ("band_gap_max", "10", None),
    ("spacegroup_number", "225", None),
    ("spacegroup_symbol", "Fm-3m", None),
    ("is_stable", "true", None),
    ("is_stable", "false", None),
    ("hull_set", "all", 57),
    ("source", "mp", 57),
    ("source", "nowhere", 0),
    ("method", "nothing", 0),
    ("sort", "-nsites", 57),
    ("sort", "formula", 57),
    ("per_page", "25", 57),
    ("cols", "formula,band_gap,volume", 57),
    ("page", "2", 57),
    ("page", "999", 57),
]


@pytest.mark.parametrize(("name", "value", "expected"), VALID)
def test_search_parameter(client, catalogue, name, value, expected):
    response = client.get("/search/", {name: value})
    html = response.content.decode()
    assert response.status_code == 200, html
    count = int(re.search(r"<strong>(\d+)</strong> entries", html).group(1))
    if expected is not None:
        assert count == expected
    offered = f'name="{name}"' in html or name in ("page", "sort", "cols", "per_page")
    if name.startswith("band_gap"):  # no entry has a band gap: no filter offered, and the page says why
        offered = "no band-gap filter is offered" in html
    if name == "spacegroup_number":  # one box takes a space group's symbol or number
        offered = f'name="spacegroup_symbol" value="{value}"' in html
    assert offered


def test_search_batch_parameter(client, catalogue):
    html = client.get("/search/", {"batch": catalogue.batch_id}).content.decode()
    assert "<strong>57</strong> entries" in html


def test_search_ranges_filter(client, catalogue):
    html = client.get("/search/", {"is_stable": "true", "per_page": 100}).content.decode()
    stable = Entry.objects.filter(stabilities__hull_set="dft", stabilities__is_stable=True).count()
    assert f"<strong>{stable}</strong> entries" in html
    html = client.get("/search/", {"e_above_hull_max": "0", "per_page": 100}).content.decode()
    assert f"<strong>{stable}</strong> entries" in html


def test_search_sort_links_and_columns(client, catalogue):
    html = client.get("/search/", {"sort": "nsites", "cols": "formula,nsites,band_gap"}).content.decode()
    assert "sites ▲" in html
    assert "sort=-nsites" in html  # clicking again sorts descending
    assert "band gap (eV)" in html and "above hull (eV/atom)</a>" not in html
    sites = [int(n) for n in re.findall(r"<td>(\d+)</td>\s*<td class=\"num\">", html)]
    assert sites == sorted(sites)


def test_search_query_lives_in_the_url(client, catalogue):
    html = client.get("/search/?elements=Li&elements=O&sort=-e_above_hull").content.decode()
    assert 'href="/search/?elements=Li&amp;elements=O&amp;sort=-e_above_hull" class="share"' in html


BAD = [
    ({"elements": "Xx"}, "unknown element &#x27;Xx&#x27;"),
    ({"exclude_elements": "Li,Qq"}, "unknown element &#x27;Qq&#x27;"),
    ({"chemsys": "Li--O"}, "malformed chemical system"),
    ({"chemsys": "Li-Xx"}, "unknown element &#x27;Xx&#x27;"),
    ({"chemsys": "Li-O-Li"}, "repeats an element"),
    ({"chemsys": "H-He-Li-Be-B-C-N-O-F"}, "has 9 elements; at most 8"),
    ({"formula": "Li2Qz"}, "cannot read formula"),
    ({"anonymous_formula": "ab!c"}, "not an anonymous formula"),
    ({"nsites_min": "many"}, "not a valid int"),
    ({"e_above_hull_max": "nan"}, "not a valid float"),
    ({"e_above_hull_min": "1", "e_above_hull_max": "0.5"}, "is larger than"),
    ({"spacegroup_number": "231"}, "between 1 and 230"),
    ({"is_stable": "maybe"}, "is_stable"),
    ({"hull_set": "nope"}, "unknown hull set"),
    ({"sort": "colour"}, "cannot sort by"),
    ({"cols": "formula,colour"}, "unknown column &#x27;colour&#x27;"),
    ({"per_page": "7"}, "per_page must be one of"),
    ({"per_page": "lots"}, "not a whole number"),
]


@pytest.mark.parametrize(("query", "message"), BAD)
def test_search_bad_parameter(client, catalogue, query, message):
    response = client.get("/search/", query)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="search-error"' in html and message in html
    assert 'id="search-form"' in html  # the form stays, with what was typed
    for value in query.values():
        assert (
            f'value="{value}"' in html
            or "cols" in query
            or "per_page" in query
            or "is_stable" in query
            or "hull_set" in query
        )


@pytest.mark.parametrize("sort", ["e_above_hull", "-formation_energy_per_atom"])
def test_search_pages_follow_the_single_query_order(client, catalogue, sort):
    """The page reads a stability sort in two parts (hull.search.search_parts); page by page it lists the
    single query's rows in its order, and its count is theirs."""
    from django.http import QueryDict

    from hull.search import EntrySearch, search_entries

    expected = list(
        search_entries(EntrySearch.from_params(QueryDict(f"sort={sort}"))).values_list("public_id", flat=True)
    )
    seen, number = [], 1
    while True:
        response = client.get("/search/", {"sort": sort, "per_page": 25, "page": number})
        page = response.context["page"]
        assert page.paginator.count == len(expected)
        seen += [entry.public_id for entry in page]
        if not page.has_next():
            break
        number += 1
    assert seen == expected and number == page.paginator.num_pages > 1


def test_growth_chart_of_one_ingest_spans_days_not_seconds(client, catalogue):
    """Every entry added on one day: the date axis shows the days around it (the issue saw plotly's sub-second
    autorange around a single point)."""
    from datetime import date

    html = client.get("/").content.decode()
    layout = figure(html, "fig-growth")["layout"]
    days = set(figure(html, "fig-growth")["data"][0]["x"])
    assert len(days) == 1
    start, end = (date.fromisoformat(v[:10]) for v in layout["xaxis"]["range"])
    assert (end - start).days >= 2 and start < date.fromisoformat(next(iter(days))) < end
    assert layout["xaxis"]["type"] == "date" and "%d" in layout["xaxis"]["tickformat"]
