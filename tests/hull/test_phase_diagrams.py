"""Phase-diagram data and the read-only "would this be stable?" check, against pymatgen."""

import pytest
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition
from pymatgen.entries.computed_entries import ComputedStructureEntry

from hull.errors import CatalogueError
from hull.models import Entry
from hull.phase_diagrams import hypothetical_stability, phase_diagram_get
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.conftest import subset

pytestmark = pytest.mark.django_db


@pytest.fixture
def li_fe_o(tmp_path, mp_entry_dicts):
    items = subset(mp_entry_dicts, {"Li", "Fe", "O"})
    ingest_file(path=write_json(tmp_path / "lifeo.json", items))
    return [ComputedStructureEntry.from_dict(item) for item in items]


def test_ternary_diagram_matches_pymatgen(li_fe_o):
    data = phase_diagram_get(chemsys="O-Fe-Li")
    diagram = PhaseDiagram(li_fe_o)
    assert data.chemsys == "Fe-Li-O" and len(data.entries) == len(li_fe_o)
    expected = {e.entry_id for e in diagram.stable_entries}
    assert {Entry.objects.get(pk=k).source_id for k in data.stable_keys} == expected
    # facets cover the composition triangle: their count equals pymatgen's
    assert len(data.facets) == len(diagram.facets)
    by_id = {e.entry_id: e for e in li_fe_o}
    for item in data.entries[:50]:
        source_id = Entry.objects.get(pk=item.key).source_id
        assert item.e_above_hull == pytest.approx(diagram.get_e_above_hull(by_id[source_id]), abs=1e-6)


def test_past_state_excludes_later_entries(li_fe_o):
    first = Entry.objects.order_by("created_at").first()
    data = phase_diagram_get(chemsys="Fe-Li-O", as_of=first.created_at)
    assert all(e.created_at <= first.created_at for e in data.entries)


def test_hypothetical_entry_matches_pymatgen(li_fe_o):
    diagram = PhaseDiagram(li_fe_o)
    comp = Composition("LiFeO2")
    energy = diagram.get_hull_energy_per_atom(comp) + 0.02
    result = hypothetical_stability(composition=comp.as_dict(), energy_per_atom=energy)
    probe = PDEntry(comp, energy * comp.num_atoms)
    assert result["e_above_hull"] == pytest.approx(diagram.get_e_above_hull(probe), abs=1e-6)
    assert result["formation_energy_per_atom"] == pytest.approx(
        diagram.get_form_energy_per_atom(probe), abs=1e-6
    )
    assert sum(part["amount"] for part in result["decomposition"]) == pytest.approx(1.0)
    assert Entry.objects.count() == len(li_fe_o)  # nothing written


def test_bad_systems_are_clear_errors(li_fe_o):
    with pytest.raises(CatalogueError, match="unknown element 'Xx'"):
        phase_diagram_get(chemsys="Li-Xx")
    with pytest.raises(CatalogueError, match="at most 8"):
        phase_diagram_get(chemsys="C-Cl-Co-Fe-K-Li-Mn-Na-Ni")
    with pytest.raises(CatalogueError, match="no entries in the chemical system Na-Ni"):
        phase_diagram_get(chemsys="Na-Ni")
    with pytest.raises(CatalogueError, match="finite"):
        hypothetical_stability(composition={"Li": 1, "O": 1}, energy_per_atom=float("nan"))
