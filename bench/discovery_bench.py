"""Benchmark of the discovery generators, the GNoME filter and CHGNet relaxations on this machine's CPU.

    python bench/discovery_bench.py [--budget 200] [--parents 20] [--relax 12] [--steps 300] [--threads 1]
                                    [--members 10] [--volumes 5]
    python bench/discovery_bench.py --round-stages [N]

Generators, on real parents from ``$PORTAL_SHARED_DATA/mp_entries.json.gz`` (default ``../shared/data``):
the first ``--parents`` entries by MP id (at most 12 sites) of the Li-Mn-Co-Ni-O space, with the catalogue's
reduced formulas as the known set. Each generator runs until ``--budget`` unique candidates (or its
proposals run out); the time includes deduplication. The one-off set-up (pymatgen's substitution
probability model, about 5 s) is timed apart. Compositions: enumeration of the Li-Mn-Fe-P-O space up to
12 atoms per formula; AIRSS: random structures of a few of those compositions.

Filter: the substitution candidates through an ensemble of ``--members`` structural GNoME models
(``ml_backend``, config ``cpu_structural``; default 10, a round's default ensemble size) with test-time
augmentation over ``--volumes`` volumes (default 5), in blocks of 64 as a round's filter stage calls
``Ensemble.predict_structures``. The weights are freshly initialised (one seed per member), not trained:
the predictions are meaningless but the cost is the same. Member initialisation, the first call (which
compiles the forward pass once per padding budget) and a second, warm call (graphs rebuilt, no compilation)
are timed apart; candidates per second and seconds per candidate of both calls, with the warm call's
graph-building share. ``--members 0`` skips the filter.

CHGNet: relaxations (FIRE, fmax 0.1 eV/Å, at most ``--steps`` steps, cell relaxed) of ``--relax``
substitution candidates spread over the candidate list, which start away from their minimum as a round's candidates do; relaxations per
minute and seconds per relaxation, with the mean number of steps. The model load is timed apart.
``--relax 0`` skips CHGNet.

Stage times of past rounds: ``--round-stages N`` reads round ``N`` from the portal's database (``--round-stages``
alone: the latest 3 rounds) and prints, for each stage, its name, status, done/total and duration (from the
``RoundStage`` timestamps; a running stage counts up to now), then the round's total (from the ``Round``
timestamps) beside the sum of its stages. It sets up Django (``DJANGO_SETTINGS_MODULE``, default
``portal.settings.local``, which honours ``DATABASE_URL``) and runs nothing else; the other sections need no
Django.

The machine's load average is printed: other work on the same cores slows every figure.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymatgen.core import Composition  # noqa: E402
from pymatgen.entries.computed_entries import ComputedStructureEntry  # noqa: E402

from discovery.generation.airss import airss_candidates  # noqa: E402
from discovery.generation.compositions import enumerate_compositions  # noqa: E402
from discovery.generation.saps import saps_candidates  # noqa: E402
from discovery.generation.substitution import discovery_probability_model, substitution_candidates  # noqa: E402

SPACE = {"Li", "Mn", "Co", "Ni", "O"}


def shared_data() -> Path:
    return Path(os.environ.get("PORTAL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def load_parents(n_parents: int) -> tuple[list[tuple[str, object]], frozenset[str]]:
    path = shared_data() / "mp_entries.json.gz"
    if not path.exists():
        sys.exit(f"{path} is absent: set PORTAL_SHARED_DATA to the folder that holds mp_entries.json.gz")
    with gzip.open(path, "rt") as handle:
        items = json.load(handle)
    known = frozenset(Composition(item["composition"]).reduced_formula for item in items)
    chosen = [item for item in items if set(item["composition"]) <= SPACE and len(item["composition"]) >= 2]
    entries = [ComputedStructureEntry.from_dict(item) for item in chosen]
    entries = sorted((e for e in entries if len(e.structure) <= 12), key=lambda e: e.entry_id)
    return [(e.entry_id, e.structure) for e in entries[:n_parents]], known


def timed(label: str, make, rows: list) -> list:
    start = time.perf_counter()
    out = list(make())
    seconds = time.perf_counter() - start
    rows.append((label, len(out), seconds, len(out) / seconds if seconds else float("inf")))
    return out


def bench_generators(budget: int, n_parents: int) -> tuple[list, list]:
    parents, known = load_parents(n_parents)
    print(
        f"parents: {len(parents)} MP entries of Li-Mn-Co-Ni-O with at most 12 sites; known formulas: {len(known)}"
    )
    start = time.perf_counter()
    discovery_probability_model()
    print(
        f"substitution model set-up (pymatgen SubstitutionProbability, edited lambdas): {time.perf_counter() - start:.1f} s"
    )
    rows: list = []
    subs = timed(
        "substitution", lambda: substitution_candidates(parents, budget=budget, known_formulas=known), rows
    )
    timed("saps", lambda: saps_candidates(parents, budget=budget), rows)
    compositions = timed(
        "compositions (Li-Mn-Fe-P-O, <=12 atoms)",
        lambda: enumerate_compositions(["Li", "Mn", "Fe", "P", "O"], max_atoms=12, exclude_formulas=known),
        rows,
    )
    small = [c for c in compositions if c.num_atoms <= 6][:10]
    timed("airss", lambda: airss_candidates(small, budget=min(budget, 20), per_composition=2, seed=0), rows)
    return rows, subs


def bench_filter(candidates: list, n_members: int, n_volumes: int) -> None:
    """Time the filter stage's prediction as a round makes it (``discovery.stages.filter.run``)."""
    from ml_backend.configs.cpu_structural import get_config
    from ml_backend.ensemble import Augmentation, Ensemble, scaled_structures
    from ml_backend.graphs import build_graphs
    from ml_backend.predict import TRACE_COUNTS
    from ml_backend.train import init_trained_model

    structures = [c.structure for c in candidates]
    if not structures:
        print("\nfilter: no candidates")
        return
    config = get_config()
    start = time.perf_counter()
    # The ladder of padding budgets comes from the candidates at their own volume (a round's comes from the
    # ensemble's training set); volumes beyond it add rungs, as they would in a round.
    graphs = build_graphs(structures, cutoff=config.model.cutoff)
    members = [init_trained_model(config, graphs, seed=config.train.seed + i) for i in range(n_members)]
    ensemble = Ensemble(members)
    augmentation = Augmentation(num_volumes=n_volumes)
    print(
        f"\nfilter: ensemble of {n_members} structural models ({config.name}: {config.model.latent_size} features, "
        f"{config.model.num_message_passing_steps} message-passing steps, cutoff {config.model.cutoff} A), "
        f"{len(augmentation.volume_fractions())} volumes; FRESHLY INITIALISED weights (throughput only)"
    )
    print(f"  member initialisation: {time.perf_counter() - start:.1f} s")

    def predict_all() -> float:
        start = time.perf_counter()
        for first in range(0, len(structures), 64):  # the filter stage's blocks
            ensemble.predict_structures(structures[first : first + 64], augmentation)
        return time.perf_counter() - start

    traces = TRACE_COUNTS.get(config.model, 0)
    cold = predict_all()
    compiled = TRACE_COUNTS.get(config.model, 0) - traces
    warm = predict_all()
    recompiled = TRACE_COUNTS.get(config.model, 0) - traces - compiled
    fractions = augmentation.volume_fractions()
    start = time.perf_counter()  # the part of a call spent before the models: scaled copies and their graphs
    for first in range(0, len(structures), 64):
        scaled = [copy for s in structures[first : first + 64] for copy in scaled_structures(s, fractions)]
        build_graphs(scaled, cutoff=config.model.cutoff)
    graph_seconds = time.perf_counter() - start
    n = len(structures)
    mean_sites = statistics.mean(len(s) for s in structures)
    print(
        f"  {n} substitution candidates ({mean_sites:.1f} sites on average), {n * len(fractions)} graphs per call"
    )
    print(f"{'  call':<34}{'seconds':>9}{'cand./s':>10}{'s/cand.':>10}")
    print(f"{f'  first ({compiled} compilations)':<34}{cold:>9.2f}{n / cold:>10.1f}{cold / n:>10.4f}")
    print(
        f"{'  warm (' + str(recompiled) + ' compilations)':<34}{warm:>9.2f}{n / warm:>10.1f}{warm / n:>10.4f}"
    )
    print(
        f"  of which graph building (scaling + neighbour lists): {graph_seconds:.2f} s ({100 * graph_seconds / warm:.0f}%)"
    )


