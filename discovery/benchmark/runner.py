"""The rediscovery benchmark (issue 20): the discovery loop on a copy of the catalogue with part of its DFT
ground truth hidden, judged by how much of that truth it finds again.

Each round, on the benchmark copy (visible DFT entries plus every answer of the earlier rounds):
generate with the round's generators from its stable parents -> filter with a structural ensemble trained on
the visible entries only -> evaluate the kept candidates and an unfiltered random baseline of the same size with
the oracle (DFT where a candidate is a hidden phase, the configured evaluator elsewhere) -> add the answers.
The generators, the selection rule, the baseline draw and the evaluator are those of a normal round
(``discovery.stages``); the metrics are those of ``discovery.metrics``. Deterministic for a seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pymatgen.core import Composition, Structure

from discovery.benchmark.catalogue import dft_catalogue_rows
from discovery.benchmark.holdout import HoldOut, holdout_split
from discovery.benchmark.oracle import Oracle
from discovery.config import RoundConfig
from discovery.metrics import HIT_TOLERANCE, Outcome, acceleration, arm_metrics, rate, union
from discovery.models import Candidate
from discovery.stages.evaluate import evaluator_for, evaluator_label
from discovery.stages.filter import baseline_sample, select_candidates
from discovery.stages.generate import MAX_PARENT_SITES, structure_generator
from hull import engine
from hull.errors import CatalogueError
from hull.hull_lookup import MemoryHullLookup

Progress = Callable[..., None]  # progress(message, **partial report)


@dataclass
class BenchmarkOptions:
    """The benchmark's size. The defaults run on the demo catalogue in well under 30 minutes on 2 cores."""

    rounds: int = 3
    budget: int = 300  # candidates generated per round (an equal share per generator)
    # evaluations per arm and round: the filter keeps at most this many, the baseline draws as many
    eval_budget: int = 5
    threshold: float = 0.05
    generators: list[str] = field(default_factory=lambda: ["substitution", "saps"])
    elements: list[str] = field(default_factory=list)  # scope; empty: every element of the catalogue
    evaluator: str = "chgnet"
    relax_steps: int = 60
    volumes: int = 5
    members: int = 1
    epochs: int = 15
    config_name: str = "tiny"
    seed: int = 0

    def plan(self, scope: list[str], baseline_size: int = 0) -> RoundConfig:
        plan = RoundConfig(
            elements=scope,
            generators=list(self.generators),
            budget=self.budget,
            eval_budget=self.eval_budget,
            baseline_size=max(baseline_size, 0),
            threshold=self.threshold,
            evaluator=self.evaluator,
            volumes=self.volumes,
            relax_steps=self.relax_steps,
            seed=self.seed,
        )
        plan.validate()
        if "composition" in plan.generators:
            raise CatalogueError("the benchmark runs the structure generators (substitution, saps) only")
        return plan


@dataclass
class BenchmarkCopy:
    """The catalogue as the loop sees it: ``rows`` ``(id, composition, energy per atom)``, structures, and the
    reduced formulas known (what generators skip)."""

    rows: list[tuple[str, dict[str, float], float]]
    structures: dict[str, dict]
    known: set[str]
    added: set[str] = field(default_factory=set)  # reduced formulas the loop itself evaluated

    @classmethod
    def of(cls, holdout: HoldOut) -> BenchmarkCopy:
        visible = holdout.visible
        return cls(
            rows=[(r.public_id, r.composition, r.energy_per_atom) for r in visible],
            structures={
                r.public_id: r.structure for r in visible if r.structure and r.nsites <= MAX_PARENT_SITES
            },
            known={r.reduced_formula for r in visible},
        )

    def parents(self, scope: set[str]) -> list[tuple[str, Structure]]:
        """Stable entries of the copy within the scope with a structure of at most ``MAX_PARENT_SITES`` sites."""
        result = engine.compute_hulls(
            [engine.PhaseEntry(i, comp, e) for i, (_, comp, e) in enumerate(self.rows)]
        )
        stable = {pid for i, (pid, _, _) in enumerate(self.rows) if result.thermo[i].is_stable}
        return [
            (pid, Structure.from_dict(self.structures[pid]))
            for pid, comp, _ in sorted(self.rows, key=lambda row: row[0])
            if pid in self.structures and set(comp) <= scope and pid in stable
        ]

    def add(self, candidate_id: str, structure: Structure, energy_per_atom: float) -> None:
        composition = {el.symbol: float(n) for el, n in structure.composition.items()}
        self.rows.append((candidate_id, composition, energy_per_atom))
        if len(structure) <= MAX_PARENT_SITES:
            self.structures[candidate_id] = structure.as_dict()
        self.known.add(structure.composition.reduced_formula)
        self.added.add(structure.composition.reduced_formula)


