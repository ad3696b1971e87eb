"""Every page links the API docs, schema, token page, OPTIMADE, the stability check and sign-in (or sign-out);
no link of any page is broken. The "Would my compound be stable?" page answers as the service does, with the
provenance of the hull, and keeps what was typed on errors."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from plotly import graph_objects as go

from hull.models import Entry
from hull.phase_diagrams import hypothetical_stability
from hull.source_links import source_page

pytestmark = pytest.mark.django_db

SIGN_IN = "/api/auth/login/"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links_of(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.hrefs


def pages(client) -> list[str]:
    """One address of every page kind over the Li-O catalogue (a material, a result, a diagram included)."""
    stable = Entry.objects.filter(stabilities__hull_set="dft", stabilities__is_stable=True).first()
    return [
        "/",
        "/search/",
        "/search/?elements=Li,O",
        f"/materials/{stable.public_id}/",
        "/phase-diagram/",
        "/phase-diagram/?chemsys=Li-O",
        "/families/",
        "/families/layered/",
        "/families/li-conductors/",
        "/families/li-mn-oxides/",
        "/families/prototypes/",
        "/discovery/",
        "/stability/",
        "/stability/?formula=Li2O&energy=-4&energy_basis=per_atom&hull_set=dft",
        SIGN_IN,
    ]


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
NAVIGATION = ["/api/", "/api/docs/", "/api/schema/", "/api/token/", "/optimade/", "/stability/"]


def test_every_page_links_the_api_the_check_and_sign_in(client, catalogue):
    for page in pages(client):
        response = client.get(page)
        assert response.status_code == 200, page
        hrefs = links_of(response.content.decode())
        for target in NAVIGATION:
            assert target in hrefs, f"{page} does not link {target}"
        if page != SIGN_IN:
            assert any(h.startswith(f"{SIGN_IN}?next=") for h in hrefs), f"{page} has no sign-in link"


def test_no_page_has_a_broken_link(client, catalogue, settings):
    """Every link of every page (each address once) answers 200, or sends an anonymous visitor to sign in; the
    only links out of the portal are source ids' public pages (hull.source_links), each its id's address."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    open_rates = {**rates, "anon": "100000/min", "page_anon": "100000/min"}  # one visitor reads them all
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": open_rates}
    checked: dict[str, int] = {}
    for page in pages(client):
        for href in links_of(client.get(page).content.decode()):
            url = urljoin(page, href)
            parts = urlsplit(url)
            if parts.netloc:
                source_id = parts.path.rstrip("/").rsplit("/", 1)[-1]
                origin = source_page(source="mp", source_id=source_id)
                assert origin and origin[1] == url, f"{page} links outside the portal: {href}"
                continue
            address = parts.path + (f"?{parts.query}" if parts.query else "")
            if not parts.path or address in checked:
                continue
            response = client.get(address, HTTP_ACCEPT=BROWSER_ACCEPT)  # followed in a browser
            checked[address] = response.status_code
            if response.status_code == 302:
                assert urlsplit(response["Location"]).path == SIGN_IN, (page, address, response["Location"])
            else:
                assert response.status_code == 200, (page, address, response.status_code)
    assert len(checked) > 40  # the walk reached the materials, the diagrams and the API pages


def test_signed_in_pages_offer_sign_out(client, catalogue, django_user_model):
    django_user_model.objects.create_user("ada", password="pw-ada-123")
    response = client.post(f"{SIGN_IN}?next=/discovery/", {"username": "ada", "password": "pw-ada-123"})
    assert response.status_code == 302 and response["Location"] == "/discovery/"
    html = client.get("/discovery/").content.decode()
    assert 'id="sign-out"' in html and "Sign out (ada)" in html and 'id="nav-sign-in"' not in html
    assert client.get("/api/token/").status_code == 200
    response = client.post("/api/auth/logout/", {"next": "/discovery/"})
    assert response.status_code == 302 and response["Location"] == "/discovery/"
    assert 'id="nav-sign-in"' in client.get("/discovery/").content.decode()
    # the sign-in page opened on its own, and sign-out with no page to go back to: both go home
    response = client.post(SIGN_IN, {"username": "ada", "password": "pw-ada-123"})
    assert response.status_code == 302 and response["Location"] == "/"
    response = client.post("/api/auth/logout/")
    assert response.status_code == 302 and response["Location"] == "/"


# --- the stability check --------------------------------------------------------------------------


def li2o_energy() -> float:
    return Entry.objects.get(source_id="mp-1960").energy_per_atom


def check(client, **fields):
    query = {"energy_basis": "per_atom", "hull_set": "dft", **fields}
    return client.get("/stability/", query)


