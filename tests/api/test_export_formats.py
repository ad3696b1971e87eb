"""The REST export in its two formats (JSON Lines, CSV) from the one writer of each (portal/downloads.py): the
same entries, in the same order, with the same values; a format it does not know, or structures in CSV, is a
400 naming the parameter. The REST list reads typed searches as the search page does (hull/search.py)."""

import csv
import gzip
import io
import json

import pytest
from pymatgen.core import Composition

from hull.models import Entry
from hull.space_groups import space_group_symbol

pytestmark = pytest.mark.django_db
EXPORT = "/api/v1/materials/export/"


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_csv_holds_the_json_lines_rows(client, catalogue):
    query = {"elements": "li,o", "sort": "-e_above_hull"}  # element symbols in any case
    lines = [json.loads(line) for line in body(client.get(EXPORT, query)).splitlines()]
    response = client.get(EXPORT, {**query, "format": "csv"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="materials.csv"'
    text = body(response)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert lines and len(rows) == len(lines)
    for row, line in zip(rows, lines, strict=True):
        assert list(row) == list(line)
        for name, value in line.items():
            expected = (
                ""
                if value is None
                else " ".join(value)
                if isinstance(value, list)
                else str(value).lower()
                if isinstance(value, bool)
                else json.dumps(value, separators=(",", ":"))
                if isinstance(value, dict)
                else value
                if isinstance(value, str)
                else repr(value)
            )
            assert row[name] == expected, name
    packed = client.get(EXPORT, {**query, "format": "csv", "compress": "gzip"})
    assert packed["Content-Disposition"] == 'attachment; filename="materials.csv.gz"'
    assert gzip.decompress(b"".join(packed.streaming_content)).decode() == text


@pytest.mark.parametrize(
    ("query", "name", "said"),
    [({"format": "xlsx"}, "format", "'xlsx'"), ({"format": "csv", "structure": "1"}, "structure", "not csv")],
)
def test_export_refuses_what_it_cannot_write(client, catalogue, query, name, said):
    response = client.get(EXPORT, query)
    assert response.status_code == 400
    assert list(response.json()) == [name] and said in response.json()[name][0]


def test_the_api_reads_typed_searches_as_the_page_does(client, catalogue):
    """The REST list shares the search's readings (hull/search.py): ABO3 keeps oxygen (with another condition
    beside it and when asked again), a space group in any spelling, element symbols in any case."""

    def ids(**query) -> list[str]:
        response = client.get("/api/v1/materials/", {**query, "page_size": 100})
        assert response.status_code == 200, response.content
        return [row["public_id"] for row in response.json()["results"]]

    oxides = sorted(
        e.public_id
        for e in Entry.objects.all()
        if sorted(Composition(e.reduced_formula).get_el_amt_dict().values()) == [1, 1, 3]
        and Composition(e.reduced_formula)["O"] == 3
    )
    assert oxides and sorted(ids(anonymous_formula="ABO3")) == oxides
    assert sorted(ids(anonymous_formula="ABO3", nsites_min=1)) == oxides
    assert sorted(ids(anonymous_formula="ABO3")) == oxides
    assert sorted(ids(anonymous_formula="abo3")) == oxides
    number = Entry.objects.exclude(spacegroup_number=None).values_list("spacegroup_number", flat=True).first()
    spelled = space_group_symbol(number).replace("_", "").lower()
    assert ids(spacegroup_symbol=spelled) == ids(spacegroup_number=number) != []
    assert ids(elements="li,FE") == ids(elements="Li,Fe") != []
