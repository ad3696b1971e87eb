"""CHGNet 0.3.0 relaxations of real MP structures, and failures recorded as failed results."""

import math

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from discovery.evaluation.base import EvaluationResult
from discovery.evaluation.chgnet_evaluator import CHGNetEvaluator
from discovery.generation.candidates import Deduplicator, Proposal


@pytest.fixture(scope="module")
def evaluator():
    return CHGNetEvaluator(steps=100)


def test_model_is_the_packaged_0_3_0(evaluator):
    assert evaluator.model.version == "0.3.0"
    assert evaluator.method == "CHGNet 0.3.0" and evaluator.method_family == "ml"


def test_real_structures_match_mp_corrected_energies(evaluator, mp_entries_by_id):
    entries = [mp_entries_by_id["mp-1960"], mp_entries_by_id["mp-18767"]]  # Li2O, LiMnO2 (Pmmn)
    candidate = Deduplicator("test").add(Proposal(entries[0].structure, entries[0].entry_id, "as is"))
    results = evaluator.evaluate([candidate, entries[1].structure])
    assert [r.candidate_id for r in results] == [candidate.candidate_id, None]
    for entry, result in zip(entries, results, strict=True):
        assert result.ok, result.reason
        assert abs(result.energy_per_atom - entry.energy_per_atom) < 0.1  # already MP2020-corrected
        assert math.isclose(result.energy, result.energy_per_atom * len(entry.structure))
        assert result.structure.composition == entry.structure.composition
        assert not result.structure.site_properties
        summary = result.trajectory
        assert summary.steps >= 1 and summary.final_energy == result.energy
        assert summary.converged and summary.max_force <= 0.1 and summary.seconds > 0


def test_isolated_atoms_are_a_failed_result_not_an_exception(evaluator, mp_entries_by_id):
    isolated = Structure(Lattice.cubic(20.0), ["Li", "Li"], [[0, 0, 0], [0.5, 0, 0]])  # 10 Å apart
    results = evaluator.evaluate([isolated, mp_entries_by_id["mp-1960"].structure])
    assert results[0].status == "failed" and "isolated" in results[0].reason
    assert results[0].energy is None and results[0].structure is None
    assert results[1].ok


def test_nan_energy_is_a_failed_result(evaluator, mp_entries_by_id, monkeypatch):
    class NanTrajectory:
        energies = [float("nan")]
        forces = [np.zeros((3, 3))]

    structure = mp_entries_by_id["mp-1960"].structure
    monkeypatch.setattr(
        evaluator.optimizer,
        "relax",
        lambda *a, **k: {"final_structure": structure, "trajectory": NanTrajectory()},
    )
    (result,) = evaluator.evaluate([structure])
    assert result.status == "failed" and "non-finite" in result.reason


def test_result_round_trips_through_a_dict(evaluator, mp_entries_by_id):
    (result,) = evaluator.evaluate([mp_entries_by_id["mp-1960"].structure])
    back = EvaluationResult.from_dict(result.as_dict())
    assert back.energy == result.energy and back.trajectory == result.trajectory
    assert back.structure == result.structure
