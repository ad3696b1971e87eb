"""What the paper's test-time augmentation costs the filter: seconds to predict one round's candidates with the
demo ensemble (cpu_demo, 2 members) and the paper's (10 members), at 5 and at the paper's 20 volumes.

Candidates are real MP structures (at most ``--max-sites`` sites), ``--n`` of them (the README's demo round
generates 14-20); weights are random (prediction time does not depend on them). Each setting is timed
``--repeat`` times, the settings interleaved so that a loaded machine weighs on all alike; medians are printed.

    .venv/bin/python bench/filter_volumes_bench.py [--n 20] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml_backend.configs import cpu_demo  # noqa: E402
from ml_backend.data import load_mp_entries  # noqa: E402
from ml_backend.ensemble import PAPER_MEMBERS, PAPER_VOLUMES, Augmentation, Ensemble  # noqa: E402
from ml_backend.graphs import build_graphs  # noqa: E402
from ml_backend.train import init_trained_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20, help="candidates in the round")
    parser.add_argument("--max-sites", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    config = cpu_demo.get_config()
    structures = [s.structure for s in load_mp_entries(max_sites=args.max_sites)][: args.n]
    graphs = build_graphs(structures, cutoff=config.model.cutoff)
    members = [init_trained_model(config, graphs, seed=s) for s in range(PAPER_MEMBERS)]
    settings = [(m, v) for m in (2, PAPER_MEMBERS) for v in (5, PAPER_VOLUMES)]
    ensembles = {m: Ensemble(members[:m]) for m in (2, PAPER_MEMBERS)}
    for m, v in settings:  # compile every padding budget once
        ensembles[m].predict_structures(structures, Augmentation(num_volumes=v))
    times: dict[tuple[int, int], list[float]] = {s: [] for s in settings}
    for _ in range(args.repeat):
        for m, v in settings:
            start = time.perf_counter()
            ensembles[m].predict_structures(structures, Augmentation(num_volumes=v))
            times[(m, v)].append(time.perf_counter() - start)
    print(f"{len(structures)} candidates, {config.name}, median of {args.repeat}")
    base = statistics.median(times[(2, 5)])
    for m, v in settings:
        seconds = statistics.median(times[(m, v)])
        print(f"{m:2d} members x {v:2d} volumes: {seconds:6.2f} s ({seconds / base:4.1f}x 2 x 5)")


if __name__ == "__main__":
    main()
