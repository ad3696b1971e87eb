"""check_hull catches a poisoned catalogue: rows written behind the ingest's back (with the ORM, as a bug, a bad
migration or a hand edit would) whose stability was then recomputed, so that a rebuild from the same rows agrees
with what is stored. Each poison is one case; a clean catalogue from every reader stays clean."""

import pytest
from django.core.management import CommandError, call_command

from hull.hull_check import ENTRY, catalogue_differences, entry_differences, hull_differences
from hull.models import Entry, Stability
from hull.services.ingest import ingest_file
from hull.services.stability import hull_update
from tests.catalogue_files import write_json
from tests.conftest import subset


@pytest.fixture
def li_fe_o(tmp_path, mp_entry_dicts) -> list[Entry]:
    """The real Li-Fe-O space of the MP file (417 entries) through the normal ingest service."""
    ingest_file(path=write_json(tmp_path / "li_fe_o.json.gz", subset(mp_entry_dicts, {"Li", "Fe", "O"})))
    return list(Entry.objects.all())


def found() -> set[tuple[str, str, str]]:
    return {(d.hull_set, d.what, d.field) for d in entry_differences()}


def ternary(entries: list[Entry], *, stable: bool) -> Entry:
    """A Li-Fe-O entry with a structure, on the hull or above it in the DFT set."""
    wanted = Stability.objects.filter(hull_set="dft", chemsys="Fe-Li-O", is_stable=stable)
    return Entry.objects.filter(pk__in=wanted.values("entry"), structure__isnull=False).order_by("pk").first()


def nan_amount(entries: list[Entry]) -> set[tuple[str, str, str]]:
    """The issue's poison: ``{"Li": NaN, "O": 1}`` at -10 eV, read by pymatgen as O1 at -10 eV/atom. Every field
    agrees with every other and its energy is a plausible oxide's; only as oxygen's reference is it absurd."""
    oxygen = next(e for e in entries if e.chemsys_id == "O")
    formation_before = dict(
        Stability.objects.filter(hull_set="dft").values_list("entry_id", "formation_energy_per_atom")
    )
    poison = Entry.objects.create(
        public_id="mp-poisoned-o1",
        source=oxygen.source,
        source_id="poisoned-o1",
        method=oxygen.method,
        method_family="dft",
        formula="O1",
        reduced_formula="O2",
        anonymous_formula="A",
        chemsys_id="O",
        nelements=1,
        nsites=1,
        composition={"O": 1.0},
        structure=None,
        energy=-10.0,
        uncorrected_energy=-10.0,
        correction=0.0,
        energy_per_atom=-10.0,
        content_hash="0" * 64,
        batch=oxygen.batch,
    )
    hull_update(added=[poison.pk])
    changed = [
        pk
        for pk, energy in Stability.objects.filter(hull_set="dft").values_list(
            "entry_id", "formation_energy_per_atom"
        )
        if pk in formation_before and energy != formation_before[pk]
    ]
    assert len(changed) > len(formation_before) / 2, "the poisoned reference moved most formation energies"
    # found twice: as an implausible energy of its own (an element 5 eV/atom below its reference phase) and as the
    # reference it became in both hull sets
    return {
        ("entry", poison.public_id, "plausible energy"),
        ("dft", poison.public_id, "O reference"),
        ("all", poison.public_id, "O reference"),
    }


def structure_disagrees(entries: list[Entry]) -> set[tuple[str, str, str]]:
    """One site of the stored structure turned from Fe into Co: the structure no longer holds the composition."""
    entry = ternary(entries, stable=False)
    structure = entry.structure
    site = next(s for s in structure["sites"] if s["species"][0]["element"] == "Fe")
    site["species"][0]["element"] = "Co"
    site["label"] = "Co"
    Entry.objects.filter(pk=entry.pk).update(structure=structure)
    return {(ENTRY, entry.public_id, "composition")}


def composition_disagrees(entries: list[Entry]) -> set[tuple[str, str, str]]:
    """One O atom of the stored composition turned into Fe (same number of atoms), stability recomputed: the
    composition no longer agrees with the structure nor with the formulas derived from it."""
    entry = ternary(entries, stable=False)
    composition = dict(entry.composition)
    composition["Fe"] += 1
    composition["O"] -= 1
    Entry.objects.filter(pk=entry.pk).update(composition=composition)
    hull_update(touched=[entry.chemsys_id])
    return {(ENTRY, entry.public_id, field) for field in ("composition", "formula", "reduced_formula")}


