import hashlib

import pytest
from pymatgen.core import Composition, Lattice, Structure

from ml_backend.data import (
    Sample,
    composition_hash_bucket,
    fingerprint,
    formation_energy_per_atom,
    hash_split,
    load_mp_entries,
    load_wbm,
    training_split,
)


def test_hash_bucket_is_md5_of_the_reduced_formula_mod_100():
    expected = int(hashlib.md5(b"Fe2O3").hexdigest(), 16) % 100
    assert composition_hash_bucket("Fe4O6") == composition_hash_bucket("Fe2O3") == expected


def test_hash_split_never_puts_one_reduced_formula_on_both_sides():
    lattice = Lattice.cubic(4.0)
    formulas = ["NaCl", "Na2Cl2", "LiCoO2", "Li2Co2O4", "Fe2O3", "FeO", "KCl", "MnO2", "Y2O3", "NiO"] * 3
    samples = []
    for i, formula in enumerate(formulas):
        comp = Composition(formula)
        species = [el for el, n in comp.items() for _ in range(int(n))]
        coords = [[j / len(species)] * 3 for j in range(len(species))]
        samples.append(Sample(Structure(lattice, species, coords), 0.0, f"s{i}"))
    train, test = hash_split(samples)
    assert len(train) + len(test) == len(samples)
    assert not {s.reduced_formula for s in train} & {s.reduced_formula for s in test}


def test_formation_energy_against_references():
    refs = {"Na": -1.0, "Cl": -2.0}
    assert formation_energy_per_atom(-8.0, Composition("Na2Cl2"), refs) == pytest.approx(-0.5)
    with pytest.raises(KeyError):
        formation_energy_per_atom(-1.0, Composition("KCl"), refs)


@pytest.mark.slow
def test_real_mp_entries_split_and_targets(shared_data):
    samples = load_mp_entries(shared_data / "mp_entries.json.gz")
    train, test = hash_split(samples)
    assert (len(train), len(test)) == (2722, 454)
    assert not {s.reduced_formula for s in train} & {s.reduced_formula for s in test}
    unary = [s for s in samples if len(s.structure.composition.elements) == 1]
    assert min(s.target for s in unary) == pytest.approx(0.0, abs=1e-9)  # references are the unary minima
    assert all(s.target > -5 for s in samples)
    assert fingerprint(train) == fingerprint(list(train)) != fingerprint(test)


@pytest.mark.slow
def test_compositional_models_learn_the_lowest_energy_phase_of_each_composition(shared_data):
    """On the real MP entries (2,722 + 454 samples, many polymorphs per formula): the compositional sets hold each
    reduced formula once, with its lowest formation energy, on the side of the structural split it was on."""
    samples = load_mp_entries(shared_data / "mp_entries.json.gz")
    structural = training_split(samples, "structural")
    compositional = training_split(samples, "compositional")
    assert structural == hash_split(samples)
    lowest: dict[str, float] = {}
    for sample in samples:
        lowest[sample.reduced_formula] = min(sample.target, lowest.get(sample.reduced_formula, float("inf")))
    kept = [*compositional[0], *compositional[1]]
    assert len(kept) == len(lowest) < len(samples)
    assert {s.reduced_formula: s.target for s in kept} == lowest
    for side in (0, 1):
        assert {s.key for s in compositional[side]} <= {s.key for s in structural[side]}


@pytest.mark.slow
def test_real_wbm_targets_use_consistent_references(shared_data):
    samples = load_wbm(shared_data / "wbm_972.json.gz")
    assert len(samples) == 972 and max(len(s.structure) for s in samples) <= 40


def test_corrected_energy_adds_the_mp2020_correction():
    from ml_backend.data import corrected_energy, unary_references

    entry = {"energy": -10.0, "correction": -1.5, "composition": {"O": 2}}
    assert corrected_energy(entry) == pytest.approx(-11.5)
    assert unary_references([entry, {"energy": -9.0, "correction": 0.0, "composition": {"O": 2}}]) == {
        "O": pytest.approx(-5.75)
    }
