"""HullLookup places arbitrary compositions against the hull like pymatgen does."""

from datetime import timedelta

import pytest
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition
from pymatgen.entries.computed_entries import ComputedStructureEntry

from hull.hull_lookup import HullLookup
from hull.models import Entry
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.conftest import subset

pytestmark = pytest.mark.django_db


def test_lookup_matches_pymatgen(tmp_path, mp_entry_dicts):
    items = subset(mp_entry_dicts, {"Li", "Co", "O"})
    ingest_file(path=write_json(tmp_path / "licoo.json", items))
    diagram = PhaseDiagram([ComputedStructureEntry.from_dict(i) for i in items])
    lookup = HullLookup(hull_set="dft")
    for formula, offset in [("LiCoO2", 0.03), ("Li2CoO3", -0.02), ("CoO", 0.2), ("Li5CoO4", 0.0), ("O", 0.1)]:
        comp = Composition(formula)
        energy = diagram.get_hull_energy_per_atom(comp) + offset
        probe = PDEntry(comp, energy * comp.num_atoms)
        ef = lookup.formation_energy(comp.as_dict(), energy)
        assert ef == pytest.approx(diagram.get_form_energy_per_atom(probe), abs=1e-6)
        assert lookup.decomposition_energy(comp.as_dict(), ef) == pytest.approx(offset, abs=1e-6)


def test_missing_reference_and_past_state(tmp_path, li_o_entries):
    ingest_file(path=write_json(tmp_path / "lio.json", li_o_entries))
    lookup = HullLookup(hull_set="dft")
    assert lookup.formation_energy({"Li": 1, "Na": 1}, -3.0) is None
    first = Entry.objects.order_by("created_at").first().created_at
    assert (
        HullLookup(hull_set="dft", as_of=first - timedelta(seconds=1)).formation_energy(
            {"Li": 2, "O": 1}, -5.0
        )
        is None
    )
    assert (
        HullLookup(hull_set="dft", as_of=first + timedelta(days=1)).formation_energy({"Li": 2, "O": 1}, -5.0)
        is not None
    )