def benchmark_run(*, options: BenchmarkOptions, directory: Path, progress: Progress | None = None) -> dict:
    """Run the benchmark and return its report (plain data, stored by ``discovery.benchmark.store``)."""
    say = progress or (lambda message, **partial: None)
    started = time.perf_counter()
    holdout = holdout_split(dft_catalogue_rows())
    copy = BenchmarkCopy.of(holdout)
    scope = sorted(set(options.elements) or {el for _, comp, _ in copy.rows for el in comp})
    say(f"hold-out: {holdout.summary()}")
    ensemble, model = train_benchmark_model(holdout, options, directory / "model", say)
    oracle = Oracle(holdout.hidden, evaluator_for(options.plan(scope)))
    hidden_ids = {row.public_id for row in holdout.hidden}
    hidden_stable = set(holdout.hidden_stable)
    leaks = {"training": model.pop("hidden_in_training"), "parents": 0, "known_formulas": 0, "hull": 0}
    history: dict[str, list[Outcome]] = {"filtered": [], "baseline": []}
    rounds = []
    for number in range(1, options.rounds + 1):
        say(f"round {number}: generate")
        times: dict[str, float] = {}
        clock = time.perf_counter()
        parents = copy.parents(set(scope))
        leaks["parents"] += sum(pid in hidden_ids for pid, _ in parents)
        # a hidden composition the loop evaluated itself is known from then on, like any round's result
        leaks["known_formulas"] += len((copy.known & holdout.hidden_formulas) - copy.added)
        leaks["hull"] += sum(pid in hidden_ids for pid, _, _ in copy.rows)
        generated = generate(options.plan(scope), parents, copy.known)
        times["generate"] = time.perf_counter() - clock

        say(f"round {number}: filter {len(generated)} candidates")
        clock = time.perf_counter()
        lookup = MemoryHullLookup(list(copy.rows))
        candidates = predict(ensemble, generated, lookup, options.volumes)
        kept = select_candidates(candidates, options.plan(scope))
        reachable = reachable_phases(oracle, candidates, kept, holdout.hidden_formulas, hidden_stable)
        baseline = baseline_sample(candidates, options.plan(scope, baseline_size=len(kept)), number)
        times["filter"] = time.perf_counter() - clock

        say(f"round {number}: evaluate {len(kept)} kept and {len(baseline)} baseline candidates")
        clock = time.perf_counter()
        answers = {}
        for c in sorted({c.candidate_id: c for c in kept + baseline}.values(), key=lambda c: c.candidate_id):
            answers[c.candidate_id] = oracle.evaluate(Structure.from_dict(c.structure), c.candidate_id)
        times["evaluate"] = time.perf_counter() - clock

        clock = time.perf_counter()
        outcomes = {cid: judge(answer, lookup, hidden_stable) for cid, answer in answers.items()}
        for cid, answer in answers.items():
            if answer.result.ok:
                copy.add(cid, answer.result.structure, answer.result.energy_per_atom)
        times["hull"] = time.perf_counter() - clock
        arms = {
            "filtered": [outcomes[c.candidate_id] for c in kept],
            "baseline": [outcomes[c.candidate_id] for c in baseline],
        }
        for arm, items in arms.items():
            history[arm].extend(items)
        rounds.append(
            round_report(number, len(candidates), arms, history, answers, hidden_stable, times, len(parents))
        )
        rounds[-1]["reachable"] = reachable
        say(f"round {number} done", rounds=rounds, holdout=holdout.summary(), model=model)
    return {
        "options": asdict(options),
        "scope": scope,
        "holdout": holdout.summary(),
        "hidden_stable_ids": sorted(hidden_stable),
        "model": model,
        "evaluator": evaluator_label(options.evaluator),
        "hit_tolerance": HIT_TOLERANCE,
        "leaks": leaks,
        "rounds": rounds,
        "seconds": round(time.perf_counter() - started, 1),
    }


def benchmark_samples(holdout: HoldOut) -> list:
    """Training data of the benchmark's model: the visible entries with a structure and a DFT formation energy."""
    from ml_backend.data import Sample

    return [
        Sample(Structure.from_dict(r.structure), float(r.formation_energy), r.public_id)
        for r in holdout.visible
        if r.structure is not None and r.formation_energy is not None
    ]


def train_benchmark_model(holdout: HoldOut, options: BenchmarkOptions, directory: Path, say: Progress):
    """A structural ensemble trained with the project's training code on the visible entries only."""
    from discovery.ml_adapter import ensemble_mae, load_config
    from ml_backend.data import hash_split
    from ml_backend.ensemble import train_ensemble

    clock = time.perf_counter()
    train, test = hash_split(benchmark_samples(holdout))
    config = load_config(options.config_name, "structural").with_train(num_epochs=options.epochs)
    say(f"training {options.members} {options.config_name} member(s) on {len(train)} visible entries")
    ensemble = train_ensemble(
        config,
        train,
        test,
        num_models=options.members,
        seeds=[options.seed + i for i in range(options.members)],
        checkpoint_dir=directory,
    )
    hidden = holdout.hidden_formulas
    return ensemble, {
        "config": options.config_name,
        "members": options.members,
        "epochs": options.epochs,
        "n_train": len(train),
        "n_test": len(test),
        "test_mae": ensemble_mae(ensemble, test) if test else None,
        "seconds": round(time.perf_counter() - clock, 1),
        "hidden_in_training": sum(s.reduced_formula in hidden for s in train + test),
    }


