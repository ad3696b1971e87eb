"""Composition enumeration in a chemical space with GNoME's relaxed oxidation-state rule.

Merchant et al., Nature 624, 80 (2023), Methods ("composition-based" pipeline): compositions are
enumerated in a chemical space and kept when they pass a *relaxed* oxidation-state balance, built on
SMACT's common oxidation states with 0 added (so that intermetallics are not excluded), allowing "up to
two elements between two ordered oxidation states". The kept compositions are ranked by the
compositional model (the caller's job, ``ml_backend``) and the promising ones get random structures
(:mod:`discovery.generation.airss`).

How the rule is read here (defined once, by :func:`allowed_states`)
-------------------------------------------------------------------
Each element has an ordered list of allowed states ``s_1 < s_2 < ... < s_k``, the union of

* SMACT's common states (:data:`COMMON_OXIDATION_STATES`);
* 0 for the metals (pymatgen's ``Element.is_metal``), the metallic and intermetallic case (LiFe, Fe3Al);
* for the metalloids (pymatgen's ``Element.is_metalloid``: B, Si, Ge, As, Sb, Te, Po) their negative
  states (:data:`METALLOID_ANION_STATES`), the Zintl and intermetallic-anion case: Si(-4) in Li15Si4 and
  Mg2Si, Ge(-4) in Li15Ge4, Sb(-3) in Li3Sb. SMACT's common set lists only Si(+4) and Ge(+2, +4), so without
  these the paper's own example Li15Si4 fails.

0 is not added to the non-metals and metalloids: with 0 for every element the all-zero assignment would
balance any composition, which would make the rule empty. A composition with amounts ``n_e`` passes
when there is an assignment of charges ``q_e`` with ``sum_e n_e q_e = 0`` where

* every element but at most two takes one of its allowed states exactly, and
* at most two elements take any value between two consecutive states of their ordered list
  (``s_i <= q_e <= s_{i+1}``), i.e. a mixed or intermediate valence such as Fe(8/3) in Fe3O4 or
  Mn(3.5) in LiMn2O4. The union of these intervals is ``[s_1, s_k]``, so for those (at most two)
  elements the charge may take any real value in ``[s_1, s_k]``.

Checked exactly: for every choice of the (at most two) relaxed elements and every discrete assignment of
the others, the achievable total charge is the interval ``[S + sum n_e s_1(e), S + sum n_e s_k(e)]``;
the composition passes when one of these intervals contains 0. The discrete-only case (no relaxed
element) is the classical SMACT charge-neutrality test with 0 added. The electronegativity test SMACT
also offers is not applied (the paper does not mention it).

The oxidation-state table
-------------------------
:data:`COMMON_OXIDATION_STATES` holds, as data, SMACT's ICSD-2024 oxidation-state set filtered to the
states reported in at least 5 % of an element's ICSD compounds (SMACT's "common" set), H to Bi;
elements outside it fall back to pymatgen's ``Element.common_oxidation_states``.
:data:`METALLOID_ANION_STATES` holds the negative states of SMACT's ICSD-2024 set (species with more than
5 ICSD reports, ``smact.Element.oxidation_states_icsd24``) of pymatgen's metalloids. Both are kept here as
data (SMACT is only needed by the test that checks them against SMACT's own tables).

Li15Si4 passes with Si between its states -4 and -3 (Si at -15/4); Li21Si5 and Li17Ge4 with Li between 0
and 1 and Si or Ge at -4.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from functools import cache

from pymatgen.core import Composition, Element

# SMACT ICSD-2024 oxidation states with commonality >= 5 % ("common"), without 0 (added by the rule).
COMMON_OXIDATION_STATES: dict[str, tuple[int, ...]] = {
    "H": (-1, 1), "He": (), "Li": (1,), "Be": (2,), "B": (3,), "C": (-4, -2, 2, 3, 4), "N": (-3, 5),
    "O": (-2,), "F": (-1,), "Ne": (), "Na": (1,), "Mg": (2,), "Al": (3,), "Si": (4,), "P": (-3, 5),
    "S": (-2, 6), "Cl": (-1,), "Ar": (), "K": (1,), "Ca": (2,), "Sc": (3,), "Ti": (3, 4), "V": (3, 4, 5),
    "Cr": (2, 3, 6), "Mn": (2, 3, 4), "Fe": (2, 3), "Co": (2, 3), "Ni": (2, 3), "Cu": (1, 2), "Zn": (2,),
    "Ga": (3,), "Ge": (2, 4), "As": (-3, 3, 5), "Se": (-2, 4, 6), "Br": (-1,), "Kr": (2,), "Rb": (1,),
    "Sr": (2,), "Y": (3,), "Zr": (4,), "Nb": (4, 5), "Mo": (4, 5, 6), "Tc": (1, 2, 3, 4, 7),
    "Ru": (2, 3, 4, 5), "Rh": (2, 3, 4), "Pd": (2, 4), "Ag": (1,), "Cd": (2,), "In": (1, 3), "Sn": (2, 4),
    "Sb": (-3, 3, 5), "Te": (-2, -1, 4, 6), "I": (-1, 5), "Xe": (2, 4, 6), "Cs": (1,), "Ba": (2,),
    "La": (3,), "Ce": (3, 4), "Pr": (3,), "Nd": (3,), "Pm": (3,), "Sm": (2, 3), "Eu": (2, 3), "Gd": (3,),
    "Tb": (3, 4), "Dy": (3,), "Ho": (3,), "Er": (3,), "Tm": (2, 3), "Yb": (2, 3), "Lu": (3,),
    "Hf": (3, 4), "Ta": (4, 5), "W": (6,), "Re": (3, 4, 5, 6, 7), "Os": (2, 3, 4, 5, 6, 7, 8),
    "Ir": (2, 3, 4, 5), "Pt": (2, 4), "Au": (1, 3), "Hg": (1, 2), "Tl": (1, 3), "Pb": (2, 4), "Bi": (3,),
}  # fmt: skip

# SMACT ICSD-2024 negative states (more than 5 reports) of pymatgen's metalloids: the Zintl anions.
METALLOID_ANION_STATES: dict[str, tuple[int, ...]] = {
    "B": (-3, -2, -1), "Si": (-4, -3, -2, -1), "Ge": (-4, -3, -2, -1), "As": (-3, -2, -1),
    "Sb": (-3, -2, -1), "Te": (-3, -2, -1), "Po": (),
}  # fmt: skip

MAX_RELAXED = 2  # "up to two elements between two ordered oxidation states"
MAX_FORMULA_ATOMS = 20  # atoms per formula unit a round enumerates: Li15Si4 (19), the paper's example, fits


@cache
def allowed_states(symbol: str) -> tuple[int, ...]:
    """The ordered allowed oxidation states of an element: its common states, plus 0 for a metal and
    the negative (anion) states for a metalloid (the rule of the module docstring)."""
    element = Element(symbol)
    states = set(COMMON_OXIDATION_STATES.get(symbol, element.common_oxidation_states))
    if element.is_metal:
        states.add(0)
    if element.is_metalloid:
        states.update(METALLOID_ANION_STATES.get(symbol, ()))
    return tuple(sorted(states))


def passes_relaxed_charge_rule(composition: Composition | str, max_relaxed: int = MAX_RELAXED) -> bool:
    """Whether the composition is balanced under the relaxed rule (see the module docstring)."""
    composition = Composition(composition)
    amounts = {el.symbol: float(n) for el, n in composition.element_composition.items()}
    symbols = sorted(amounts)
    for n_relaxed in range(0, min(max_relaxed, len(symbols)) + 1):
        for relaxed in itertools.combinations(symbols, n_relaxed):
            if any(not allowed_states(s) for s in relaxed):
                continue
            low = sum(amounts[s] * allowed_states(s)[0] for s in relaxed)
            high = sum(amounts[s] * allowed_states(s)[-1] for s in relaxed)
            fixed = [s for s in symbols if s not in relaxed]
            for states in itertools.product(*(allowed_states(s) for s in fixed)):
                total = sum(amounts[s] * q for s, q in zip(fixed, states, strict=True))
                if total + low <= 1e-9 and total + high >= -1e-9:
                    return True
    return False


def _count_vectors(n_elements: int, total: int) -> Iterator[tuple[int, ...]]:
    """Positive integer vectors of length ``n_elements`` that sum to ``total``, gcd 1, in lexicographic
    order."""
    for cuts in itertools.combinations(range(1, total), n_elements - 1):
        counts = tuple(b - a for a, b in zip((0, *cuts), (*cuts, total), strict=True))
        if math.gcd(*counts) == 1:
            yield counts


def enumerate_compositions(
    elements: Sequence[str],
    *,
    max_atoms: int,
    min_elements: int = 2,
    max_elements: int | None = None,
    exclude_formulas: set[str] | frozenset[str] = frozenset(),
    budget: int | None = None,
    max_relaxed: int = MAX_RELAXED,
) -> list[Composition]:
    """Reduced compositions of ``min_elements`` to ``max_elements`` of ``elements`` with at most
    ``max_atoms`` atoms per formula unit that pass :func:`passes_relaxed_charge_rule`.

    Deterministic order: by number of elements, then atoms per formula unit (small formulas first, so
    that a budget keeps the simple ones), then element subset (sorted symbols), then counts.
    ``exclude_formulas`` (reduced formulas, e.g. those in the catalogue) are left out; ``budget`` caps the
    length of the list.
    """
    symbols = sorted(set(elements), key=lambda s: Element(s).Z)
    top = len(symbols) if max_elements is None else min(max_elements, len(symbols))
    out: list[Composition] = []
    for n_elements in range(max(min_elements, 1), top + 1):
        for total, subset in itertools.product(
            range(n_elements, max_atoms + 1), itertools.combinations(symbols, n_elements)
        ):
            for counts in _count_vectors(n_elements, total):
                composition = Composition(dict(zip(subset, counts, strict=True)))
                if composition.reduced_formula in exclude_formulas:
                    continue
                if not passes_relaxed_charge_rule(composition, max_relaxed):
                    continue
                out.append(composition)
                if budget is not None and len(out) >= budget:
                    return out
    return out
