"""Formation energy and energy above hull of the stored catalogue agree with pymatgen, entry by entry."""

import pytest
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.entries.computed_entries import ComputedStructureEntry

from hull.models import Entry, Stability
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.conftest import shared_file, subset

pytestmark = pytest.mark.django_db


def _compare_with_pymatgen(items: list[dict]) -> int:
    by_id = {e.entry_id: e for e in (ComputedStructureEntry.from_dict(item) for item in items)}
    stored = {
        source_id: (eform, ehull, stable)
        for source_id, eform, ehull, stable in Stability.objects.filter(hull_set="dft").values_list(
            "entry__source_id", "formation_energy_per_atom", "e_above_hull", "is_stable"
        )
    }
    assert set(stored) == set(by_id)
    checked = 0
    systems: dict[str, list] = {}
    for entry in by_id.values():
        systems.setdefault(entry.composition.chemical_system, []).append(entry)
    for chemsys, own in systems.items():
        elements = set(chemsys.split("-"))
        pool = [e for e in by_id.values() if set(e.composition.chemical_system.split("-")) <= elements]
        diagram = PhaseDiagram(pool)
        for entry in own:
            eform, ehull, stable = stored[entry.entry_id]
            assert eform == pytest.approx(diagram.get_form_energy_per_atom(entry), abs=1e-6), entry.entry_id
            assert ehull == pytest.approx(diagram.get_e_above_hull(entry), abs=1e-6), entry.entry_id
            assert stable == (entry in diagram.stable_entries), entry.entry_id
            checked += 1
    return checked


def test_li_fe_o_space_matches_pymatgen(tmp_path, mp_entry_dicts):
    items = subset(mp_entry_dicts, {"Li", "Fe", "O"})
    ingest_file(path=write_json(tmp_path / "lifeo.json", items))
    assert _compare_with_pymatgen(items) == len(items)


@pytest.mark.slow
def test_whole_shared_mp_file_matches_pymatgen(mp_entry_dicts):
    report = ingest_file(path=shared_file("mp_entries.json.gz"))
    assert report.loaded == len(mp_entry_dicts) == Entry.objects.count()
    assert _compare_with_pymatgen(mp_entry_dicts) == len(mp_entry_dicts)
