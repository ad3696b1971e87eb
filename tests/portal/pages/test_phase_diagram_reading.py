"""The phase diagram reads like a textbook figure: labelled stable phases, a colour bar with its unit, one unit
(eV/atom) everywhere, a tetrahedron that fills its box, sortable tables, the title in the order typed, a form
that keeps what was typed when the request is refused, and the catalogue's elements said."""

import html as html_lib
import math
import re

import pytest
from django.utils import timezone

from discovery.models import Round
from hull.phase_diagrams import phase_diagram_get
from tests.portal.pages.test_phase_diagram import BAD, embedded, traces

pytestmark = pytest.mark.django_db


def page(client, **query):
    response = client.get("/phase-diagram/", query)
    return response, response.content.decode()


def is_element(entry) -> bool:
    return sum(f > 0 for f in entry.fractions.values()) == 1


def test_stable_phases_carry_labels(client, quaternary):
    _, html = page(client, chemsys="Li-Fe-O")
    stable = traces(html)["stable"]
    assert stable["mode"] == "markers+text"
    by_id = {e.public_id: e for e in phase_diagram_get(chemsys="Fe-Li-O").stable}
    labels = dict(zip((c[0] for c in stable["customdata"]), stable["text"], strict=True))
    assert set(labels) == set(by_id)
    for public_id, label in labels.items():
        entry = by_id[public_id]
        assert label == ("" if is_element(entry) else entry.reduced_formula)  # corners are named already
    assert "LiFeO2" in labels.values()
    # the binary labels its end members too, under the hull
    binary = traces(page(client, chemsys="Li-O")[1])["stable"]
    assert "Li" in binary["text"] and "Li2O" in binary["text"]
    assert binary["textposition"] == "bottom center"


def test_unstable_colour_bar_and_one_unit(client, quaternary):
    _, html = page(client, chemsys="Li-Fe-O")
    by_name = traces(html)
    unstable = by_name["unstable (coloured by energy above hull)"]
    # the colour bar: the unstable entries' scale as coloured blocks on an axis titled with the unit (plotly's
    # own colour bar sets an inline style, which the Content Security Policy refuses)
    bar = by_name["colour bar"]
    assert bar["meta"] == {"role": "colour-bar"} and bar["yaxis"] == "y2"
    for key in ("colorscale", "cmin", "cmax"):
        assert bar["marker"][key] == unstable["marker"][key]
    assert min(bar["base"]) == pytest.approx(0) and bar["base"][-1] + bar["y"][-1] == pytest.approx(
        unstable["marker"]["cmax"]
    )
    axis = embedded(html, "fig-pd")["layout"]["yaxis2"]
    assert axis["title"]["text"] == "energy above hull (eV/atom)" and axis["range"] == [
        0,
        unstable["marker"]["cmax"],
    ]
    assert not unstable["marker"].get("showscale")
    assert "meV" not in html  # hover, tables and slider alike in eV/atom
    entries = phase_diagram_get(chemsys="Fe-Li-O").entries
    entry = next(e for e in entries if e.is_stable is False and e.formation_energy_per_atom is not None)
    hover = unstable["hovertext"][[c[0] for c in unstable["customdata"]].index(entry.public_id)]
    assert f"above hull {entry.e_above_hull:.3f} eV/atom" in hover
    assert unstable["hovertemplate"] == "%{hovertext}<extra></extra>"
    assert "eV/atom above the hull</label>" in html  # the slider
    assert "above hull (eV/atom)</th>" in html


def test_tetrahedron_fills_its_box(client, quaternary):
    _, html = page(client, chemsys="Li-Fe-P-O")
    layout = embedded(html, "fig-pd")["layout"]
    eye = layout["scene"]["camera"]["eye"]
    assert math.dist((eye["x"], eye["y"], eye["z"]), (0, 0, 0)) < 1.9  # plotly's default is 2.17 away
    assert layout["margin"]["t"] + layout["margin"]["b"] <= 20 and layout["height"] >= 600
    assert layout["legend"]["y"] == 1  # over the plot, not below it


def test_title_keeps_the_order_typed(client, quaternary):
    response, html = page(client, chemsys="O-Li-Fe")
    assert response.status_code == 200
    assert '<h1>Phase diagram of <span id="pd-title-system">O-Li-Fe</span></h1>' in html
    assert "<title>O-Li-Fe phase diagram" in html


def test_tables_are_sortable(client, quaternary):
    _, html = page(client, chemsys="Li-Fe-O")
    assert re.search(r'<script src="/static/portal/sortable\.js[^"]*" defer></script>', html)
    for table_id in ("stable-table", "entries-table"):
        table = re.search(rf'<table id="{table_id}"[^>]*>.*?</thead>', html, re.S).group(0)
        assert "data-sortable" in table and 'class="compact entries"' in table
        for heading in re.findall(r"<th [^>]*>[^<]*\(eV/atom\)</th>", table):
            assert 'class="num" data-sort="number"' in heading
    assert "onclick" not in html


@pytest.mark.parametrize(("query", "message"), BAD)
def test_refused_request_keeps_the_form(client, quaternary, query, message):
    response, html = page(client, **query)
    assert response.status_code == 400
    assert html.index('id="pd-error"') < html.index('id="pd-form"')  # the message above the form
    typed = html_lib.escape(query["chemsys"], quote=True)
    assert f'name="chemsys" id="chemsys" value="{typed}"' in html
    if "cutoff" in query:
        assert f'name="cutoff" value="{query["cutoff"]}"' in html
    if "slice" in query:
        assert f'name="slice" value="{query["slice"]}"' in html
    if query.get("hull_set") != "nope":
        assert "<option selected>dft</option>" in html


def test_refused_request_keeps_the_chosen_round(client, quaternary):
    Round.objects.create(number=2, status="succeeded", finished_at=timezone.now())
    response, html = page(client, chemsys="Li-Xx", round="2")
    assert response.status_code == 400
    assert 'option value="2" selected' in html


def test_catalogue_elements_and_absent_ones(client, quaternary):
    _, html = page(client)
    assert (
        '<p class="note small" id="catalogue-elements">The catalogue holds entries of 4 elements: Fe, Li, O, P.</p>'
        in html
    )
    response, html = page(client, chemsys="Cu-O")
    assert response.status_code == 200  # O is drawn; Cu is said to be absent
    assert '<p class="error" id="pd-absent">The catalogue holds no Cu entries.</p>' in html
    response, html = page(client, chemsys="Na-Cu")
    assert response.status_code == 400
    assert "no entries in the chemical system Cu-Na" in html
    assert '<p class="error" id="pd-absent">The catalogue holds no Cu or Na entries.</p>' in html
    _, html = page(client, chemsys="Li-O")
    assert 'id="pd-absent"' not in html
