"""Benchmark of the hull engine against pymatgen on synthetic catalogues.

    python bench/hull_bench.py [--sizes 10000 100000 1000000] [--no-pymatgen-above 100000]

Catalogues: about 80 elements, each with 1 to 4 unary entries (the reference and polymorphs
up to 0.3 eV/atom above it); compounds of 2 to 6 elements drawn from "families" (chemical
spaces of 3 to 6 elements, one family per ~50 entries, elements drawn with realistic
popularity such as O, Li, Fe, ... first), small integer ratios, and formation energies
drawn like real ones (normal around -1 eV/atom with standard deviation 0.9, truncated to
[-3.5, 0.8] by drawing again outside it). ``--clipped`` clips instead, as the benchmark did
until 2026-12: about 0.3% of compounds then sit at exactly -3.5 eV/atom, and these ties,
stable and passed up to every superset, make many 4- to 6-element hulls exactly coplanar
(qhull's slow path); real catalogues have no such ties, so it is a stress case.

Baselines, timed in the same run: pymatgen ``PhaseDiagram`` once per chemical system (over
the entries of its subsystems), and once per maximal chemical system only (the cheapest
correct use of pymatgen), with ``get_decomp_and_e_above_hull`` for every entry.
The engine's time includes formation energies, decompositions and GNoME decomposition
energies. Times are wall-clock and process CPU time (the machine may be shared; CPU time
is the fairer comparison then; incremental updates report CPU time). Memory: peak
resident set size (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) of the process, printed
after generating the catalogue and after the build.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hull.engine import PhaseEntry, chemsys_of, compute_hulls, is_subsystem, subsystems, update_hulls  # noqa: E402

# roughly ordered by how often elements occur in inorganic crystal databases
ELEMENTS = (
    "O",
    "Li",
    "Fe",
    "Mn",
    "Co",
    "Ni",
    "Na",
    "K",
    "Mg",
    "Ca",
    "Al",
    "Si",
    "P",
    "S",
    "Cl",
    "F",
    "Cu",
    "Zn",
    "Ti",
    "V",
    "Cr",
    "Sr",
    "Ba",
    "Y",
    "La",
    "Zr",
    "Nb",
    "Mo",
    "W",
    "Sn",
    "Sb",
    "Bi",
    "Pb",
    "Ga",
    "Ge",
    "In",
    "Se",
    "Te",
    "Br",
    "I",
    "N",
    "C",
    "B",
    "H",
    "Ag",
    "Au",
    "Pt",
    "Pd",
    "Rh",
    "Ru",
    "Ir",
    "Os",
    "Re",
    "Ta",
    "Hf",
    "Sc",
    "Ce",
    "Pr",
    "Nd",
    "Sm",
    "Eu",
    "Gd",
    "Tb",
    "Dy",
    "Ho",
    "Er",
    "Tm",
    "Yb",
    "Lu",
    "Cs",
    "Rb",
    "Be",
    "Cd",
    "Hg",
    "Tl",
    "As",
    "Th",
    "U",
    "Np",
    "Pu",
)


def popularity(n: int) -> np.ndarray:
    weights = 1.0 / (np.arange(n) + 3.0)
    return weights / weights.sum()


CLIPPED = False
"""Formation energies clipped (not truncated) to [-3.5, 0.8]: the ``--clipped`` stress case."""


def formation_draws(rng: np.random.Generator, size: int) -> np.ndarray:
    """Formation energies (eV/atom) like real ones: normal(-1, 0.9) truncated (or clipped) to [-3.5, 0.8]."""
    values = rng.normal(-1.0, 0.9, size=size)
    if CLIPPED:
        return np.clip(values, -3.5, 0.8)
    outside = (values < -3.5) | (values > 0.8)
    while outside.any():
        values[outside] = rng.normal(-1.0, 0.9, size=int(outside.sum()))
        outside = (values < -3.5) | (values > 0.8)
    return values


def synthetic_catalogue(
    n_entries: int, seed: int = 0, *, first_key: int = 0, refs: dict[str, float] | None = None
) -> list[PhaseEntry]:
    """Realistic-looking random catalogue with elemental references for every element.

    ``refs``: the elemental reference energies to use (default: drawn, uniform in [-9, -1]
    eV/atom), so that a second catalogue can share a first one's energy scale.
    """
    rng = np.random.default_rng(seed)
    drawn = {el: -rng.uniform(1.0, 9.0) for el in ELEMENTS}
    refs = drawn if refs is None else refs
    entries: list[PhaseEntry] = []
    key = first_key
    for el in ELEMENTS:
        for polymorph in range(rng.integers(1, 5)):
            offset = 0.0 if polymorph == 0 else rng.uniform(0.0, 0.3)
            entries.append(PhaseEntry(key, {el: 1.0}, refs[el] + offset))
            key += 1
    weights = popularity(len(ELEMENTS))
    families = [
        tuple(rng.choice(len(ELEMENTS), size=size, replace=False, p=weights))
        for size in rng.choice([3, 4, 5, 6], size=max(n_entries // 50, 1), p=[0.35, 0.35, 0.2, 0.1])
    ]
    n_compounds = n_entries - len(entries)
    family_of = rng.integers(0, len(families), size=n_compounds)
    formation = formation_draws(rng, n_compounds)
    for i in range(n_compounds):
        family = families[family_of[i]]
        size = int(rng.integers(2, len(family) + 1))
        members = rng.choice(family, size=size, replace=False)
        amounts = rng.integers(1, 7, size=size)
        total = amounts.sum()
        composition = {ELEMENTS[m]: float(a) for m, a in zip(members, amounts, strict=True)}
        reference = sum(refs[ELEMENTS[m]] * a for m, a in zip(members, amounts, strict=True)) / total
        entries.append(PhaseEntry(key, composition, float(reference + formation[i])))
        key += 1
    return entries


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pymatgen_baseline(entries: list[PhaseEntry], *, per: str) -> tuple[float, dict[int, float]]:
    """Seconds for pymatgen PhaseDiagrams plus ``get_decomp_and_e_above_hull`` of every entry.

    ``per="system"``: one PhaseDiagram per chemical system with entries, over the entries of
    all its subsystems (the straightforward per-system recomputation). ``per="maximal"``:
    one per maximal chemical system only, each entry evaluated in one of them (the cheapest
    correct use of pymatgen).
    """
    from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
    from pymatgen.core import Composition

    start = time.perf_counter()
    by_system: dict[str, list[PhaseEntry]] = defaultdict(list)
    for entry in entries:
        by_system[chemsys_of(entry.composition)].append(entry)
    if per == "system":
        tops = {cs: [cs] for cs in by_system}
    else:
        tops = defaultdict(list)
        maximal: list[str] = []
        for cs in sorted(by_system, key=lambda c: -c.count("-")):
            home = next((m for m in maximal if is_subsystem(cs, m)), None)
            if home is None:
                maximal.append(cs)
                home = cs
            tops[home].append(cs)
    e_above: dict[int, float] = {}
    for top, evaluated in tops.items():
        members = [e for sub in subsystems(top) for e in by_system.get(sub, ())]
        pd_entries = {
            e.key: PDEntry(Composition(e.composition), e.energy_per_atom * sum(e.composition.values()))
            for e in members
        }
        diagram = PhaseDiagram(list(pd_entries.values()))
        for cs in evaluated:
            for entry in by_system[cs]:
                e_above[entry.key] = diagram.get_decomp_and_e_above_hull(
                    pd_entries[entry.key], check_stable=False
                )[1]
    return time.perf_counter() - start, e_above


def run_size(n_entries: int, *, with_pymatgen: bool, repeats: int, workers: int) -> None:
    entries = synthetic_catalogue(n_entries)
    n_systems = len({frozenset(e.composition) for e in entries})
    print(f"\n== {len(entries):,} entries, {n_systems:,} chemical systems (peak RSS {peak_rss_mb():,.0f} MB)")
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = compute_hulls(entries)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    build, build_cpu = statistics.median(times), statistics.median(cpu_times)
    stable = sum(bool(t.is_stable) for t in result.thermo.values())
    print(
        f"engine full build (1 process): median wall {build:.2f} s {[round(t, 2) for t in times]}, "
        f"median CPU {build_cpu:.2f} s over {repeats} run(s); {stable:,} stable; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"peak RSS after build: {peak_rss_mb():,.0f} MB (ru_maxrss, whole process)")
    if workers > 1:
        start = time.perf_counter()
        parallel = compute_hulls(entries, workers=workers)
        print(
            f"engine full build with {workers} worker processes: {time.perf_counter() - start:.2f} s; "
            f"identical: {parallel == result}",
            flush=True,
        )
        del parallel
    if with_pymatgen:
        for per in ("system", "maximal"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cpu_start = time.process_time()
                baseline, e_above = pymatgen_baseline(entries, per=per)
                baseline_cpu = time.process_time() - cpu_start
            diff = max(abs(result.thermo[k].e_above_hull - v) for k, v in e_above.items())
            print(
                f"pymatgen, one PhaseDiagram per {per} chemical system: wall {baseline:.2f} s, CPU {baseline_cpu:.2f} s; "
                f"engine speed-up {baseline / build:.1f}x wall, {baseline_cpu / build_cpu:.1f}x CPU; "
                f"max |d e_above_hull| {diff:.2e} eV/atom",
                flush=True,
            )
    if n_entries == 100_000:
        incremental(entries, result)


def candidates_in_known_systems(entries: list[PhaseEntry], count: int, seed: int) -> list[PhaseEntry]:
    """New entries at existing compositions with fresh formation energies (discovery in known systems)."""
    rng = np.random.default_rng(seed)
    refs = elemental_references(entries)
    compounds = [e for e in entries if len(e.composition) > 1]
    new = []
    for i, pick in enumerate(rng.choice(len(compounds), size=count, replace=False)):
        composition = compounds[pick].composition
        total = sum(composition.values())
        reference = sum(refs[el] * a for el, a in composition.items()) / total
        formation = float(formation_draws(rng, 1)[0])
        new.append(PhaseEntry(10**9 + i, composition, reference + formation))
    return new


def elemental_references(entries: list[PhaseEntry]) -> dict[str, float]:
    refs: dict[str, float] = {}
    for entry in entries:
        if len(entry.composition) == 1:
            (element,) = entry.composition
            refs[element] = min(refs.get(element, np.inf), entry.energy_per_atom)
    return refs


def candidates_in_new_systems(
    entries: list[PhaseEntry], count: int, seed: int, *, same_scale: bool = True
) -> list[PhaseEntry]:
    """The compounds of a fresh random catalogue (new families, many new chemical systems).

    ``same_scale``: their energies are drawn against the catalogue's own elemental references,
    as a discovery round's results are. Without it they keep the fresh catalogue's own
    references, so their formation energies against ours are off by several eV/atom and most
    of them land far below the hull (a stress case: most hulls they touch change).
    """
    batch = synthetic_catalogue(
        count + 300, seed=seed, refs=elemental_references(entries) if same_scale else None
    )
    return [PhaseEntry(10**9 + i, e.composition, e.energy_per_atom) for i, e in enumerate(batch[-count:])]


def incremental(entries: list[PhaseEntry], state) -> None:
    """Median CPU time to add 1,000 new entries to the catalogue (5 different batches per scenario;
    garbage of the previous batch is collected before each, the collector's work inside counts)."""
    by_key = {e.key: e for e in entries}
    scenarios = {
        "at existing compositions": lambda seed: candidates_in_known_systems(entries, 1_000, seed),
        "in new random families": lambda seed: candidates_in_new_systems(entries, 1_000, seed),
        "off-scale energies (stress)": lambda seed: candidates_in_new_systems(
            entries, 1_000, seed, same_scale=False
        ),
    }
    for name, make in scenarios.items():
        times = []
        for batch_seed in range(5):
            new = make(100 + batch_seed)
            gc.collect()
            start = time.process_time()
            updated = update_hulls(state, by_key, new)
            times.append(time.process_time() - start)
        full = compute_hulls([*entries, *new])
        print(
            f"incremental update of 1,000 entries {name} into {len(entries):,}: median CPU "
            f"{statistics.median(times):.3f} s {[round(t, 3) for t in times]}; equals full rebuild: {updated == full}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--no-pymatgen-above", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3, help="engine builds per size (1M: always 1)")
    parser.add_argument("--workers", type=int, default=2, help="also time compute_hulls(workers=N) if N > 1")
    parser.add_argument(
        "--clipped",
        action="store_true",
        help="clip formation energies to [-3.5, 0.8] (stress case, see above)",
    )
    args = parser.parse_args()
    global CLIPPED
    CLIPPED = args.clipped
    for size in args.sizes:
        run_size(
            size,
            with_pymatgen=size <= args.no_pymatgen_above,
            repeats=1 if size >= 1_000_000 else args.repeats,
            workers=args.workers,
        )


if __name__ == "__main__":
    main()
