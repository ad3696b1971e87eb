"""The candidate type every generator yields, its stable id, deduplication and the budget.

A candidate is a structure with its provenance (generator, parent entry, operation). Its id is a hash of
the generator name and a canonical fingerprint of the structure (reduced formula, space group, symmetry-orbit
sizes per element, volume per atom rounded), so that a generator re-run after a worker died yields the
same ids and the round's stages can be keyed by them (adding nothing twice).

Deduplication (Merchant et al., Nature 624, 80 (2023), Methods: "deduplicated ... with pymatgen's
StructureMatcher"), one rule for every generator and across generators (:class:`StructureIndex`):

* a cheap key that ignores volume (:func:`cheap_key`: reduced formula and space group number), so the
  same crystal at two volumes (a substitution of a parent and a relaxed random structure) meets;
* :class:`~pymatgen.analysis.structure_matcher.StructureMatcher` (its defaults: primitive cells, volumes
  scaled to each other) only among structures with the same key;
* duplicates are the connected components of the "matches" relation, not groups around a first member:
  with A ~ B and B ~ C but A !~ C, the three are one crystal. :func:`match_components` returns the
  components of a list; a stream (:class:`StructureIndex`) remembers every structure it has seen, dropped
  ones too, and drops a structure that matches any of them, so C is dropped after A and B.

The round's generate stage keeps one :class:`StructureIndex` for all its generators, so a crystal that
substitution proposed is not evaluated again when SAPS or the composition pipeline proposes it.

Two different structures with the same fingerprint get ids suffixed ``-1``, ``-2`` in the order the
generator yields them; generators are deterministic, so these ids are stable too.

No Django import: this module is used by the round stages, by benchmarks and from notebooks.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

SYMPREC = 0.1
VOLUME_DECIMALS = 1  # Å^3 per atom in the fingerprint


class Proposal(NamedTuple):
    """What a generator proposes before deduplication: a structure and its provenance."""

    structure: Structure
    parent_id: str | None
    operation: str


@dataclass(frozen=True)
class Candidate:
    """One candidate structure with its provenance and stable id.

    ``operation`` is human readable, e.g. ``"Li+->Na+ (p=0.012)"`` or ``"SAPS Mn(4a)->Fe x2 of 4"``;
    ``composition`` is the reduced formula; ``fingerprint`` is the canonical key the id is hashed from.
    """

    structure: Structure = field(compare=False)
    generator: str
    parent_id: str | None
    operation: str
    composition: str
    fingerprint: str
    candidate_id: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data (for task payloads and storage)."""
        return {
            "candidate_id": self.candidate_id,
            "generator": self.generator,
            "parent_id": self.parent_id,
            "operation": self.operation,
            "composition": self.composition,
            "fingerprint": self.fingerprint,
            "structure": self.structure.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(**{**data, "structure": Structure.from_dict(data["structure"])})


def _symmetry(structure: Structure) -> tuple[int, str]:
    """Space group number and the sizes of the symmetry orbits per element, divided by their common
    divisor (``"Li:2,O:1"`` for Li2O in any cell). Orbit sizes rather than Wyckoff letters: the letters
    depend on the choice of origin (a translated Li2O has O on 4a or on 4b)."""
    try:
        dataset = SpacegroupAnalyzer(structure, symprec=SYMPREC).get_symmetry_dataset()
    except Exception:  # spglib refuses some degenerate cells: fall back to P1
        dataset = None
    if dataset is None:
        return 1, ""
    sizes: dict[str, list[int]] = defaultdict(list)
    orbit_size = Counter(int(i) for i in dataset.equivalent_atoms)
    for index, size in sorted(orbit_size.items()):
        sizes[structure[index].specie.symbol].append(size)
    divisor = math.gcd(*orbit_size.values())
    parts = [
        f"{symbol}:{'+'.join(str(n // divisor) for n in sorted(sizes[symbol]))}" for symbol in sorted(sizes)
    ]
    return int(dataset.number), ",".join(parts)


def cheap_key(structure: Structure, number: int | None = None) -> tuple[str, int]:
    """Reduced formula and space group number (``number`` when the caller has it): equal for matching
    structures at any volume, cell choice or origin."""
    if number is None:
        number, _ = _symmetry(structure)
    return structure.composition.reduced_formula, number


def fingerprint(structure: Structure, symmetry: tuple[int, str] | None = None) -> str:
    """Canonical text key of a structure: reduced formula, space group, orbit sizes, volume per atom.
    The id of a candidate is hashed from it (the volume is part of it so ids stay what they were)."""
    number, orbits = symmetry or _symmetry(structure)
    volume = round(structure.volume / len(structure), VOLUME_DECIMALS)
    return f"{structure.composition.reduced_formula}|{number}|{orbits}|{volume:.{VOLUME_DECIMALS}f}"


class StructureIndex:
    """The structures seen so far, by cheap key; :meth:`seen` says whether a new one duplicates them.

    Every structure offered is remembered, duplicates included, so that a chain A ~ B ~ C counts as one
    crystal (a connected component) even when A !~ C.
    """

    def __init__(self, matcher: StructureMatcher | None = None) -> None:
        self.matcher = matcher or StructureMatcher()
        self._groups: dict[tuple[str, int], list[Structure]] = defaultdict(list)

    def seen(self, structure: Structure, key: tuple[str, int] | None = None) -> bool:
        """Remember ``structure``; whether it matches one offered before (same component)."""
        group = self._groups[key or cheap_key(structure)]
        duplicate = any(self.matcher.fit(structure, other) for other in group)
        group.append(structure)
        return duplicate


def match_components(structures: list[Structure], matcher: StructureMatcher | None = None) -> list[list[int]]:
    """Indices of ``structures`` grouped into the connected components of the "matches" relation
    (:class:`StructureMatcher` within each cheap key); each component in input order, the components
    ordered by their first member."""
    matcher = matcher or StructureMatcher()
    parent = list(range(len(structures)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for index, structure in enumerate(structures):
        groups[cheap_key(structure)].append(index)
    for members in groups.values():
        for i, j in itertools.combinations(members, 2):
            if root(i) != root(j) and matcher.fit(structures[i], structures[j]):
                parent[max(root(i), root(j))] = min(root(i), root(j))
    components: dict[int, list[int]] = defaultdict(list)
    for index in range(len(structures)):
        components[root(index)].append(index)
    return sorted(components.values())


def novel_candidates(candidates: Iterable[Candidate], index: StructureIndex) -> Iterator[Candidate]:
    """The candidates whose structure ``index`` has not seen (from another generator), lazily."""
    for candidate in candidates:
        if not index.seen(candidate.structure):
            yield candidate


def is_charge_balanced(composition: Composition) -> bool:
    """Whether pymatgen finds a charge-balanced assignment of common oxidation states."""
    return bool(composition.oxi_state_guesses(max_sites=-20))


def candidate_id(generator: str, key: str) -> str:
    """Stable id: 20 hex digits of the SHA-256 of the generator name and the fingerprint."""
    return hashlib.sha256(f"{generator}\n{key}".encode()).hexdigest()[:20]


def _bare(structure: Structure) -> Structure:
    """A copy without site properties (a parent's magnetic moments mean nothing on substituted sites)."""
    if not structure.site_properties:
        return structure
    return Structure(structure.lattice, structure.species, structure.frac_coords)


class Deduplicator:
    """Turns proposals into unique candidates of one generator.

    A proposal is a duplicate when :class:`StructureIndex` has seen a matching structure (the module
    docstring's rule); the others are numbered per fingerprint for their ids.
    """

    def __init__(self, generator: str, matcher: StructureMatcher | None = None) -> None:
        self.generator = generator
        self.index = StructureIndex(matcher)
        self._per_fingerprint: Counter[str] = Counter()
        self.seen = 0
        self.duplicates = 0

    def add(self, proposal: Proposal) -> Candidate | None:
        """The new candidate, or ``None`` when the structure duplicates one seen before."""
        self.seen += 1
        structure = _bare(proposal.structure)
        symmetry = _symmetry(structure)
        if self.index.seen(structure, cheap_key(structure, symmetry[0])):
            self.duplicates += 1
            return None
        key = fingerprint(structure, symmetry)
        suffix = f"-{self._per_fingerprint[key]}" if self._per_fingerprint[key] else ""
        self._per_fingerprint[key] += 1
        return Candidate(
            structure=structure,
            generator=self.generator,
            parent_id=proposal.parent_id,
            operation=proposal.operation,
            composition=structure.composition.reduced_formula,
            fingerprint=key,
            candidate_id=candidate_id(self.generator, key) + suffix,
        )


def unique_candidates(
    proposals: Iterable[Proposal],
    *,
    generator: str,
    budget: int,
    matcher: StructureMatcher | None = None,
) -> Iterator[Candidate]:
    """At most ``budget`` unique candidates from ``proposals``, consumed lazily (the work stops with the
    budget)."""
    if budget <= 0:
        return
    dedup = Deduplicator(generator, matcher)
    produced = 0
    for proposal in proposals:
        candidate = dedup.add(proposal)
        if candidate is None:
            continue
        yield candidate
        produced += 1
        if produced >= budget:
            return
