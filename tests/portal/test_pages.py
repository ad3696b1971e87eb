"""The home page and the minimal material page render from the catalogue; bad requests get a clear message."""

import pytest

from hull.models import Entry
from hull.services.ingest import ingest_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(li_o_file):
    ingest_file(path=li_o_file)


def test_home_shows_counts(client, catalogue):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="number" id="n-entries">57</span>' in html
    stable = Entry.objects.filter(stabilities__hull_set="dft", stabilities__is_stable=True).count()
    assert f'<span class="number" id="n-stable">{stable}</span>' in html
    assert '<span class="number" id="n-chemsys">3</span>' in html


def test_home_rejects_unknown_hull_set(client, catalogue):
    response = client.get("/?hull_set=nope")
    assert response.status_code == 400
    assert "unknown hull set &#x27;nope&#x27;" in response.content.decode()


def test_material_page(client, catalogue):
    entry = Entry.objects.get(source_id="mp-1960")
    response = client.get(f"/materials/{entry.public_id}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Li2O" in html and "Fm-3m" in html and "mp-1960" in html
    assert "spglib tolerance 0.1" in html


def test_unstable_material_links_its_decomposition(client, catalogue):
    entry = Entry.objects.filter(stabilities__hull_set="dft", stabilities__is_stable=False).first()
    stab = entry.stabilities.get(hull_set="dft")
    html = client.get(f"/materials/{entry.public_id}/").content.decode()
    for part in stab.decomposition:
        assert f'href="/materials/{part["public_id"]}/"' in html


def test_unknown_material_is_404_with_message(client):
    response = client.get("/materials/mdp-doesnotexist/")
    assert response.status_code == 404
    assert "no entry with id" in response.content.decode()
