"""The hold-out (the paper's composition-hash rule, every polymorph hidden, nothing hidden visible to generation,
filter or training) and the oracle's matching, on the real MP entries."""

from collections import defaultdict

import pytest
from pymatgen.core import Structure

from discovery.benchmark.holdout import CatalogueRow, holdout_split, is_hidden_formula
from discovery.benchmark.oracle import Oracle
from discovery.benchmark.runner import BenchmarkCopy, benchmark_samples
from ml_backend.data import composition_hash_bucket


@pytest.fixture(scope="module")
def rows(mp_entry_dicts) -> list[CatalogueRow]:
    out = []
    for item in mp_entry_dicts:
        structure = Structure.from_dict(item["structure"])
        composition = structure.composition
        energy = item["energy"] / composition.num_atoms
        out.append(
            CatalogueRow(
                public_id=item["entry_id"],
                reduced_formula=composition.reduced_formula,
                composition={el.symbol: float(n) for el, n in composition.items()},
                energy_per_atom=energy,
                structure=item["structure"],
                nsites=len(structure),
                formation_energy=-1.0,
                stable=True,
            )
        )
    return out


def test_hidden_compositions_follow_the_md5_rule_and_take_every_polymorph(rows):
    holdout = holdout_split(rows)
    assert holdout.hidden and holdout.visible
    for row in holdout.hidden:
        assert row.nelements >= 3 and composition_hash_bucket(row.reduced_formula) >= 85
    hidden = holdout.hidden_formulas
    assert not any(row.reduced_formula in hidden for row in holdout.visible)  # no polymorph left visible
    by_formula = defaultdict(int)
    for row in rows:
        by_formula[row.reduced_formula] += 1
    assert len(holdout.hidden) == sum(by_formula[f] for f in hidden)
    assert not is_hidden_formula("Li2O", 2)  # binaries stay visible whatever their hash


def test_nothing_hidden_reaches_generation_filter_or_training(rows):
    holdout = holdout_split(rows)
    hidden_ids = {row.public_id for row in holdout.hidden}
    hidden = holdout.hidden_formulas
    copy = BenchmarkCopy.of(holdout)
    assert not {pid for pid, _, _ in copy.rows} & hidden_ids  # the filter's hull and the evaluation's
    assert not set(copy.structures) & hidden_ids
    assert not copy.known & hidden  # generators may propose hidden compositions: they are unknown to them
    parents = copy.parents({"Li", "Fe", "P", "O"})
    assert parents and not {pid for pid, _ in parents} & hidden_ids
    samples = benchmark_samples(holdout)
    assert samples and not {s.reduced_formula for s in samples} & hidden  # training data


def test_the_oracle_matches_a_hidden_structure_and_only_it(rows):
    holdout = holdout_split(rows)
    by_formula = defaultdict(list)
    for row in holdout.hidden:
        by_formula[row.reduced_formula].append(row)
    # a hidden composition with two polymorphs of different structure
    row, other = next(
        (a, b)
        for group in by_formula.values()
        for a in group
        for b in group
        if a is not b and len(a.structure["sites"]) != len(b.structure["sites"])
    )
    oracle = Oracle([row], evaluator=None)
    strained = Structure.from_dict(row.structure)
    strained.scale_lattice(
        strained.volume * 1.08
    )  # a generated guess at another volume, sites in another order
    strained = Structure.from_sites(list(reversed(strained.sites)))
    answer = oracle.evaluate(strained, "cand-1")
    assert answer.dft and answer.matched == row.public_id and answer.when == "as generated"
    assert answer.result.method_family == "dft" and row.public_id in answer.result.method
    assert answer.result.energy_per_atom == pytest.approx(row.energy_per_atom)
    assert oracle.match(Structure.from_dict(other.structure)) is None  # another polymorph is not it
    with pytest.raises(ValueError):  # unknown to the oracle and no evaluator to fall back on
        oracle.evaluate(Structure.from_dict(other.structure))


def test_generation_and_the_baseline_draw_are_deterministic_per_seed(rows):
    from discovery.benchmark.runner import BenchmarkOptions, generate
    from discovery.stages.filter import baseline_sample

    copy = BenchmarkCopy.of(holdout_split(rows))
    parents = copy.parents({"Li", "Fe", "P", "O"})[:3]
    options = BenchmarkOptions(budget=20, elements=["Li", "Fe", "P", "O"])
    plan = options.plan(options.elements, baseline_size=5)
    first = [c.candidate_id for c in generate(plan, parents, copy.known)]
    assert first and first == [c.candidate_id for c in generate(plan, parents, copy.known)]
    assert baseline_sample(first, plan, 1) == baseline_sample(list(first), plan, 1)
    other = BenchmarkOptions(seed=1).plan(options.elements, baseline_size=5)
    assert len(first) < 6 or baseline_sample(first, other, 1) != baseline_sample(first, plan, 1)
