"""The material page's structure view and provenance as a reader meets them: element colours from pymatgen's
tables, bonds and polyhedra that can be shown or hidden, the cell drawn as stored, primitive or conventional,
"on the hull" for stable entries, source ids linked to their database, and no server path or management
command shown to the public."""

import re
from html import unescape
from pathlib import Path

import numpy as np
import pymatgen.vis
import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import User
from pymatgen.analysis.local_env import CrystalNN
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hull.models import Entry
from hull.prototype_names import prototype_name
from tests.portal.pages.test_material import figure

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def colour_tables() -> dict[str, dict[str, str]]:
    """pymatgen's element colour tables, read here from its YAML file as ``#rrggbb``."""
    path = Path(pymatgen.vis.__file__).parent / "ElementColorSchemes.yaml"
    tables = yaml.safe_load(path.read_text())
    return {
        name: {el: "#{:02x}{:02x}{:02x}".format(*rgb) for el, rgb in table.items()}
        for name, table in tables.items()
    }


@pytest.fixture
def li2o(catalogue):
    return Entry.objects.get(source_id="mp-1960")


def page(client, entry: Entry, **query) -> str:
    response = client.get(f"/materials/{entry.public_id}/", query)
    assert response.status_code == 200, response.content.decode()[:500]
    return response.content.decode()


def traces(view: dict, role: str) -> list[dict]:
    return [t for t in view["data"] if (t.get("meta") or {}).get("role") == role]


def atoms(view: dict) -> dict[str, dict]:
    return {t["name"]: t for t in view["data"] if t["type"] == "scatter3d" and t.get("mode") == "markers"}