def energy_per_atom_disagrees(entries: list[Entry]) -> set[tuple[str, str, str]]:
    """energy_per_atom lowered by 0.3 eV without touching the energy, stability recomputed: the entry is now
    stable on the strength of a number that is not its energy divided by its atoms."""
    entry = ternary(entries, stable=False)
    Entry.objects.filter(pk=entry.pk).update(energy_per_atom=entry.energy_per_atom - 0.3)
    hull_update(touched=[entry.chemsys_id])
    return {(ENTRY, entry.public_id, "energy_per_atom")}


def correction_disagrees(entries: list[Entry]) -> set[tuple[str, str, str]]:
    """The correction changed without the corrected energy: energy is no longer uncorrected + correction."""
    entry = ternary(entries, stable=True)
    Entry.objects.filter(pk=entry.pk).update(correction=entry.correction + 1.5)
    return {(ENTRY, entry.public_id, "energy")}


def absurd_energy(entries: list[Entry]) -> set[tuple[str, str, str]]:
    """-250,000 eV/atom, every energy field consistent with it, stability recomputed (it is the whole hull)."""
    entry = ternary(entries, stable=False)
    energy = -250_000.0 * entry.nsites
    Entry.objects.filter(pk=entry.pk).update(
        energy=energy, uncorrected_energy=energy - entry.correction, energy_per_atom=-250_000.0
    )
    hull_update(touched=[entry.chemsys_id])
    assert Stability.objects.get(entry=entry, hull_set="dft").is_stable
    return {(ENTRY, entry.public_id, "plausible energy")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "poison",
    [
        nan_amount,
        structure_disagrees,
        composition_disagrees,
        energy_per_atom_disagrees,
        correction_disagrees,
        absurd_energy,
    ],
)
def test_check_hull_names_each_poison(li_fe_o, poison, capsys):
    call_command("check_hull")
    assert "equals a full rebuild" in capsys.readouterr().out
    expected = poison(li_fe_o)
    assert hull_differences() == [], "the stored stability is consistent with the poisoned rows"
    assert found() == expected
    with pytest.raises(CommandError, match=rf"{len(expected)} stored entry fields or elemental references"):
        call_command("check_hull")
    out = capsys.readouterr().out
    for hull_set, what, field in expected:
        assert f"[{hull_set}] {what} {field}: stored " in out


@pytest.mark.django_db
def test_a_clean_catalogue_from_every_reader_stays_clean(
    tmp_path, mp_entry_dicts, gnome_release, cif_folder, poscar_folder, extxyz_file, capsys
):
    ingest_file(path=write_json(tmp_path / "li_fe_o.json.gz", subset(mp_entry_dicts, {"Li", "Fe", "O"})))
    ingest_file(path=gnome_release)
    ingest_file(path=cif_folder, source="cifs")
    ingest_file(path=poscar_folder, source="poscars", method_family="other")
    ingest_file(path=extxyz_file, source="chgnet", method="CHGNet 0.3.0", method_family="ml")
    assert catalogue_differences() == []
    call_command("check_hull")
    assert "equals a full rebuild" in capsys.readouterr().out


@pytest.mark.django_db
def test_unreadable_stored_fields_are_reported_not_raised(li_fe_o):
    """A composition or structure that is not what the ingest stores is a finding, never a crash."""
    first, second, third = li_fe_o[0], li_fe_o[1], li_fe_o[2]
    Entry.objects.filter(pk=first.pk).update(composition={"Li": -1.0, "Xx": 2.0})
    Entry.objects.filter(pk=second.pk).update(structure={"sites": [{"species": "Li"}]})
    Entry.objects.filter(pk=third.pk).update(composition=["Li", 2])
    differences = {(d.what, d.field): d for d in entry_differences()}
    assert set(differences) == {
        (first.public_id, "composition"),
        (second.public_id, "structure"),
        (third.public_id, "composition"),
    }
    assert "it must be positive" in differences[first.public_id, "composition"].expected
    assert "Xx is not an element" in differences[first.public_id, "composition"].expected
