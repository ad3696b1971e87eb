"""Benchmark of the discovery generators and of CHGNet relaxations on this machine's CPU.

    python bench/discovery_bench.py [--budget 200] [--parents 20] [--relax 12] [--steps 300] [--threads 1]

Generators, on real parents from ``$PORTAL_SHARED_DATA/mp_entries.json.gz`` (default ``../shared/data``):
the first ``--parents`` entries by MP id (at most 12 sites) of the Li-Mn-Co-Ni-O space, with the catalogue's
reduced formulas as the known set. Each generator runs until ``--budget`` unique candidates (or its
proposals run out); the time includes deduplication. The one-off set-up (pymatgen's substitution
probability model, about 5 s) is timed apart. Compositions: enumeration of the Li-Mn-Fe-P-O space up to
12 atoms per formula; AIRSS: random structures of a few of those compositions.

CHGNet: relaxations (FIRE, fmax 0.1 eV/Å, at most ``--steps`` steps, cell relaxed) of ``--relax``
substitution candidates spread over the candidate list, which start away from their minimum as a round's candidates do; relaxations per
minute and seconds per relaxation, with the mean number of steps. The model load is timed apart.

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--parents", type=int, default=20)
    parser.add_argument("--relax", type=int, default=12)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows, subs = bench_generators(args.budget, args.parents)
    print(f"\n{'generator':<42}{'candidates':>11}{'seconds':>9}{'per s':>9}")
    for label, count, seconds, rate in rows:
        print(f"{label:<42}{count:>11}{seconds:>9.2f}{rate:>9.1f}")
    if args.relax:
        bench_chgnet(subs, args.relax, args.steps, args.threads)
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
