"""SAPS: symmetry-aware partial substitutions (Merchant et al., Nature 624, 80 (2023), Methods).

For a parent structure and an ion ``A`` to replace by ``B``, the sites of ``A`` are grouped into Wyckoff
orbits (``SpacegroupAnalyzer(s).get_symmetrized_structure()``); from 1 to all sites of the chosen orbit
(or, with ``per_orbit=False``, of all ``A`` sites together) are replaced, and one candidate is kept per
symmetrically distinct choice of sites.

Distinct choices: the parent's space-group operations (all of them in the given cell, centring
translations included) act on the site indices as permutations; two subsets of sites give symmetrically
equivalent structures exactly when one permutation maps one subset onto the other. Each subset is
reduced to its canonical form (the lexicographically smallest image) and only the first subset of each
canonical form is proposed, so no StructureMatcher call is needed to tell choices apart (the candidate
deduplicator still runs, as for every generator).

Which substitutions: explicit ``pairs`` (``[("Mn", "Fe")]``), or by default the most likely replacements
of each ion under the discovery substitution model of :mod:`discovery.generation.substitution`.
Charge balance is optional (default off, as in the paper).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from discovery.generation.candidates import Candidate, Proposal, is_charge_balanced, unique_candidates
from discovery.generation.substitution import SubstitutionModel, decorate

GENERATOR = "saps"
SYMPREC = 0.1


def site_permutations(structure: Structure, symprec: float = SYMPREC) -> np.ndarray:
    """The space-group operations of ``structure`` as permutations of its site indices
    (array ``(n_ops, n_sites)``: operation ``g`` sends site ``i`` to site ``perms[g, i]``)."""
    analyzer = SpacegroupAnalyzer(structure, symprec=symprec)
    dataset = analyzer.get_symmetry_dataset()
    frac = structure.frac_coords
    species = [site.species_string for site in structure]
    perms = []
    tolerance = max(symprec / min(structure.lattice.abc), 1e-3) * 2
    for rotation, translation in zip(dataset.rotations, dataset.translations, strict=True):
        moved = frac @ rotation.T + translation
        delta = moved[:, None, :] - frac[None, :, :]
        delta -= np.round(delta)
        distance = np.linalg.norm(delta, axis=2)
        image = np.argmin(distance, axis=1)
        if np.any(distance[np.arange(len(frac)), image] > tolerance):
            continue  # operation not exact at this tolerance: leave it out (only costs extra candidates)
        if any(species[i] != species[j] for i, j in enumerate(image)) or len(set(image)) != len(image):
            continue
        perms.append(image)
    if not perms:
        perms.append(np.arange(len(structure)))
    return np.unique(np.array(perms), axis=0)


def distinct_subsets(sites: Sequence[int], size: int, perms: np.ndarray) -> Iterator[tuple[int, ...]]:
    """One subset of ``size`` of ``sites`` per orbit of the permutation group ``perms``, in the order of
    :func:`itertools.combinations` (the first member of each orbit)."""
    seen: set[tuple[int, ...]] = set()
    for subset in itertools.combinations(sites, size):
        if subset in seen:
            continue
        images = {tuple(sorted(perm[list(subset)].tolist())) for perm in perms}
        seen.update(images)
        yield subset


def orbits_of(structure: Structure, element: str, symprec: float = SYMPREC) -> list[tuple[str, list[int]]]:
    """``(wyckoff symbol, site indices)`` of the Wyckoff orbits of ``element`` in ``structure``."""
    symmetrized = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetrized_structure()
    out = []
    for indices, symbol in zip(symmetrized.equivalent_indices, symmetrized.wyckoff_symbols, strict=True):
        if structure[indices[0]].specie.symbol == element:
            out.append((symbol, sorted(indices)))
    return out


def default_pairs(
    structure: Structure, model: SubstitutionModel, per_ion: int, allowed: set[str] | None
) -> list[tuple[str, str]]:
    """The ``per_ion`` most likely replacements (by a new element) of each ion of ``structure``."""
    decorated = decorate(structure)
    if decorated is None:
        return []
    elements = {site.specie.symbol for site in structure}
    pairs = []
    for ion in sorted({site.specie for site in decorated}, key=str):
        options = [
            r.new.symbol
            for r in model.replacements(ion)
            if r.new.symbol not in elements and (allowed is None or r.new.symbol in allowed)
        ]
        pairs.extend((ion.symbol, new) for new in list(dict.fromkeys(options))[:per_ion])
    return pairs


def saps_proposals(
    parents: Iterable[tuple[str, Structure]],
    *,
    pairs: Sequence[tuple[str, str]] | None = None,
    per_orbit: bool = True,
    max_sites: int = 12,
    charge_balance: bool = False,
    known_formulas: set[str] | frozenset[str] = frozenset(),
    per_ion: int = 2,
    allowed_elements: Sequence[str] | None = None,
    symprec: float = SYMPREC,
) -> Iterator[Proposal]:
    """Partial substitutions of every parent, one per symmetrically distinct choice of sites.

    ``max_sites``: orbits (or element site sets) larger than this are skipped (their subsets explode);
    ``known_formulas``: compositions to skip (those already in the catalogue), empty by default since a
    partial substitution of a known composition may still be a new polymorph of an unknown one.
    """
    model = SubstitutionModel() if pairs is None else None
    allowed = set(allowed_elements) if allowed_elements is not None else None
    for parent_id, parent in parents:
        plain = parent.copy()
        plain.remove_oxidation_states()
        chosen_pairs = pairs if pairs is not None else default_pairs(plain, model, per_ion, allowed)
        perms = None
        for old, new in chosen_pairs:
            groups = orbits_of(plain, old, symprec)
            if not groups:
                continue
            if not per_orbit:
                groups = [("+".join(symbol for symbol, _ in groups), sorted(i for _, g in groups for i in g))]
            n_element = sum(1 for site in plain if site.specie.symbol == old)
            for symbol, sites in groups:
                if len(sites) > max_sites:
                    continue
                if perms is None:
                    perms = site_permutations(plain, symprec)
                for size in range(1, len(sites) + 1):
                    for subset in distinct_subsets(sites, size, perms):
                        structure = plain.copy()
                        for index in subset:
                            structure.replace(index, new)
                        composition = structure.composition
                        if composition.reduced_formula in known_formulas:
                            continue
                        if charge_balance and not is_charge_balanced(composition):
                            continue
                        operation = f"SAPS {old}({symbol})->{new} x{size} of {n_element}"
                        yield Proposal(structure, parent_id, operation)


def saps_candidates(
    parents: Iterable[tuple[str, Structure]], *, budget: int, **options: Any
) -> Iterator[Candidate]:
    """At most ``budget`` unique SAPS candidates of ``parents`` (``(entry id, structure)``).

    ``options`` are those of :func:`saps_proposals`: ``pairs``, ``per_orbit``, ``max_sites``,
    ``charge_balance``, ``known_formulas``, ``per_ion``, ``allowed_elements``, ``symprec``.
    """
    return unique_candidates(saps_proposals(parents, **options), generator=GENERATOR, budget=budget)


def count_distinct_choices(structure: Structure, sites: Sequence[int], size: int) -> int:
    """Number of symmetrically distinct ways to choose ``size`` of ``sites`` (for tests and reports)."""
    return sum(1 for _ in distinct_subsets(sites, size, site_permutations(structure)))
