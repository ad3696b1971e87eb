"""Real parents from the shared MP data: Li2O, LiCoO2 and LiMnO2, and the catalogue's reduced formulas."""

import pytest
from pymatgen.core import Structure
from pymatgen.entries.computed_entries import ComputedStructureEntry

PARENT_IDS = {
    "Li2O": "mp-1960",  # Fm-3m antifluorite, 3 sites
    "LiCoO2": "mp-22526-GGA+U",  # R-3m layered, 4 sites
    "LiMnO2": "mp-18767",  # Pmmn orthorhombic, 8 sites
}


@pytest.fixture(scope="session")
def mp_by_id(mp_entry_dicts) -> dict[str, dict]:
    return {item["entry_id"]: item for item in mp_entry_dicts}


@pytest.fixture(scope="session")
def parents(mp_by_id) -> dict[str, tuple[str, Structure]]:
    """``formula -> (entry id, structure)`` of the three parents."""
    out = {}
    for formula, entry_id in PARENT_IDS.items():
        entry = ComputedStructureEntry.from_dict(mp_by_id[entry_id])
        assert entry.composition.reduced_formula == formula
        out[formula] = (entry_id, entry.structure)
    return out


@pytest.fixture(scope="session")
def known_formulas(mp_entry_dicts) -> frozenset[str]:
    from pymatgen.core import Composition

    return frozenset(Composition(item["composition"]).reduced_formula for item in mp_entry_dicts)
