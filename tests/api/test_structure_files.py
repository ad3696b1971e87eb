"""One structure exporter (hull/export.py): the material page and the REST API give the same file, byte for
byte, for the same material and cell; OPTIMADE serves the same lattice, species and positions as numbers."""

import re

import pytest

from hull.export import DECIMALS
from hull.models import Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def materials(catalogue) -> list[Entry]:
    """The smallest and the largest structure of the catalogue (a cubic cell and a many-site one)."""
    entries = Entry.objects.filter(structure__isnull=False).order_by("nsites", "id")
    return [entries.first(), entries.last()]


@pytest.mark.parametrize("fmt", ["cif", "poscar", "extxyz"])
def test_page_and_rest_downloads_are_the_same_file(client, materials, fmt):
    for entry in materials:
        page = client.get(f"/materials/{entry.public_id}/download/{fmt}/", {"cell": "stored"})
        rest = client.get(f"/api/v1/materials/{entry.public_id}/", {"format": fmt})
        assert page.status_code == rest.status_code == 200
        assert page.content == rest.content
        for header in ("Content-Type", "Content-Disposition"):
            assert page[header] == rest[header]


def test_every_number_is_written_with_the_same_precision(client, materials):
    entry = materials[-1]
    number = re.compile(rf"-?\d+\.\d{{{DECIMALS}}}\b")
    for fmt in ("cif", "poscar", "extxyz"):
        text = client.get(f"/api/v1/materials/{entry.public_id}/", {"format": fmt}).content.decode()
        if fmt == "poscar":  # less its scale factor, "1.0" in every file
            text = "\n".join(line for i, line in enumerate(text.splitlines()) if i != 1)
        decimals = {len(match.split(".")[1]) for match in re.findall(r"-?\d+\.\d+", text)}
        assert decimals == {DECIMALS}, fmt
        assert len(number.findall(text)) >= 3 * entry.nsites


def test_optimade_serves_the_numbers_of_the_file(client, materials):
    for entry in materials:
        lines = client.get(f"/api/v1/materials/{entry.public_id}/", {"format": "extxyz"}).content.decode()
        lines = lines.splitlines()
        attributes = client.get(f"/optimade/v1/structures/{entry.public_id}").json()["data"]["attributes"]

        def written(values: list[float]) -> list[str]:
            return [f"{v:.{DECIMALS}f}" for v in values]

        lattice = re.search(r'Lattice="([^"]*)"', lines[1]).group(1).split()
        assert lattice == written([v for row in attributes["lattice_vectors"] for v in row])
        sites = [line.split() for line in lines[2:]]
        assert [site[0] for site in sites] == attributes["species_at_sites"]
        assert [site[1:] for site in sites] == [
            written(xyz) for xyz in attributes["cartesian_site_positions"]
        ]
