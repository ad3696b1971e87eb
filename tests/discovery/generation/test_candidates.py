"""Candidate ids, deduplication and the budget."""

import itertools

from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure

from discovery.generation.candidates import Candidate, Deduplicator, Proposal, cheap_key, unique_candidates


def _variants(structure: Structure) -> list[Structure]:
    """The same crystal four ways: as is, translated, sites permuted, as a 2x1x1 supercell."""
    translated = structure.copy()
    translated.translate_sites(list(range(len(structure))), [0.13, 0.07, 0.31])
    permuted = Structure.from_sites(list(reversed(structure.sites)))
    supercell = structure.copy()
    supercell.make_supercell([2, 1, 1])
    return [structure, translated, permuted, supercell]


def test_same_structure_twice_is_one_candidate(parents):
    _, li2o = parents["Li2O"]
    proposals = [Proposal(s, "mp-1960", f"copy {i}") for i, s in enumerate(_variants(li2o))]
    out = list(unique_candidates(proposals, generator="test", budget=10))
    assert len(out) == 1
    assert out[0].operation == "copy 0"


def test_distinct_structures_are_kept_and_ids_unique(parents):
    proposals = [Proposal(s, entry_id, "as is") for entry_id, s in parents.values()]
    out = list(unique_candidates(proposals, generator="test", budget=10))
    assert len(out) == 3
    assert len({c.candidate_id for c in out}) == 3
    matcher = StructureMatcher()
    for a, b in itertools.combinations(out, 2):
        assert not matcher.fit(a.structure, b.structure)


def test_ids_are_stable_across_runs_and_depend_on_generator(parents):
    proposals = [Proposal(s, entry_id, "as is") for entry_id, s in parents.values()]
    first = [c.candidate_id for c in unique_candidates(proposals, generator="g", budget=10)]
    second = [c.candidate_id for c in unique_candidates(proposals, generator="g", budget=10)]
    other = [c.candidate_id for c in unique_candidates(proposals, generator="h", budget=10)]
    assert first == second
    assert not set(first) & set(other)


def test_budget_is_respected_and_consumption_is_lazy(parents):
    consumed = []

    def proposals():
        for entry_id, structure in parents.values():
            consumed.append(entry_id)
            yield Proposal(structure, entry_id, "as is")

    out = list(unique_candidates(proposals(), generator="g", budget=2))
    assert len(out) == 2
    assert len(consumed) == 2
    assert list(unique_candidates(proposals(), generator="g", budget=0)) == []


def test_cheap_key_equal_for_equivalent_structures(parents):
    _, li2o = parents["Li2O"]
    keys = {cheap_key(s) for s in _variants(li2o)}
    assert keys == {("Li2O", 225)}  # no volume: the same crystal at another volume meets it


def test_candidate_round_trips_through_a_dict(parents):
    entry_id, structure = parents["LiCoO2"]
    candidate = Deduplicator("g").add(Proposal(structure, entry_id, "as is"))
    back = Candidate.from_dict(candidate.as_dict())
    assert back == candidate  # the structure is left out of equality; the provenance and id are compared
    assert back.structure == candidate.structure
