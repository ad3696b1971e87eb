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


def ours(structure) -> tuple[dict, float, float]:
    from hull.crystal_nn import crystal_nn_bonds
    from hull.dimensionality import cheon_label, edge_set, larsen_dimensionality

    started = time.perf_counter()
    try:
        cheon = cheon_label(structure)
    except Exception as exc:
        cheon = repr(exc)
    middle = time.perf_counter()
    i, j, t = crystal_nn_bonds(structure)
    larsen = larsen_dimensionality(len(structure), i, j, t)
    ended = time.perf_counter()
    return {"cheon": cheon, "larsen": larsen, "bonds": edge_set(i, j, t)}, middle - started, ended - middle


def pymatgens(structure) -> tuple[dict, float, float]:
    from pymatgen.analysis.dimensionality import get_dimensionality_cheon, get_dimensionality_larsen
    from pymatgen.analysis.local_env import CrystalNN

    started = time.perf_counter()
    try:
        cheon = get_dimensionality_cheon(structure, tolerance=0.45)
    except Exception as exc:
        cheon = repr(exc)
    middle = time.perf_counter()
    graph = CrystalNN().get_bonded_structure(structure)
    larsen = int(get_dimensionality_larsen(graph))
    ended = time.perf_counter()
    bonds = {(u, v, tuple(int(x) for x in d["to_jimage"])) for u, v, d in graph.graph.edges(data=True)}
    return {"cheon": cheon, "larsen": larsen, "bonds": bonds}, middle - started, ended - middle


def compare(items: list[dict], count: int, max_sites: int, seed: int) -> None:
    from pymatgen.core import Structure

    chosen = sample(items, count, max_sites, seed)
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
            mine, our_cheon, our_larsen = ours(structure)
            reference, pmg_cheon, pmg_larsen = pymatgens(structure)
        rows.append((len(structure), our_cheon, our_larsen, pmg_cheon, pmg_larsen))
        for key in differences:
            if mine[key] != reference[key]:
                shown = "" if key == "bonds" else f": ours {mine[key]!r}, pymatgen {reference[key]!r}"
                differences[key].append(f"{name}{shown}")
    ratio = [(r[3] + r[4]) / (r[1] + r[2]) for r in rows]
    median = statistics.median
    print(f"sites: median {median(r[0] for r in rows)}, max {max(r[0] for r in rows)}")
    print("seconds per structure (median)    ours     pymatgen   ratio of medians")
    for label, a, b in (("Cheon", 1, 3), ("Larsen + CrystalNN", 2, 4)):
        ours_m, pmg_m = median(r[a] for r in rows), median(r[b] for r in rows)
        print(f"  {label:<30} {ours_m:8.4f} {pmg_m:10.3f} {pmg_m / ours_m:8.0f}x")
    ours_t, pmg_t = median(r[1] + r[2] for r in rows), median(r[3] + r[4] for r in rows)
    print(f"  {'both':<30} {ours_t:8.4f} {pmg_t:10.3f} {pmg_t / ours_t:8.0f}x")
    print(
        f"median of per-structure ratios: {median(ratio):.0f}x (min {min(ratio):.0f}x, max {max(ratio):.0f}x)"
    )
    print(
        f"total: ours {sum(r[1] + r[2] for r in rows):.1f} s, pymatgen {sum(r[3] + r[4] for r in rows):.1f} s"
    )
    for key, names in differences.items():
        print(f"{key} differs on {len(names)} of {len(rows)}" + (": " + "; ".join(names) if names else ""))
    print(load())


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
    started = time.perf_counter()
    report = features_compute(entry_ids=ids, workers=workers)
    seconds = time.perf_counter() - started
    rows = EntryFeatures.objects.values_list("dimensionality_cheon", "dimensionality_larsen")
    print(
        json.dumps(
            {
                "entries": len(ids),
                "seconds": seconds,
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
