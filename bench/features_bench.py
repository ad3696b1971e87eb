"""Benchmark of structure features: our dimensionality against pymatgen's, and all features of the demo catalogue.

    python bench/features_bench.py [--sample 80] [--max-sites 40] [--seed 25] [--workers 2] [--skip-all]

1. Per structure, on a sample of the demo catalogue (``mp_entries.json.gz`` in ``PORTAL_SHARED_DATA``, one
   structure per reduced formula drawn with a fixed seed, at most ``--max-sites`` sites because pymatgen takes
   minutes on the largest), in one run: our Cheon label (``hull.dimensionality.cheon_label``) and Larsen
   dimensionality on our CrystalNN bonds (``hull.crystal_nn``), against pymatgen's
   ``get_dimensionality_cheon(tolerance=0.45)`` and ``get_dimensionality_larsen(CrystalNN()
   .get_bonded_structure(...))``: median seconds of each, the median of the per-structure ratios, and the
   structures whose labels or bonds differ.
2. All features (dimensionality and prototype keys) of every entry of the demo catalogue: a fresh SQLite
   database in a temporary folder, the catalogue ingested (not timed), then ``features_compute`` over all
   entries with ``--workers`` forked processes, timed by the wall clock.

Times are wall-clock on a shared machine: the load average is printed at the start and end of each part.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("PORTAL_SHARED_DATA", ROOT.parent / "shared" / "data"))


def load() -> str:
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def sample(items: list[dict], count: int, max_sites: int, seed: int) -> list[tuple[str, dict]]:
    from pymatgen.core import Composition

    by_formula: dict[str, list[dict]] = {}
    for item in items:
        if len(item["structure"]["sites"]) <= max_sites:
            formula = Composition(item["composition"]).reduced_formula
            by_formula.setdefault(formula, []).append(item)
    rng = random.Random(seed)
    formulas = rng.sample(sorted(by_formula), min(count, len(by_formula)))
    picks = [rng.choice(by_formula[formula]) for formula in formulas]
    return [(pick["entry_id"], pick) for pick in picks]


def clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def spans(started, middle, ended) -> tuple[float, float, float, float]:
    """(wall, CPU) seconds of the first part, then (wall, CPU) of the second."""
    return middle[0] - started[0], middle[1] - started[1], ended[0] - middle[0], ended[1] - middle[1]


def ours(structure) -> tuple[dict, tuple]:
    from hull.crystal_nn import crystal_nn_bonds
    from hull.dimensionality import cheon_label, edge_set, larsen_dimensionality

    started = clocks()
    try:
        cheon = cheon_label(structure)
    except Exception as exc:
        cheon = repr(exc)
    middle = clocks()
    i, j, t = crystal_nn_bonds(structure)
    larsen = larsen_dimensionality(len(structure), i, j, t)
    ended = clocks()
    return {"cheon": cheon, "larsen": larsen, "bonds": edge_set(i, j, t)}, spans(started, middle, ended)


def pymatgens(structure) -> tuple[dict, tuple]:
    from pymatgen.analysis.dimensionality import get_dimensionality_cheon, get_dimensionality_larsen
    from pymatgen.analysis.local_env import CrystalNN

    started = clocks()
    try:
        cheon = get_dimensionality_cheon(structure, tolerance=0.45)
    except Exception as exc:
        cheon = repr(exc)
    middle = clocks()
    graph = CrystalNN().get_bonded_structure(structure)
    larsen = int(get_dimensionality_larsen(graph))
    ended = clocks()
    bonds = {(u, v, tuple(int(x) for x in d["to_jimage"])) for u, v, d in graph.graph.edges(data=True)}
    return {"cheon": cheon, "larsen": larsen, "bonds": bonds}, spans(started, middle, ended)


def compare(items: list[dict], count: int, max_sites: int, seed: int) -> None:
    from pymatgen.core import Structure

    chosen = sample(items, count, max_sites, seed)
    sizes = [len(item["structure"]["sites"]) for item in items]
    covered = sum(size <= max_sites for size in sizes) / len(sizes)
    print(
        f"catalogue: {len(sizes)} structures, median {statistics.median(sizes)} sites; {covered:.0%} have <= {max_sites}"
    )
    print(
        f"## Per structure: {len(chosen)} structures (one per formula, <= {max_sites} sites, seed {seed}); {load()}"
    )
    ours(Structure.from_dict(chosen[0][1]["structure"]))  # imports and caches outside the timings
    rows = []
    differences = {"cheon": [], "larsen": [], "bonds": []}
    for name, item in chosen:
        structure = Structure.from_dict(item["structure"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mine, our_times = ours(structure)
            reference, pmg_times = pymatgens(structure)
        rows.append((len(structure), our_times, pmg_times))
        for key in differences:
            if mine[key] != reference[key]:
                shown = "" if key == "bonds" else f": ours {mine[key]!r}, pymatgen {reference[key]!r}"
                differences[key].append(f"{name}{shown}")
    median = statistics.median
    print(f"sites: median {median(r[0] for r in rows)}, max {max(r[0] for r in rows)}")
    for clock, offset in (("wall-clock", 0), ("CPU", 1)):
        print(f"{clock} seconds per structure (median)  ours     pymatgen   ratio")
        parts = {
            "Cheon": lambda times, k=offset: times[k],
            "Larsen on CrystalNN bonds": lambda times, k=offset: times[2 + k],
            "both": lambda times, k=offset: times[k] + times[2 + k],
        }
        for label, part in parts.items():
            ours_m, pmg_m = median(part(r[1]) for r in rows), median(part(r[2]) for r in rows)
            print(f"  {label:<30} {ours_m:8.4f} {pmg_m:10.3f} {pmg_m / ours_m:8.0f}x")
        ratio = [parts["both"](r[2]) / parts["both"](r[1]) for r in rows]
        print(
            f"  median of per-structure ratios (both): {median(ratio):.0f}x (min {min(ratio):.0f}x, max {max(ratio):.0f}x)"
        )
        total_ours, total_pmg = sum(parts["both"](r[1]) for r in rows), sum(parts["both"](r[2]) for r in rows)
        print(f"  total: ours {total_ours:.1f} s, pymatgen {total_pmg:.1f} s ({total_pmg / total_ours:.0f}x)")
    for key, names in differences.items():
        print(f"{key} differs on {len(names)} of {len(rows)}" + (": " + "; ".join(names) if names else ""))
    print(load())


def cpu_seconds() -> float:
    """User and system CPU seconds of this process and of its finished children (the forked workers)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child(database_url: str, workers: int) -> None:
    """Runs in a subprocess: migrate a fresh database, ingest the demo catalogue, time all its features."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings.local"
    import django

    django.setup()
    from collections import Counter

    from django.core.management import call_command

    from hull.models import Entry, EntryFeatures
    from hull.services.features import features_compute
    from hull.services.ingest import ingest_file

    call_command("migrate", verbosity=0)
    ingest_file(path=SHARED / "mp_entries.json.gz", source="mp")
    ids = list(Entry.objects.filter(structure__isnull=False).values_list("id", flat=True))
    before = load()
    started, cpu_started = time.perf_counter(), cpu_seconds()
    report = features_compute(entry_ids=ids, workers=workers)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    rows = EntryFeatures.objects.values_list("dimensionality_cheon", "dimensionality_larsen")
    print(
        json.dumps(
            {
                "entries": len(ids),
                "seconds": seconds,
                "cpu": cpu,
                "workers": workers,
                "failed": len(report.failed),
                "prototypes": report.new_prototypes,
                "cheon": sorted(Counter(str(c) for c, _ in rows).items()),
                "larsen": sorted(Counter(str(la) for _, la in rows).items()),
                "load_before": before,
                "load_after": load(),
            }
        )
    )


def all_features(workers: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/features.sqlite3"
        out = subprocess.run(
            [sys.executable, __file__, "--child", url, str(workers)],
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"## All features of the demo catalogue ({result['entries']} entries, {workers} processes)")
    print(f"wall time: {result['seconds']:.1f} s ({result['seconds'] / 60:.2f} min)")
    print(
        f"CPU time of the process and its workers: {result['cpu']:.1f} s "
        f"({result['cpu'] / workers / 60:.2f} min per process: the wall time on {workers} idle cores)"
    )
    print(f"Cheon labels (None: intercalated or failed): {result['cheon']}")
    print(
        f"Larsen labels: {result['larsen']}; failed: {result['failed']}; prototypes: {result['prototypes']}"
    )
    print(f"before: {result['load_before']}; after: {result['load_after']}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=80)
    parser.add_argument("--max-sites", type=int, default=40)
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-all", action="store_true", help="only the per-structure comparison")
    parser.add_argument("--skip-compare", action="store_true", help="only all features of the catalogue")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, shared with other work; {load()}")
    with gzip.open(SHARED / "mp_entries.json.gz", "rt") as handle:
        items = json.load(handle)
    if not args.skip_compare:
        compare(items, args.sample, args.max_sites, args.seed)
    if not args.skip_all:
        all_features(args.workers)


if __name__ == "__main__":
    main()