def field_value(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, name
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def test_stability_form(client, catalogue):
    response = client.get("/stability/")
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("formula", "energy", "energy_basis", "hull_set"):
        assert f'for="id_{name}"' in html and f'id="id_{name}"' in html  # every input labelled
    assert 'id="stability-result"' not in html


def test_unstable_compound_as_the_service_says(client, catalogue):
    energy = li2o_energy() + 0.1
    response = check(client, formula="Li4O2", energy=str(energy))
    html = response.content.decode()
    assert response.status_code == 200
    expected = hypothetical_stability(composition={"Li": 4.0, "O": 2.0}, energy_per_atom=energy)
    assert expected["e_above_hull"] == pytest.approx(0.1, abs=1e-6)
    assert f'id="e-above-hull">{expected["e_above_hull"]:.4f} eV/atom' in html
    assert f"{expected['formation_energy_per_atom']:.4f} eV/atom" in html
    assert "Not stable" in html
    decomposition = re.search(r'<dd id="decomposition">(.*?)</dd>', html, re.S).group(1)
    for part in expected["decomposition"]:
        assert f'href="/materials/{part["public_id"]}/"' in decomposition
    provenance = re.search(r'<p id="provenance">(.*?)</p>', html, re.S).group(1)
    assert "dft hull set" in provenance and "Li-O and its subsystems" in provenance
    n = Entry.objects.filter(method_family="dft").count()
    assert f"{n} entries" in provenance and f"mp: {n}" in provenance
    assert field_value(html, "formula") == "Li4O2"  # the form keeps what was typed
    # the phase diagram of Li-O with the compound marked where it sits
    figure = json.loads(
        re.search(r'<script type="application/json" id="fig-stability">(.*?)</script>', html).group(1)
    )
    go.Figure(figure)
    mine = next(t for t in figure["data"] if t["name"] == "your compound (Li2O)")
    assert mine["x"] == [pytest.approx(1 / 3, abs=1e-6)]
    assert mine["y"] == [pytest.approx(expected["formation_energy_per_atom"])]
    assert mine["text"] == ["Li2O"] and "customdata" not in mine
    assert "above hull 0.100 eV/atom" in mine["hovertext"][0]
    assert any(t["name"] == "stable" for t in figure["data"])


def test_stable_compound_and_total_energy(client, catalogue):
    per_atom = li2o_energy() - 0.05
    html = check(client, formula="Li2O", energy=str(per_atom * 3), energy_basis="total").content.decode()
    expected = hypothetical_stability(composition={"Li": 2.0, "O": 1.0}, energy_per_atom=per_atom)
    assert expected["is_stable"]
    assert "<strong>Stable</strong>" in html
    assert f'id="e-above-hull">{expected["e_above_hull"]:.4f} eV/atom' in html
    assert 'id="decomposition"' not in html  # a stable compound does not decompose


def test_compound_with_an_element_the_catalogue_lacks(client, catalogue):
    response = check(client, formula="NaCl", energy="-3.5")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Stability unknown: no elemental reference for Cl, Na" in html
    assert 'id="e-above-hull">unknown' in html
    assert 'id="fig-stability"' not in html  # no hull to draw


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"formula": "Xx2O", "energy": "-4"}, "formula", "which is not an element symbol"),
        ({"formula": "LiO0", "energy": "-4"}, "formula", "the amount of O in"),
        ({"formula": "LiO2", "energy": "-4000"}, "energy", "out of range"),
        ({"formula": "LiO2", "energy": "-4000", "energy_basis": "total"}, "energy", "out of range"),
        ({"formula": "", "energy": "-4"}, "formula", "This field is required"),
        ({"formula": "LiO2", "energy": "lots"}, "energy", "Enter a number"),
        ({"formula": "LiO2", "energy": "nan"}, "energy", "Enter a number"),
        ({"formula": "LiO2", "energy": "-4", "hull_set": "nope"}, "hull_set", "Select a valid choice"),
        ({"formula": "HHeLiBeBCNOF", "energy": "-4"}, "formula", "at most 8"),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_kept(client, catalogue, fields, field, message):
    response = check(client, **fields)
    html = response.content.decode()
    assert response.status_code == 400
    error = re.search(rf'<span class="error" role="alert" id="{field}-error">(.*?)</span>', html, re.S)
    assert error and message in error.group(1)
    assert field_value(html, "formula") == fields["formula"]
    if field != "energy":
        assert field_value(html, "energy") == fields["energy"]
    assert 'id="stability-result"' not in html


def test_a_link_with_formula_and_energy_only_uses_the_initial_choices(client, catalogue):
    """A shared link such as /stability/?formula=Li2O&energy=-4.5 is answered (per atom, the default hull set)
    as the complete form would be, not refused for the fields it leaves out."""
    energy = li2o_energy() + 0.02
    short = client.get("/stability/", {"formula": "Li2O", "energy": str(energy)})
    full = check(client, formula="Li2O", energy=str(energy), energy_basis="per_atom", hull_set="dft")
    assert short.status_code == full.status_code == 200
    value = re.search(r'id="e-above-hull">(.*?)<', short.content.decode()).group(1)
    assert value == re.search(r'id="e-above-hull">(.*?)<', full.content.decode()).group(1)
    assert value.startswith("0.0200")
