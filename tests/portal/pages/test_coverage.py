"""The search page says which elements the catalogue holds (the others greyed in its periodic table) and why a
search finds nothing when it asks for an element no entry holds."""

import re

import pytest

pytestmark = pytest.mark.django_db


def button(html: str, symbol: str) -> str:
    match = re.search(rf'<button type="button" class="el[^"]*"[^>]*data-el="{symbol}"[^>]*>', html)
    assert match, symbol
    return match.group(0)


def test_periodic_table_marks_absent_elements(client, catalogue):
    html = client.get("/search/").content.decode()
    assert "The catalogue holds entries of 2 elements (Li, O); the others are greyed" in html
    for symbol in ("Li", "O"):
        assert "absent" not in button(html, symbol)
    for symbol in ("Cu", "H", "Lr"):
        assert 'class="el absent' in button(html, symbol)
        assert "no entries in the catalogue" in button(html, symbol)
    assert html.count('class="el absent') == 101


@pytest.mark.parametrize(
    ("query", "why"),
    [
        ({"formula": "CuO"}, "The catalogue holds no Cu entries."),
        ({"elements": "Li,Cu"}, "The catalogue holds no Cu entries."),
        ({"chemsys": "Cu-*-Na"}, "The catalogue holds no Cu or Na entries."),
        ({"elements_any": "Cu,Na"}, "The catalogue holds no Cu or Na entries."),
    ],
)
def test_empty_search_says_which_element_is_absent(client, catalogue, query, why):
    response = client.get("/search/", query)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<p id="result-count"><strong>0</strong> entries' in html
    cell = re.search(r'<td colspan="\d+" id="no-results">(.*?)</td>', html, re.S).group(1)
    assert cell == f"No entries match. {why}"


def test_empty_search_over_held_elements_names_none(client, catalogue):
    html = client.get(
        "/search/", {"elements": "Li", "elements_any": "Cu,O", "nsites_min": "500"}
    ).content.decode()
    cell = re.search(r'<td colspan="\d+" id="no-results">(.*?)</td>', html, re.S).group(1)
    assert cell == "No entries match."


def test_home_names_the_catalogue_elements(client, catalogue):
    html = client.get("/").content.decode()
    coverage = re.search(r'<p id="catalogue-elements">(.*?)</p>', html, re.S).group(1)
    assert "holds entries of 2 elements" in coverage
    assert re.findall(r'href="/search/\?elements=(\w+)"', coverage) == ["Li", "O"]
