"""The GNoME release as users download it (files written by ``gnome_release_files.py`` with the published columns):
every CSV kind with and without the index column, composition-only entries, structures attached later from each
archive layout, the MP pseudopotential shift, r2SCAN in its own hull set, ``compare_hull`` and ``check_hull``."""

import shutil

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from hull.gnome_release import SHIFT_ADJUSTMENT, pseudopotential_shift
from hull.models import Entry, HullRecord, Stability
from hull.services.ingest import ingest_file
from tests.conftest import shared_file
from tests.hull.gnome_release_files import PLANTED, R2SCAN_OFFSET, plant_disagreement, write_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def release(tmp_path):
    shared_file("mp_entries.json.gz")
    return write_release(tmp_path / "release")


def check_hull_clean() -> None:
    call_command("check_hull")  # raises CommandError listing every difference


@pytest.mark.parametrize("index", [True, False], ids=["index-column", "no-index-column"])
def test_every_csv_kind_is_read_by_its_published_columns(tmp_path, index):
    shared_file("mp_entries.json.gz")
    release = write_release(tmp_path / "release", index=index)
    sources = {}
    for path in (release.stable, release.r2scan, release.external, release.mp_snapshot):
        report = ingest_file(path=path)
        assert report.rejected == [] and report.loaded > 0, path.name
        sources[path.name] = report.source
    assert sources == {
        "stable_materials_summary.csv": "gnome",
        "stable_materials_r2scan.csv": "gnome-r2scan",
        "external_materials_summary.csv": "gnome-external",
        "mp_snapshot_summary.csv": "gnome-mp",
    }
    assert Entry.objects.filter(source="gnome").count() == len(release.gnome)
    assert Entry.objects.filter(source="gnome-external").count() == len(release.mp)
    assert Entry.objects.filter(source="gnome-mp").count() == len(release.mp[::2])
    assert not Entry.objects.filter(structure__isnull=False).exists()  # no archive beside: composition only
    row = release.gnome[0]
    entry = Entry.objects.get(source="gnome", source_id=row["MaterialId"])
    assert entry.nsites == row["NSites"] and entry.reduced_formula == row["Reduced Formula"]
    assert entry.energy == pytest.approx(float(row["Corrected Energy"]))
    assert entry.correction == pytest.approx(
        float(row["Corrected Energy"]) - float(row["Uncorrected Energy"])
    )
    assert entry.band_gap == 4.5
    assert (entry.spacegroup_number, entry.spacegroup_symbol) == (
        row["Space Group Number"],
        row["Space Group"],
    )
    assert entry.symprec is None  # the release's space group, not one computed here
    assert entry.data["source_columns"]["dimensionality_cheon"] == "3"
    assert entry.data["release_file"] == "stable_materials_summary.csv"
    published = entry.data["published_hull"]
    assert published["decomposition_energy_per_atom_all"] == float(row["Decomposition Energy Per Atom All"])
    assert published["formation_energy_per_atom"] == float(row["Formation Energy Per Atom"])
    # composition-only entries take part in the hull
    assert Stability.objects.filter(entry=entry, hull_set="dft", e_above_hull__isnull=False).exists()
    check_hull_clean()


@pytest.mark.parametrize("layout", ["id", "composition", "reduced_formula"])
def test_structures_attach_to_the_composition_only_entries(release, layout):
    ingest_file(path=release.external)
    ingest_file(path=release.stable)
    before = {
        e.source_id: (e.pk, e.public_id, e.energy_per_atom) for e in Entry.objects.filter(source="gnome")
    }
    count = Entry.objects.count()
    report = ingest_file(path=release.archives[layout])
    assert report.fmt == "gnome-structures" and report.source == "gnome"
    assert (report.loaded, report.updated, report.rejected) == (0, len(release.gnome), [])
    assert Entry.objects.count() == count  # attached, never duplicated
    for entry in Entry.objects.filter(source="gnome"):
        pk, public_id, energy_per_atom = before[entry.source_id]
        assert (entry.pk, entry.public_id) == (pk, public_id)
        assert entry.structure is not None and entry.symprec == 0.1
        assert entry.energy_per_atom == pytest.approx(energy_per_atom, abs=1e-12)
        assert entry.nsites == len(entry.structure["sites"])
    again = ingest_file(path=release.archives[layout])
    assert (again.loaded, again.updated, again.skipped) == (0, 0, len(release.gnome))
    check_hull_clean()


def test_csv_with_an_archive_beside_gets_its_structures_at_once(release):
    shutil.copy(release.archives["composition"], release.stable.parent / "by_composition.zip")
    report = ingest_file(path=release.stable)
    assert report.loaded == len(release.gnome) and report.rejected == []
    assert not Entry.objects.filter(source="gnome", structure__isnull=True).exists()


def test_archive_member_naming_no_stored_entry_is_a_row_error(release):
    report = ingest_file(path=release.archives["id"], skip_invalid=True)
    assert report.loaded == report.updated == 0
    assert len(report.rejected) == len(release.gnome)
    assert "ingest its CSV first" in report.rejected[0].message


