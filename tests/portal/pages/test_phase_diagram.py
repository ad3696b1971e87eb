"""The phase-diagram page on the real Li-Fe-P-O space: 2, 3 and 4 elements drawn, 5 or more as a table with a
4-element slice, the unstable cutoff, the comparison with the hull after a discovery round, and clear
messages for bad input."""

import datetime as dt
import json
import re

import pytest
from django.utils import timezone
from plotly import graph_objects as go

from discovery.models import Round
from hull.models import Entry
from hull.phase_diagrams import phase_diagram_get

pytestmark = pytest.mark.django_db


def embedded(html: str, element_id: str):
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert match, f"no JSON {element_id}"
    return json.loads(match.group(1))


def traces(html: str) -> dict[str, dict]:
    fig = embedded(html, "fig-pd")
    go.Figure(fig)  # valid against plotly's schema
    return {trace["name"]: trace for trace in fig["data"]}


def test_empty_form(client, quaternary):
    response = client.get("/phase-diagram/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="chemsys"' in html and "Li-Fe-P-O" in html
    assert "fig-pd" not in html


def test_binary(client, quaternary):
    response = client.get("/phase-diagram/", {"chemsys": "O-Li"})
    html = response.content.decode()
    assert response.status_code == 200
    data = phase_diagram_get(chemsys="Li-O")
    by_name = traces(html)
    assert by_name["hull today"]["type"] == "scatter" and by_name["hull today"]["mode"] == "lines"
    stable = by_name["stable"]
    assert len(stable["x"]) == len(data.stable)
    assert {c[0] for c in stable["customdata"]} == {e.public_id for e in data.stable}
    unstable = by_name["unstable (coloured by energy above hull)"]
    assert unstable["meta"] == {"role": "unstable"}
    assert len(unstable["x"]) == sum(1 for e in data.entries if e.is_stable is False)
    rows = embedded(html, "pd-rows")
    assert len(rows) == len(data.entries)
    unstable_row = next(r for r in rows if not r[4])
    assert unstable_row[6] and all(len(part) == 3 for part in unstable_row[6])  # decomposition links
    assert 'id="cutoff"' in html and 'value="0.2"' in html
    for e in data.stable:
        assert f'href="/materials/{e.public_id}/"' in html  # the stable-phase table


def test_ternary(client, quaternary):
    html = client.get("/phase-diagram/", {"chemsys": "Li-Fe-O"}).content.decode()
    by_name = traces(html)
    assert by_name["stable"]["type"] == "scatterternary"
    assert by_name["hull today"]["type"] == "scatterternary"
    stable = by_name["stable"]
    for a, b, c in zip(stable["a"], stable["b"], stable["c"], strict=True):
        assert a + b + c == pytest.approx(1.0, abs=1e-5)


def test_quaternary_tetrahedron(client, quaternary):
    html = client.get("/phase-diagram/", {"chemsys": "Li-Fe-P-O", "cutoff": "0.05"}).content.decode()
    by_name = traces(html)
    assert by_name["stable"]["type"] == "scatter3d"
    assert by_name["elements"]["text"] == ["Fe", "Li", "O", "P"]
    assert 'value="0.05"' in html
    data = phase_diagram_get(chemsys="Fe-Li-O-P")
    assert len(by_name["stable"]["x"]) == len(data.stable)
    assert "Drag to rotate" in html


def test_five_elements_table_and_slice(client, quaternary):
    html = client.get("/phase-diagram/", {"chemsys": "Li-Fe-P-O-Mn"}).content.decode()
    assert "5 elements cannot be drawn at once" in html
    assert "No elemental reference for Mn" in html
    assert 'name="slice" value="Fe-Li-O-P"' in html  # the slice with the most entries
    assert traces(html)["stable"]["type"] == "scatter3d"
    html = client.get("/phase-diagram/", {"chemsys": "Li-Fe-P-O-Mn", "slice": "Li-Fe-O-Mn"}).content.decode()
    assert 'name="slice" value="Fe-Li-Mn-O"' in html


def test_slice_matches_its_own_diagram(client, quaternary):
    from portal.pages.diagrams import _slice_of

    whole = phase_diagram_get(chemsys="Fe-Li-Mn-O-P")
    piece = _slice_of(whole, ["Fe", "Li", "O", "P"])
    direct = phase_diagram_get(chemsys="Fe-Li-O-P")
    assert sorted(piece.stable_keys) == sorted(direct.stable_keys)
    assert sorted(map(sorted, piece.facets)) == sorted(map(sorted, direct.facets))


def test_round_comparison_marks_new_stable_phases(client, quaternary):
    now = timezone.now()
    Entry.objects.update(created_at=now - dt.timedelta(days=3))
    newer = Entry.objects.filter(chemsys_id="Fe-Li-O-P")
    newer.update(created_at=now)
    Round.objects.create(number=1, status="succeeded", finished_at=now - dt.timedelta(days=1))
    html = client.get("/phase-diagram/", {"chemsys": "Li-Fe-P-O", "round": "1"}).content.decode()
    by_name = traces(html)
    stable_now = {e.public_id for e in phase_diagram_get(chemsys="Fe-Li-O-P").stable}
    new = {c[0] for c in by_name["new stable since round 1 (DFT)"]["customdata"]}  # says by whom
    assert new and new <= stable_now
    assert new == {e.public_id for e in newer if e.public_id in stable_now}
    assert "hull round 1" in by_name and by_name["hull round 1"]["line"]["dash"] == "dash"
    assert f"{len(new)} new stable phase" in html
    assert 'option value="1" selected' in html


BAD = [
    ({"chemsys": "Li-Xx"}, "unknown element &#x27;Xx&#x27;"),
    ({"chemsys": "Li--O"}, "malformed chemical system"),
    ({"chemsys": "Li-O-Li"}, "repeats an element"),
    ({"chemsys": "H-He-Li-Be-B-C-N-O-F"}, "has 9 elements; at most 8"),
    ({"chemsys": "Li-*-O"}, "unknown element"),
    ({"chemsys": "Li-O", "cutoff": "-1"}, "must not be negative"),
    ({"chemsys": "Li-O", "cutoff": "lots"}, "not a number"),
    ({"chemsys": "Li-O", "round": "7"}, "no discovery round number 7"),
    ({"chemsys": "Li-O", "round": "first"}, "not a whole number"),
    ({"chemsys": "Li-O", "hull_set": "nope"}, "unknown hull set"),
    ({"chemsys": "Na-Cl"}, "no entries in the chemical system Cl-Na"),
    ({"chemsys": "Li-Fe-P-O-Mn", "slice": "Li-Fe-O"}, "must be 4 elements of"),
    ({"chemsys": "Li-Fe-P-O-Mn", "slice": "Li-Fe-O-Co"}, "must be 4 elements of"),
]


@pytest.mark.parametrize(("query", "message"), BAD)
def test_bad_input(client, quaternary, query, message):
    response = client.get("/phase-diagram/", query)
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="pd-error"' in html and message in html
    assert 'id="pd-form"' in html


def test_unfinished_round(client, quaternary):
    Round.objects.create(number=3, status="running")
    response = client.get("/phase-diagram/", {"chemsys": "Li-O", "round": "3"})
    assert response.status_code == 400 and "has not finished" in response.content.decode()
