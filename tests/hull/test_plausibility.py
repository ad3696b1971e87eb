"""The plausible-energy rule (hull.plausibility) against real reference data: every real MP entry passes, the
attacks of issue 19 do not, and r2SCAN energies are judged on no GGA table."""

import math

import pytest
from pymatgen.entries.computed_entries import ComputedEntry

from hull.hull_sets import DFT, ML_POTENTIAL, R2SCAN
from hull.plausibility import (
    ENERGY_WINDOW,
    energy_problem,
    reference_energies,
    reference_energy,
    reference_problem,
)
from tests.conftest import shared_file


def mp_references() -> dict[str, float]:
    import gzip
    import json

    with gzip.open(shared_file("mp_elemental_refs.json.gz"), "rt") as handle:
        entries = json.load(handle)
    return {symbol: ComputedEntry.from_dict(entry).energy_per_atom for symbol, entry in entries.items()}


def test_the_fixed_table_is_the_mp_elemental_references():
    table = reference_energies()
    refs = mp_references()
    assert set(table) == set(refs)
    assert all(math.isclose(table[s], refs[s], abs_tol=1e-6) for s in refs)


def test_every_real_mp_entry_is_plausible(mp_entry_dicts):
    for item in mp_entry_dicts:
        entry = ComputedEntry.from_dict(item)
        amounts = {el.symbol: float(a) for el, a in entry.composition.items()}
        assert energy_problem(amounts, entry.energy_per_atom) is None, item["entry_id"]


@pytest.mark.parametrize("energy", [-10.0, -250_000.0, -1e308, 1e3, float("nan"), float("inf")])
def test_poisoned_energies_are_refused(energy):
    # -10 eV/atom for O1 is the NaN-amount poison: 5 eV/atom below oxygen's reference
    assert energy_problem({"O": 1.0}, energy) is not None


def test_the_window_is_measured_from_the_weighted_references():
    amounts = {"Li": 2.0, "O": 1.0}
    reference = reference_energy(amounts)
    table = reference_energies()
    assert math.isclose(reference, (2 * table["Li"] + table["O"]) / 3)
    assert energy_problem(amounts, reference + ENERGY_WINDOW.formation_min + 1e-6) is None
    assert energy_problem(amounts, reference + ENERGY_WINDOW.formation_min - 1e-3) is not None
    assert energy_problem(amounts, reference + ENERGY_WINDOW.formation_max - 1e-6) is None
    assert energy_problem(amounts, reference + ENERGY_WINDOW.formation_max + 1e-3) is not None
    # a machine-learned potential on the same scale is held to the same window
    assert energy_problem(amounts, reference - 7, method_family=ML_POTENTIAL) is not None


def test_r2scan_is_judged_by_absolute_bounds_only():
    amounts = {"Li": 2.0, "O": 1.0}
    far_below_gga = reference_energy(amounts) - 8  # another functional's scale, not a poisoned GGA energy
    assert energy_problem(amounts, far_below_gga, method_family=DFT) is not None
    assert energy_problem(amounts, far_below_gga, method_family=R2SCAN) is None
    assert energy_problem(amounts, -250_000.0, method_family=R2SCAN) is not None
    assert reference_problem("O", reference_energies()["O"] - 3, method_family=DFT) is not None
    assert reference_problem("O", reference_energies()["O"] - 3, method_family=R2SCAN) is None