def test_pseudopotential_shift_of_mp_entries_sharing_a_hull_set_with_gnome(release):
    ingest_file(path=release.external)
    raw = {row["id"]: row for row in release.mp}
    li2o = next(row for row in release.mp if row["composition"].reduced_formula == "Li2O")
    entry = Entry.objects.get(source_id=li2o["id"])
    assert entry.energy == pytest.approx(li2o["energy"])  # no GNoME entries yet: MP energies as published
    ingest_file(path=release.stable)
    for entry in Entry.objects.filter(source="gnome-external"):
        shift = pseudopotential_shift(entry.composition)
        assert entry.energy == pytest.approx(raw[entry.source_id]["energy"] + sum(shift.values()), abs=1e-9)
        assert entry.energy == pytest.approx(entry.uncorrected_energy + entry.correction, abs=1e-9)
        if "Li" in entry.composition:
            assert entry.data["pseudopotential_shift"] == shift
            assert SHIFT_ADJUSTMENT in entry.data["energy_adjustments"]
        else:
            assert "pseudopotential_shift" not in entry.data
    lithium = Entry.objects.filter(source="gnome-external", chemsys="Li").first()
    assert lithium.energy_per_atom == pytest.approx(
        raw[lithium.source_id]["energy"] / lithium.nsites - 0.00301278
    )
    again = ingest_file(path=release.external)  # the shift is applied to incoming rows: nothing changed
    assert (again.loaded, again.updated, again.skipped) == (0, 0, len(release.mp))
    check_hull_clean()
    with override_settings(PORTAL_GNOME_PSEUDOPOTENTIAL_SHIFT=False):
        call_command("pseudopotential_shift")
        check_hull_clean()
    for entry in Entry.objects.filter(source="gnome-external"):
        assert entry.energy == pytest.approx(raw[entry.source_id]["energy"], abs=1e-9)
        assert "pseudopotential_shift" not in entry.data


def test_r2scan_energies_have_a_hull_set_of_their_own(release):
    ingest_file(path=release.external)
    ingest_file(path=release.stable)
    report = ingest_file(path=release.r2scan)
    r2scan = Entry.objects.filter(source="gnome-r2scan")
    assert report.loaded == r2scan.count() > len(release.gnome)
    assert set(r2scan.values_list("method_family", "method").distinct()) == {("r2scan", "r2SCAN")}
    assert set(Stability.objects.filter(entry__in=r2scan).values_list("hull_set", flat=True)) == {"r2scan"}
    assert set(Stability.objects.filter(hull_set="r2scan").values_list("entry__source", flat=True)) == {
        "gnome-r2scan"
    }
    assert not HullRecord.objects.filter(hull_set="r2scan").exclude(chemsys__in=["Li", "O", "Li-O"]).exists()
    # the r2SCAN rows are the GGA rows moved by one constant per atom, so their hull is the same shape
    for row in release.gnome:
        gga = Stability.objects.get(hull_set="dft", entry__source="gnome", entry__source_id=row["MaterialId"])
        own = Stability.objects.get(hull_set="r2scan", entry__source_id=row["MaterialId"])
        assert own.formation_energy_per_atom is not None
        assert own.e_above_hull >= 0
    assert R2SCAN_OFFSET != 0 and gga.hull_set == "dft"
    check_hull_clean()


def test_compare_hull_agrees_then_finds_a_planted_disagreement(release, capsys):
    ingest_file(path=release.external)
    ingest_file(path=release.stable)
    call_command("compare_hull", "--column", "Decomposition Energy Per Atom All", "--tolerance", "1e-6")
    assert "0 disagree" in capsys.readouterr().out
    planted = release.gnome[1]["MaterialId"]
    plant_disagreement(release.stable, planted)
    ingest_file(
        path=release.stable
    )  # the published value changed: the entry is updated, its energies are not
    with pytest.raises(CommandError, match="1 disagree"):
        call_command("compare_hull", "--column", "Decomposition Energy Per Atom All", "--tolerance", "1e-6")
    out = capsys.readouterr().out
    assert planted in out and f"{PLANTED:g}" not in out.split(planted)[0]
    call_command("compare_hull", "--column", "Decomposition Energy Per Atom MP", "--tolerance", "1e-6")
    with pytest.raises(CommandError, match="unknown published column"):
        call_command("compare_hull", "--column", "Bandgap")
    check_hull_clean()


def test_composition_only_entry_pages_say_the_structure_is_not_loaded(release, client):
    ingest_file(path=release.stable)
    entry = Entry.objects.filter(source="gnome").first()
    page = client.get(f"/materials/{entry.public_id}/")
    assert page.status_code == 200
    assert b"Structure not loaded" in page.content
    detail = client.get(f"/api/v1/materials/{entry.public_id}/")
    assert detail.status_code == 200, detail.content[:300]
    assert detail.json()["structure"] is None
    listed = client.get("/api/v1/materials/", {"elements": "Li,O"})
    assert listed.status_code == 200 and entry.public_id in listed.content.decode()
    # OPTIMADE serves structures: an entry without one is not among them
    optimade = client.get(f"/optimade/v1/structures/{entry.public_id}")
    assert optimade.status_code == 404
