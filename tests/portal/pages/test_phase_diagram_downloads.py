"""The phase-diagram page's downloads on the real Li-Fe-P-O space: the entries as CSV (the page's table, row for
row, with units in the header) and as JSON (the REST API's document with its units), from links that carry the
page's query."""

import csv
import io
import json
import re

import pytest
from django.test import Client

from tests.portal.pages.test_phase_diagram import embedded

pytestmark = pytest.mark.django_db


def download_links(html: str) -> dict[str, str]:
    links = dict(re.findall(r'<a href="([^"]+)" id="pd-download-(\w+)" download>', html))
    return {fmt: href.replace("&amp;", "&") for href, fmt in links.items()}


def downloaded(client, href: str, content_type: str):
    response = client.get(href)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return response.content.decode()


@pytest.mark.parametrize(("typed", "hull_set"), [("O-Fe-Li", "dft"), ("Li-Fe-P-O", "dft"), ("Fe-O", None)])
def test_the_csv_is_the_page_table_row_for_row(client, quaternary, typed, hull_set):
    query = {"chemsys": typed, **({"hull_set": hull_set} if hull_set else {})}
    html = client.get("/phase-diagram/", query).content.decode()
    rows = embedded(
        html, "pd-rows"
    )  # [formula, id, formation energy, e above hull, stable, new, decomposition]
    links = download_links(html)
    assert set(links) == {"csv", "json"}
    table = list(csv.DictReader(io.StringIO(downloaded(client, links["csv"], "text/csv"))))
    assert "formation_energy_per_atom (eV/atom)" in table[0] and "e_above_hull (eV/atom)" in table[0]
    assert [r["id"] for r in table] == [row[1] for row in rows]
    for line, row in zip(table, rows, strict=True):
        assert line["formula"] == row[0]
        for column, value in (
            ("formation_energy_per_atom (eV/atom)", row[2]),
            ("e_above_hull (eV/atom)", row[3]),
        ):
            assert (line[column] == "") if value is None else round(float(line[column]), 4) == value
        assert line["is_stable"] == str(row[4]).lower()  # true / false, as the API's CSV export writes them
        assert [p[0] for p in row[6]] == re.findall(r"\[([^\]]+)\]", line["decomposes_to"])


def test_the_json_is_the_api_document_with_units(client, quaternary):
    html = client.get("/phase-diagram/", {"chemsys": "Li-Fe-O"}).content.decode()
    document = json.loads(downloaded(client, download_links(html)["json"], "application/json"))
    api = Client().get("/api/v1/phase-diagrams/Fe-Li-O/", {"hull_set": "dft"}, HTTP_ACCEPT="application/json")
    assert api.status_code == 200
    units = document.pop("units")
    assert document == api.json()
    assert units["e_above_hull"] == units["formation_energy_per_atom"] == "eV/atom"
    assert len(document["entries"]) == len(embedded(html, "pd-rows"))


def test_the_page_offers_the_figure_as_png_and_svg(client, quaternary):
    html = client.get("/phase-diagram/", {"chemsys": "Li-Fe-O"}).content.decode()
    assert re.findall(r'data-image-download="(\w+)" data-target="pd-figure"', html) == ["png", "svg"]
    assert "portal/diagram_download.js" in html and 'id="pd-figure"' in html


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/phase-diagram/download.csv?chemsys=Li-Xx", 400),
        ("/phase-diagram/download.csv", 400),
        ("/phase-diagram/download.csv?chemsys=Li-O&hull_set=nope", 400),
        ("/phase-diagram/download.xlsx?chemsys=Li-O", 404),
    ],
)
def test_a_refused_download_says_why(client, quaternary, path, status):
    response = client.get(path)
    assert response.status_code == status
    assert "attachment" not in response.get("Content-Disposition", "")