def segments(trace: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    """The line pieces of a lines trace (points separated by None)."""
    points = list(zip(trace["x"], trace["y"], trace["z"], strict=True))
    pieces = []
    for start in range(0, len(points), 3):
        a, b, gap = points[start : start + 3]
        assert gap == (None, None, None)
        pieces.append((np.array(a), np.array(b)))
    return pieces


def stored_structure(entry: Entry) -> Structure:
    return Structure.from_dict(entry.structure)


@pytest.mark.parametrize("scheme", ["VESTA", "Jmol"])
def test_atoms_take_the_colours_of_pymatgens_table(client, catalogue, colour_tables, scheme):
    drawn = 0
    for entry in Entry.objects.filter(nsites__lte=12)[:6]:
        html = page(client, entry, **({} if scheme == "VESTA" else {"colours": scheme}))
        view = figure(html, "fig-structure")
        by_element = atoms(view)
        assert set(by_element) == {site.specie.symbol for site in stored_structure(entry)}
        for symbol, trace in by_element.items():
            assert trace["marker"]["color"] == colour_tables[scheme][symbol]
            drawn += 1
        for bond in traces(view, "bonds"):  # each half bond in the colour of its atom
            assert bond["line"]["color"] == colour_tables[scheme][bond["meta"]["element"]]
    assert drawn >= 6


def test_the_default_table_tells_li_from_mn(colour_tables, client, li2o):
    """The reason for VESTA: Jmol's Li and Mn are two close purples."""

    def distance(table: dict[str, str]) -> float:
        rgb = [np.array([int(table[el][i : i + 2], 16) for i in (1, 3, 5)]) for el in ("Li", "Mn")]
        return float(np.linalg.norm(rgb[0] - rgb[1]))

    assert distance(colour_tables["Jmol"]) < 100 < distance(colour_tables["VESTA"])
    assert "option selected>VESTA</option>" in page(client, li2o)


def test_unknown_colour_scheme(client, li2o):
    response = client.get(f"/materials/{li2o.public_id}/", {"colours": "rainbow"})
    assert response.status_code == 400 and "unknown colour scheme" in response.content.decode()


def test_bonds_shown_and_hidden(client, li2o):
    """In the conventional Li2O cell every Li lies inside, with the four O neighbours that CrystalNN finds all
    drawn: four half bonds from each Li, half as long as the Li-O distance, each met by a half bond from its O
    at the bond's middle."""
    conventional = SpacegroupAnalyzer(
        stored_structure(li2o), symprec=0.1
    ).get_conventional_standard_structure()
    reference = CrystalNN()
    (li_coordination,) = {
        len(reference.get_nn_info(conventional, i))
        for i, site in enumerate(conventional)
        if site.specie.symbol == "Li"
    }
    li_o = min(n.nn_distance for n in conventional.get_neighbors(conventional[0], 3.0))
    view = figure(page(client, li2o, cell="conventional"), "fig-structure")
    bonds = {t["meta"]["element"]: t for t in traces(view, "bonds")}
    assert set(bonds) == {"Li", "O"}
    assert all(t["visible"] is True for t in bonds.values())
    assert [t["showlegend"] for t in traces(view, "bonds")].count(True) == 1
    lithium = segments(bonds["Li"])
    assert len(lithium) == li_coordination * len(atoms(view)["Li"]["x"])
    oxygen = segments(bonds["O"])
    middles = [sorted(tuple(end.round(2)) for _, end in pieces) for pieces in (lithium, oxygen)]
    assert np.allclose(*middles, atol=2e-2)
    for start, end in lithium + oxygen:
        assert np.linalg.norm(end - start) == pytest.approx(li_o / 2, abs=1e-3)

    hidden = figure(page(client, li2o, cell="conventional", bonds="0"), "fig-structure")
    assert [t["visible"] for t in traces(hidden, "bonds")] == ["legendonly", "legendonly"]
    # the form's hidden 0 comes before the checkbox's 1: the checked box wins
    shown = client.get(f"/materials/{li2o.public_id}/?bonds=0&bonds=1").content.decode()
    assert all(t["visible"] is True for t in traces(figure(shown, "fig-structure"), "bonds"))


def test_peroxide_bond(client, catalogue):
    """Lithium peroxide (mp-841) holds O-O pairs at 1.55 Å: they are bonded."""
    entry = Entry.objects.get(source_id="mp-841")
    view = figure(page(client, entry), "fig-structure")
    oxygen = next(t for t in traces(view, "bonds") if t["meta"]["element"] == "O")
    structure = stored_structure(entry)
    o_o = min(
        n.nn_distance
        for i, site in enumerate(structure)
        if site.specie.symbol == "O"
        for n in structure.get_neighbors(site, 2.0)
        if n.specie.symbol == "O"
    )
    lengths = [np.linalg.norm(b - a) for a, b in segments(oxygen)]
    assert min(lengths) == pytest.approx(o_o / 2, abs=1e-3)


def test_polyhedra(client, li2o):
    """LiO4 tetrahedra around every Li drawn (four corners, four faces each); none around O."""
    view = figure(page(client, li2o, cell="conventional"), "fig-structure")
    (hidden,) = traces(view, "polyhedra")
    assert hidden["visible"] == "legendonly" and hidden["type"] == "mesh3d"
    view = figure(page(client, li2o, cell="conventional", polyhedra="1"), "fig-structure")
    (mesh,) = traces(view, "polyhedra")
    assert mesh["visible"] is True and mesh["meta"]["element"] == "Li"
    lithium = len(atoms(view)["Li"]["x"])
    assert mesh["meta"]["count"] == lithium
    assert len(mesh["x"]) == 4 * lithium and len(mesh["i"]) == 4 * lithium
    corners = len(mesh["x"])
    assert all(0 <= v < corners for key in ("i", "j", "k") for v in mesh[key])


def _cell_lengths(view: dict) -> list[float]:
    (cell,) = [t for t in view["data"] if t["name"] == "cell"]
    return sorted({round(float(np.linalg.norm(b - a)), 3) for a, b in segments(cell)})


def _sites_listed(html: str) -> int:
    table = re.search(r'<table class="sites">.*?</table>', html, re.S).group(0)
    return table.count("<tr>") - 1  # the header row


@pytest.mark.parametrize("source_id", ["mp-1960", "mp-841", "mp-1018789"])  # Li2O, Li2O2, LiO2
def test_cell_choice_changes_the_drawn_cell(client, catalogue, source_id):
    entry = Entry.objects.get(source_id=source_id)
    stored = stored_structure(entry)
    analyzer = SpacegroupAnalyzer(stored, symprec=entry.symprec or 0.1)
    expected = {
        "stored": stored,
        "primitive": analyzer.get_primitive_standard_structure(),
        "conventional": analyzer.get_conventional_standard_structure(),
    }
    for cell, structure in expected.items():
        html = page(client, entry, cell=cell)
        assert _sites_listed(html) == len(structure)
        assert f"<small>({len(structure)}, " in html
        assert _cell_lengths(figure(html, "fig-structure")) == sorted(
            {round(v, 3) for v in structure.lattice.abc}
        )
        assert f'<option value="{cell}" selected>' in html
    assert len(stored.get_primitive_structure()) == len(expected["primitive"])


def test_unknown_cell(client, li2o):
    response = client.get(f"/materials/{li2o.public_id}/", {"cell": "super"})
    assert response.status_code == 400 and "unknown cell" in response.content.decode()


def _stability_rows(html: str) -> dict[str, str]:
    table = re.search(r'<table id="stability">.*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr>\s*<td>(\w+)</td>(.*?)</tr>", table, re.S)
    return dict(rows)


def test_stable_entries_say_on_the_hull(client, catalogue):
    stable = Entry.objects.filter(stabilities__hull_set="dft", stabilities__is_stable=True).exclude(
        nelements=1
    )
    unstable = Entry.objects.filter(stabilities__hull_set="dft", stabilities__is_stable=False)
    assert stable.exists() and unstable.exists()
    for entry in (stable.first(), unstable.first()):
        row = _stability_rows(page(client, entry))["dft"]
        stability = entry.stabilities.get(hull_set="dft")
        if stability.is_stable:
            assert "on the hull" in row and f'href="/materials/{entry.public_id}/"' not in row
        else:
            assert "on the hull" not in row
            assert all(f'href="/materials/{p["public_id"]}/"' in row for p in stability.decomposition)


def test_materials_project_ids_link_to_their_page(client, li2o):
    html = page(client, li2o)
    assert '<a href="https://next-gen.materialsproject.org/materials/mp-1960"' in html


def test_ids_without_a_public_page_stay_text(client, li2o):
    Entry.objects.filter(pk=li2o.pk).update(source="wbm", source_id="wbm-1-2")
    html = page(client, li2o)
    ids = re.search(r'<dd id="source-id">(.*?)</dd>', html, re.S).group(1)
    assert "wbm-1-2" in ids and "<a " not in ids


def test_no_server_path_or_command_for_the_public(client, li2o):
    batch = li2o.batch
    assert batch.path.startswith("/")
    html = page(client, li2o)
    provenance = unescape(re.search(r'<dd id="provenance">(.*?)</dd>', html, re.S).group(1))
    assert Path(batch.path).name in provenance and batch.source in provenance
    assert "/" not in provenance.split(", added")[0]
    text = unescape(html)
    for secret in (batch.path, str(Path(batch.path).parent), str(settings.BASE_DIR), "manage.py"):
        assert secret not in text


def test_staff_see_the_path(client, li2o):
    client.force_login(User.objects.create_user("curator", is_staff=True))
    html = unescape(page(client, li2o))
    assert li2o.batch.path in html and "manage.py compute_features" in html


@pytest.mark.parametrize(("source_id", "named"), [("mp-1960", "fluorite"), ("mp-841", "")])
def test_structure_type_named(client, catalogue, source_id, named):
    """Li2O is antifluorite, as the table of well-known types says; lithium peroxide matches none."""
    entry = Entry.objects.get(source_id=source_id)
    html = page(client, entry)
    name = prototype_name(
        stored_structure(entry),
        anonymous=entry.anonymous_formula,
        spacegroup_number=entry.spacegroup_number,
        symprec=entry.symprec,
    )
    assert named in name if named else name == ""
    if name:
        assert f'<dt>Structure type</dt><dd id="structure-type">{name}</dd>' in unescape(html)
    else:
        assert 'id="structure-type"' not in html
