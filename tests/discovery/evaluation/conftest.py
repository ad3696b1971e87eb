"""Real structures with their MP2020-corrected energies from the shared MP data."""

import pytest
from pymatgen.entries.computed_entries import ComputedStructureEntry


@pytest.fixture(scope="session")
def mp_entries_by_id(mp_entry_dicts) -> dict[str, ComputedStructureEntry]:
    wanted = {"mp-1960", "mp-18767", "mp-22526-GGA+U", "mp-1097885-GGA+U"}
    return {
        item["entry_id"]: ComputedStructureEntry.from_dict(item)
        for item in mp_entry_dicts
        if item["entry_id"] in wanted
    }
