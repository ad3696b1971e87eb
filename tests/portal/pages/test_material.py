"""The material page: energies per hull set with decomposition links, symmetry at a chosen tolerance, lattice,
sites, the 3D view, downloads in every format and cell, and entries of the same prototype."""

import io
import json
import re

import pytest
from plotly import graph_objects as go
from pymatgen.core import Structure
from pymatgen.io.vasp import Poscar

from hull.models import Entry

pytestmark = pytest.mark.django_db


def figure(html: str, element_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert match, f"no figure {element_id}"
    data = json.loads(match.group(1))
    go.Figure(data)  # valid against plotly's schema
    return data


@pytest.fixture
def li2o(catalogue):
    return Entry.objects.get(source_id="mp-1960")


def test_material_page(client, li2o):
    response = client.get(f"/materials/{li2o.public_id}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Li2O" in html and "mp-1960" in html and li2o.public_id in html
    assert "Fm-3m (225)" in html and "cubic" in html and "spglib tolerance 0.1 Å" in html
    assert f'href="/phase-diagram/?chemsys={li2o.chemsys_id}"' in html
    assert 'id="lattice"' in html and "α = 60.000°" in html or "α = 90.000°" in html
    view = figure(html, "fig-structure")
    names = {trace["name"] for trace in view["data"]}
    assert names == {"cell", "Li", "O", "bonds", "polyhedra"}
    cell = next(t for t in view["data"] if t["name"] == "cell")
    assert sum(1 for v in cell["x"] if v is None) == 12  # twelve cell edges
    colours = {
        t["name"]: t["marker"]["color"] for t in view["data"] if t["type"] == "scatter3d" and "marker" in t
    }
    assert colours["O"] == "#fe0300"  # VESTA oxygen


def test_material_symmetry_tolerance(client, li2o):
    html = client.get(f"/materials/{li2o.public_id}/?symprec=0.001").content.decode()
    assert "spglib tolerance 0.001 Å" in html
    for bad in ("abc", "0", "5", "nan"):
        response = client.get(f"/materials/{li2o.public_id}/", {"symprec": bad})
        assert response.status_code == 400
        assert (
            "symmetry tolerance" in response.content.decode() or "not a number" in response.content.decode()
        )


def test_unstable_material_links_its_decomposition(client, catalogue):
    entry = Entry.objects.filter(stabilities__hull_set="dft", stabilities__is_stable=False).first()
    html = client.get(f"/materials/{entry.public_id}/").content.decode()
    for part in entry.stabilities.get(hull_set="dft").decomposition:
        assert f'href="/materials/{part["public_id"]}/"' in html


def test_unknown_material(client, catalogue):
    response = client.get("/materials/mdp-nothing/")
    assert response.status_code == 404
    assert "no entry with id" in response.content.decode()


@pytest.mark.parametrize("cell", ["conventional", "primitive", "stored"])
@pytest.mark.parametrize("fmt", ["cif", "poscar", "extxyz", "json"])
def test_downloads(client, li2o, fmt, cell):
    response = client.get(f"/materials/{li2o.public_id}/download/{fmt}/", {"cell": cell})
    assert response.status_code == 200
    assert f'filename="{li2o.public_id}_{cell}.' in response["Content-Disposition"]
    text = response.content.decode()
    expected = {"conventional": 12, "primitive": 3, "stored": li2o.nsites}[cell]
    if fmt == "cif":
        structure = Structure.from_str(text, fmt="cif")
    elif fmt == "poscar":
        structure = Poscar.from_str(text).structure
    elif fmt == "json":
        structure = Structure.from_dict(json.loads(text))
    else:
        lines = text.splitlines()
        assert int(lines[0]) == expected and 'Lattice="' in lines[1] and "energy=" in lines[1]
        from ase.io import read

        atoms = read(io.StringIO(text), format="extxyz")
        assert len(atoms) == expected
        return
    assert len(structure) == expected
    assert structure.composition.reduced_formula == "Li2O"


def test_download_bad_requests(client, li2o):
    assert client.get(f"/materials/{li2o.public_id}/download/xyz/").status_code == 404
    response = client.get(f"/materials/{li2o.public_id}/download/cif/", {"cell": "super"})
    assert response.status_code == 404 and "unknown cell" in response.content.decode()
    assert client.get("/materials/mdp-nothing/download/cif/").status_code == 404


def test_same_prototype(client, with_prototypes):
    li2o = Entry.objects.get(source_id="mp-1960")
    html = client.get(f"/materials/{li2o.public_id}/").content.decode()
    assert f"Prototype</dt><dd>{li2o.anonymous_formula}_225_" in html.replace("\n", "")
    match = Entry.objects.filter(features__prototype_key=li2o.features.prototype_key).exclude(pk=li2o.pk)
    for other in match:
        assert f'href="/materials/{other.public_id}/"' in html


def test_material_without_features_says_so(client, li2o):
    html = client.get(f"/materials/{li2o.public_id}/").content.decode()
    assert "has not been computed yet" in html