def bench_chgnet(candidates: list, n_relax: int, steps: int, threads: int | None) -> None:
    from discovery.evaluation.chgnet_evaluator import CHGNetEvaluator

    start = time.perf_counter()
    evaluator = CHGNetEvaluator(steps=steps, threads=threads)
    print(f"\nCHGNet 0.3.0 model load: {time.perf_counter() - start:.1f} s")
    chosen = candidates[:: max(1, len(candidates) // n_relax)][:n_relax]  # spread over the candidate list
    start = time.perf_counter()
    results = []
    for candidate in chosen:
        (result,) = evaluator.evaluate([candidate])
        results.append(result)
        summary = result.trajectory
        print(
            f"  {candidate.composition:<12} {len(candidate.structure):>3} sites  {result.status:<6} "
            f"{summary.steps:>4} steps  {summary.seconds:6.1f} s  {candidate.operation}",
            flush=True,
        )
    seconds = time.perf_counter() - start
    ok = [r for r in results if r.ok]
    print(
        f"relaxed {len(results)} substitution candidates ({statistics.mean(len(c.structure) for c in chosen):.1f} "
        f"sites on average): {len(ok)} ok, {sum(r.trajectory.converged for r in ok)} converged within {steps} steps"
    )
    print(
        f"  {60 * len(results) / seconds:.1f} relaxations/min, {seconds / len(results):.2f} s/relaxation, "
        f"{statistics.mean(r.trajectory.steps for r in results):.0f} steps on average, "
        f"{seconds / max(1, sum(r.trajectory.steps for r in results)) * 1000:.0f} ms/step"
    )


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {seconds % 60:04.1f} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def print_round_stages(number: int | None, latest: int = 3) -> None:
    """Each stage's name, status, done/total and duration for round ``number`` (None: the latest rounds),
    read from the portal's database; Django is set up here, not at import."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    import django

    django.setup()
    from django.conf import settings
    from django.utils import timezone

    from discovery.models import Round

    database = settings.DATABASES["default"]
    print(f"database: {database['ENGINE'].rsplit('.', 1)[-1]} {database.get('NAME', '')}")
    rounds = Round.objects.prefetch_related("stages").order_by("-number")
    rounds = list(rounds.filter(number=number) if number is not None else rounds[:latest])
    if not rounds:
        print(f"no round {number}" if number is not None else "no rounds")
        return
    now = timezone.now()

    def duration(started, finished) -> float | None:
        if started is None:
            return None
        return ((finished or now) - started).total_seconds()

    for round in rounds:
        print(f"\nround {round.number} ({round.status}), created {round.created_at:%Y-%m-%d %H:%M}")
        print(f"  {'stage':<10}{'status':<11}{'done/total':>13}{'duration':>16}")
        stage_sum = 0.0
        stages = list(round.stages.all())  # ordered by ``order``
        if not stages:
            print("  (no stages yet)")
        for stage in stages:
            seconds = duration(stage.started_at, stage.finished_at)
            stage_sum += seconds or 0.0
            running = " (so far)" if seconds is not None and stage.finished_at is None else ""
            print(
                f"  {stage.name:<10}{stage.status:<11}{f'{stage.done}/{stage.total}':>13}"
                f"{format_seconds(seconds):>16}{running}"
            )
        total = duration(round.started_at, round.finished_at)
        so_far = " (so far)" if total is not None and round.finished_at is None else ""
        print(
            f"  {'total':<21}{'':>13}{format_seconds(total):>16}{so_far}; sum of stages {format_seconds(stage_sum)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--parents", type=int, default=20)
    parser.add_argument("--relax", type=int, default=12)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    parser.add_argument(
        "--members",
        type=int,
        default=10,
        help="filter ensemble size (default 10, a round's default; 0 skips)",
    )
    parser.add_argument("--volumes", type=int, default=5, help="filter test-time volumes (default 5)")
    parser.add_argument(
        "--round-stages",
        type=int,
        nargs="?",
        const=-1,
        default=None,
        metavar="N",
        help="print the stage times of round N (alone: the latest 3 rounds) from the database, and nothing else",
    )
    args = parser.parse_args()
    if args.round_stages is not None:
        print_round_stages(None if args.round_stages < 0 else args.round_stages)
        return
    warnings.simplefilter("ignore")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows, subs = bench_generators(args.budget, args.parents)
    print(f"\n{'generator':<42}{'candidates':>11}{'seconds':>9}{'per s':>9}")
    for label, count, seconds, rate in rows:
        print(f"{label:<42}{count:>11}{seconds:>9.2f}{rate:>9.1f}")
    if args.members:
        bench_filter(subs, args.members, args.volumes)
    if args.relax:
        bench_chgnet(subs, args.relax, args.steps, args.threads)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
