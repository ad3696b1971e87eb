"""Synthetic catalogues with realistic formation energies, shared by the ingest and API benchmarks.

Elemental references sit at typical per-atom energies; compounds get formation energies drawn like real
ones (mostly between -3 and +0.5 eV/atom, more negative for more ionic element pairs), so that hulls have a
realistic share of stable phases. Deterministic for a given seed.
"""

import numpy as np

ELEMENTS = [
    "H",
    "Li",
    "Be",
    "B",
    "C",
    "N",
    "O",
    "F",
    "Na",
    "Mg",
    "Al",
    "Si",
    "P",
    "S",
    "Cl",
    "K",
    "Ca",
    "Sc",
    "Ti",
    "V",
    "Cr",
    "Mn",
    "Fe",
    "Co",
    "Ni",
    "Cu",
    "Zn",
    "Ga",
    "Ge",
    "As",
    "Se",
    "Br",
    "Rb",
    "Sr",
    "Y",
    "Zr",
    "Nb",
    "Mo",
    "Ru",
    "Rh",
    "Pd",
    "Ag",
    "Cd",
    "In",
    "Sn",
    "Sb",
    "Te",
    "I",
    "Cs",
    "Ba",
    "La",
    "Ce",
    "Pr",
    "Nd",
    "Sm",
    "Eu",
    "Gd",
    "Tb",
    "Dy",
    "Ho",
    "Er",
    "Tm",
    "Yb",
    "Lu",
    "Hf",
    "Ta",
    "W",
    "Re",
    "Os",
    "Ir",
    "Pt",
    "Au",
    "Hg",
    "Tl",
    "Pb",
    "Bi",
]


def synthetic_compositions(n: int, *, seed: int = 0, max_elements: int = 4, n_systems: int | None = None):
    """``n`` (composition, energy per atom) pairs over about 80 elements, in ``n_systems`` chemical systems
    (default n / 4), every element with at least one elemental entry."""
    rng = np.random.default_rng(seed)
    n_el = len(ELEMENTS)
    ref = -rng.uniform(1.0, 9.0, n_el)
    electroneg = rng.uniform(0.8, 3.5, n_el)
    n_systems = n_systems or max(1, n // 4)
    sizes = rng.choice(np.arange(2, max_elements + 1), size=n_systems, p=_size_weights(max_elements))
    systems = [tuple(sorted(rng.choice(n_el, size=k, replace=False))) for k in sizes]
    out = []
    for i in range(n_el):  # elemental references and a few polymorphs
        out.append(({ELEMENTS[i]: 1.0}, ref[i]))
        out.append(({ELEMENTS[i]: 2.0}, ref[i] + rng.uniform(0.0, 0.3)))
    while len(out) < n:
        system = systems[rng.integers(len(systems))]
        amounts = rng.integers(1, 7, size=len(system)).astype(float)
        frac = amounts / amounts.sum()
        spread = np.ptp(electroneg[list(system)])
        formation = -rng.gamma(2.0, 0.35 + 0.4 * spread) + rng.normal(0.0, 0.15)
        energy = float(formation + frac @ ref[list(system)])
        out.append(({ELEMENTS[j]: float(a) for j, a in zip(system, amounts, strict=True)}, energy))
    return out[:n]


def as_computed_entry_dicts(pairs, *, prefix: str = "syn") -> list[dict]:
    """pymatgen ``ComputedEntry`` dicts (total energy per formula unit as written)."""
    return [
        {
            "@module": "pymatgen.entries.computed_entries",
            "@class": "ComputedEntry",
            "energy": energy * sum(comp.values()),
            "composition": comp,
            "entry_id": f"{prefix}-{i}",
            "correction": 0.0,
            "energy_adjustments": [],
            "parameters": {"run_type": "GGA"},
            "data": {},
        }
        for i, (comp, energy) in enumerate(pairs)
    ]


def _size_weights(max_elements: int) -> list[float]:
    weights = np.array([0.35, 0.4, 0.2, 0.05, 0.03][: max_elements - 1], dtype=float)
    return list(weights / weights.sum())
