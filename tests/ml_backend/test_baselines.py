import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ml_backend.baselines import LinearElementBaseline, element_fractions
from ml_backend.data import Sample


def test_element_fractions():
    from pymatgen.core import Composition

    vec = element_fractions(Composition("SiO2"))
    assert (
        vec[13] == pytest.approx(1 / 3) and vec[7] == pytest.approx(2 / 3) and vec.sum() == pytest.approx(1)
    )


def test_linear_baseline_recovers_a_linear_target():
    lattice = Lattice.cubic(5.0)
    mu = {"Li": -0.5, "O": -1.5, "Fe": 0.25}
    samples = []
    for i, species in enumerate(
        [["Li", "O"], ["Fe", "O", "O"], ["Li", "Fe", "O", "O"], ["Li", "Li", "O"], ["Fe"]]
    ):
        coords = np.linspace(0, 0.8, len(species))[:, None].repeat(3, axis=1)
        target = float(np.mean([mu[s] for s in species]))
        samples.append(Sample(Structure(lattice, species, coords), target, f"k{i}"))
    baseline = LinearElementBaseline().fit(samples)
    assert baseline.mae(samples) == pytest.approx(0.0, abs=1e-10)
