"""Deduplication across generators: a cheap key that ignores volume, then StructureMatcher, with
connected components, so the same crystal from two generators or at two volumes is evaluated once."""

import gzip
import itertools

import orjson
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Lattice, Structure
from pymatgen.entries.computed_entries import ComputedStructureEntry

from discovery.generation.candidates import (
    Proposal,
    StructureIndex,
    cheap_key,
    fingerprint,
    match_components,
    novel_candidates,
    unique_candidates,
)
from discovery.generation.saps import saps_candidates
from discovery.generation.substitution import substitution_candidates
from tests.conftest import shared_file, subset


@pytest.fixture(scope="module")
def mp_structures(mp_entry_dicts) -> dict[str, Structure]:
    wanted = {"mp-1960", "mp-18767"}  # Li2O (Fm-3m), LiMnO2 (Pmmn)
    return {
        item["entry_id"]: ComputedStructureEntry.from_dict(item).structure
        for item in mp_entry_dicts
        if item["entry_id"] in wanted
    }


@pytest.fixture(scope="module")
def mp_na2o() -> Structure:
    """Materials Project's own Na2O (mp-2352, antifluorite), from the binary structures file."""
    with gzip.open(shared_file("mp_binary_structures.json.gz"), "rb") as handle:
        items = orjson.loads(handle.read())
    (item,) = [i for i in items if i["mp_id"] == "mp-2352"]
    return Structure.from_dict(item["structure"])


def _stretched(structure: Structure, factor: float) -> Structure:
    """The structure with its first lattice vector stretched by ``factor`` (symmetry kept for Pmmn)."""
    matrix = structure.lattice.matrix.copy()
    matrix[0] *= factor
    return Structure(Lattice(matrix), structure.species, structure.frac_coords)


def test_a_chain_of_matches_is_one_component(mp_structures):
    """A ~ B and B ~ C but A !~ C: one crystal, whatever the order it arrives in."""
    a = mp_structures["mp-18767"]
    b, c = _stretched(a, 1.2), _stretched(a, 1.44)
    matcher = StructureMatcher()
    assert matcher.fit(a, b) and matcher.fit(b, c) and not matcher.fit(a, c)
    assert cheap_key(a) == cheap_key(b) == cheap_key(c)
    assert match_components([a, c, b]) == [[0, 1, 2]]
    assert match_components([a, c, mp_structures["mp-1960"]]) == [[0], [1], [2]]
    # a stream remembers the dropped B, so C (which only matches B) is dropped too
    proposals = [Proposal(s, "mp-18767", name) for name, s in (("A", a), ("B", b), ("C", c))]
    assert [x.operation for x in unique_candidates(proposals, generator="g", budget=10)] == ["A"]


def test_same_crystal_at_another_volume_from_another_generator(mp_structures, mp_na2o):
    """Substitution makes Na2O from Li2O at Li2O's volume; MP's own Na2O, at its volume and scaled by a
    further 30 %, arrives from another generator and is left out both times."""
    li2o = mp_structures["mp-1960"]
    index = StructureIndex()
    made = list(novel_candidates(substitution_candidates([("mp-1960", li2o)], budget=20), index))
    (na2o,) = [c for c in made if c.composition == "Na2O"]
    larger = mp_na2o.copy()
    larger.scale_lattice(mp_na2o.volume * 1.3)
    others = [Proposal(s, None, f"random #{i}") for i, s in enumerate([mp_na2o, larger])]
    for proposal in others:
        assert abs(proposal.structure.volume / len(proposal.structure) - na2o.structure.volume / 3) > 0.5
        assert fingerprint(proposal.structure) != na2o.fingerprint  # the old volume key told them apart
        assert cheap_key(proposal.structure) == cheap_key(na2o.structure)
    from_airss = list(unique_candidates(others[:1], generator="airss", budget=5))
    assert len(from_airss) == 1  # on its own it is a candidate
    assert list(novel_candidates(from_airss, index)) == []
    assert list(novel_candidates(unique_candidates(others[1:], generator="airss", budget=5), index)) == []


def test_substitution_and_saps_overlap_is_evaluated_once(mp_structures):
    """On real parents the two generators propose the same crystals (Li2O -> Na2O by both); one index
    across them keeps one of each."""
    parents = [("mp-1960", mp_structures["mp-1960"]), ("mp-18767", mp_structures["mp-18767"])]
    substituted = list(substitution_candidates(parents, budget=25))
    permuted = list(saps_candidates(parents, budget=25))
    both = substituted + permuted
    components = match_components([c.structure for c in both])
    shared = [comp for comp in components if {both[i].generator for i in comp} == {"substitution", "saps"}]
    assert shared  # the overlap is real
    index = StructureIndex()
    kept = list(novel_candidates(substituted, index)) + list(novel_candidates(permuted, index))
    assert len(kept) == len(components)
    matcher = StructureMatcher()
    for x, y in itertools.combinations(kept, 2):
        if cheap_key(x.structure) == cheap_key(y.structure):
            assert not matcher.fit(x.structure, y.structure), (x.operation, y.operation)


@pytest.mark.django_db
def test_generate_stage_stores_each_crystal_once(tmp_path, mp_entry_dicts):
    """A round with substitution and SAPS over Li-Na-O stores no crystal twice, across generators."""
    from discovery.advance import stage_run
    from discovery.models import RoundStage
    from discovery.services import round_create
    from hull.services.ingest import ingest_file
    from tests.catalogue_files import write_json

    items = [i for i in subset(mp_entry_dicts, {"Li", "O"}) if len(i["structure"]["sites"]) <= 12]
    ingest_file(path=write_json(tmp_path / "catalogue.json", items))
    config = {"elements": ["Li", "Na", "O"], "generators": ["substitution", "saps"], "budget": 30}
    round = round_create(config={**config, "ensemble_size": 1, "hull_set": "all"}, enqueue=False)
    assert stage_run(round, RoundStage.Name.GENERATE)
    stored = list(round.candidates.all())
    assert {c.generator for c in stored} == {"substitution", "saps"}
    structures = [Structure.from_dict(c.structure) for c in stored]
    assert all(len(comp) == 1 for comp in match_components(structures))
    assert "Na2O" in {c.composition for c in stored}
