"""Shared fixtures for ml_backend tests: small real-looking crystals and tiny configs."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ml_backend.configs import tiny
from ml_backend.data import shared_data_dir
from tests.conftest import absent


def rock_salt(a: float = 5.64) -> Structure:
    """Conventional 8-atom NaCl cell."""
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])


def low_symmetry() -> Structure:
    """A triclinic ternary with 6 sites (no special symmetry)."""
    lattice = Lattice.from_parameters(4.1, 4.7, 5.3, 81.0, 97.0, 104.0)
    species = ["Li", "Fe", "O", "O", "P", "O"]
    coords = [
        [0.0, 0.0, 0.0],
        [0.5, 0.45, 0.52],
        [0.21, 0.33, 0.11],
        [0.71, 0.12, 0.81],
        [0.3, 0.8, 0.6],
        [0.9, 0.6, 0.3],
    ]
    return Structure(lattice, species, coords)


@pytest.fixture
def nacl() -> Structure:
    return rock_salt()


@pytest.fixture
def triclinic() -> Structure:
    return low_symmetry()


@pytest.fixture
def small_structures() -> list[Structure]:
    rng = np.random.default_rng(0)
    out = [
        rock_salt(),
        low_symmetry(),
        Structure(Lattice.cubic(2.9), ["Fe", "Fe"], [[0, 0, 0], [0.5, 0.5, 0.5]]),
    ]
    for i in range(9):
        s = low_symmetry()
        s.perturb(0.1, min_distance=0.0)
        s.scale_lattice(s.volume * (0.9 + 0.03 * i))
        if i % 3 == 0:
            s.replace(0, "Na")
        out.append(s)
    rng.shuffle(out)
    return out


@pytest.fixture
def tiny_structural():
    return tiny.get_config("structural")


@pytest.fixture
def tiny_compositional():
    return tiny.get_config("compositional")


@pytest.fixture(scope="session")
def shared_data():
    path = shared_data_dir()
    if not (path / "mp_entries.json.gz").exists():
        absent(f"shared data not found at {path}; set PORTAL_SHARED_DATA to the shared/data folder")
    return path