def generate(plan: RoundConfig, parents: list[tuple[str, Structure]], known: set[str]) -> list:
    """The round's generators, an equal share of the budget each, deduplicated by candidate id."""
    share = max(1, plan.budget // max(1, len(plan.generators)))
    candidates: dict[str, object] = {}
    for name in plan.generators:
        for c in structure_generator(
            name, parents, budget=share, known=set(known), scope=plan.scope_elements()
        ):
            candidates.setdefault(c.candidate_id, c)
    return list(candidates.values())


def predict(ensemble, generated: list, lookup: MemoryHullLookup, volumes: int) -> list[Candidate]:
    """Unsaved ``Candidate`` rows with the ensemble's predictions, as the filter stage fills them."""
    from ml_backend.ensemble import Augmentation

    rows = [
        Candidate(
            candidate_id=g.candidate_id,
            generator=g.generator,
            parent_id=g.parent_id or "",
            composition=g.composition,
            structure=g.structure.as_dict(),
        )
        for g in generated
    ]
    augmentation = Augmentation(num_volumes=volumes)
    for start in range(0, len(rows), 64):
        block = rows[start : start + 64]
        prediction = ensemble.predict_structures(
            [Structure.from_dict(c.structure) for c in block], augmentation
        )
        for c, median in zip(block, prediction.median, strict=True):
            c.predicted_formation_energy = float(median)
            c.predicted_decomposition_energy = lookup.decomposition_energy(
                Composition(c.composition).as_dict(), float(median)
            )
    return rows


def reachable_phases(
    oracle: Oracle, candidates: list, kept: list, hidden_formulas: set[str], stable: set[str]
):
    """Hidden DFT-stable phases that some generated candidate matches as generated (what a perfect filter could
    find without relaxing), and how many of them the filter kept: the ceiling of a round, and the filter's share."""
    kept_ids = {c.candidate_id for c in kept}
    found: dict[str, bool] = {}
    for c in candidates:
        if c.composition in hidden_formulas:
            row = oracle.match(Structure.from_dict(c.structure))
            if row is not None and row.public_id in stable:
                found[row.public_id] = found.get(row.public_id, False) or c.candidate_id in kept_ids
    return {
        "hidden_formula_candidates": sum(c.composition in hidden_formulas for c in candidates),
        "generated": len(found),
        "kept": sum(found.values()),
    }


def judge(answer, lookup: MemoryHullLookup, hidden_stable: set[str]) -> Outcome:
    """One evaluation against the hull of the round's start."""
    result = answer.result
    if not result.ok:
        return Outcome(failed=True, converged=False)
    composition = {el.symbol: float(n) for el, n in result.structure.composition.items()}
    formation = lookup.formation_energy(composition, result.energy_per_atom)
    distance = lookup.decomposition_energy(composition, formation) if formation is not None else None
    return Outcome(
        failed=False,
        converged=result.trajectory.converged,
        distance=distance,
        dft=answer.dft,
        rediscovered=answer.matched if answer.matched in hidden_stable else None,
    )


def round_report(number, generated, arms, history, answers, hidden_stable, times, parents) -> dict:
    total = len(hidden_stable)
    report = {"round": number, "parents": parents, "generated": generated, "evaluations_spent": len(answers)}
    for arm in ("filtered", "baseline"):
        metrics = arm_metrics(arms[arm])
        metrics["recall"] = rate(len(metrics["rediscovered"]), total)
        report[arm] = metrics
    filtered, baseline = report["filtered"], report["baseline"]
    report["acceleration"] = acceleration(
        len(filtered["rediscovered"]),
        filtered["evaluations"],
        len(baseline["rediscovered"]),
        baseline["evaluations"],
    )
    cumulative = {}
    for arm in ("filtered", "baseline"):
        found = union([o.rediscovered] for o in history[arm] if o.rediscovered)
        cumulative[arm] = {
            "evaluations": len(history[arm]),
            "rediscovered": len(found),
            "recall": rate(len(found), total),
            "dft_precision": arm_metrics(history[arm])["dft_precision"],
            "hit_rate": arm_metrics(history[arm])["hit_rate"],
        }
    cumulative["acceleration"] = acceleration(
        cumulative["filtered"]["rediscovered"],
        cumulative["filtered"]["evaluations"],
        cumulative["baseline"]["rediscovered"],
        cumulative["baseline"]["evaluations"],
    )
    report["cumulative"] = cumulative
    report["oracle"] = {
        "dft_answers": sum(a.dft for a in answers.values()),
        "as_generated": sum(a.when == "as generated" for a in answers.values()),
        "after_relaxation": sum(a.when == "after relaxation" for a in answers.values()),
        "evaluator_answers": sum(not a.dft for a in answers.values()),
    }
    report["seconds"] = {k: round(v, 1) for k, v in times.items()}
    return report
