"""Throughput of the GNoME pipeline on whatever JAX sees (CPU here; GPU unchanged when present).

Prints: graph building (structures/s), single-model inference and training (structures/s), the
full filter (ensemble x volume augmentations, seconds per structure), padding waste (%) and
compilation counts. Uses real MP structures with at most ``--max-sites`` sites.

    .venv/bin/python bench/ml_bench.py [--n 512] [--max-sites 40] [--members 4] [--volumes 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import numpy as np  # noqa: E402

from ml_backend.configs import cpu_structural  # noqa: E402
from ml_backend.data import load_mp_entries  # noqa: E402
from ml_backend.ensemble import Augmentation, Ensemble  # noqa: E402
from ml_backend.graphs import build_graphs  # noqa: E402
from ml_backend.input_pipeline import PaddingStats, budget_ladder, iterate_batches  # noqa: E402
from ml_backend.models import normalisation_variables  # noqa: E402
from ml_backend.predict import Predictor  # noqa: E402
from ml_backend.train import init_trained_model, learning_rate_at, trainer_for  # noqa: E402


def timed(fn, repeat: int = 1):
    start = time.perf_counter()
    for _ in range(repeat):
        result = fn()
    return result, (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=512, help="structures to use")
    parser.add_argument("--max-sites", type=int, default=40)
    parser.add_argument("--members", type=int, default=4)
    parser.add_argument("--volumes", type=int, default=20)
    parser.add_argument("--filter-n", type=int, default=16, help="structures through the full filter")
    args = parser.parse_args()

    print(f"JAX {jax.__version__} devices: {jax.devices()}")
    config = cpu_structural.get_config()
    structures = [s.structure for s in load_mp_entries(max_sites=args.max_sites)][: args.n]
    n = len(structures)
    print(
        f"config {config.name}: latent {config.model.latent_size}, {config.model.num_message_passing_steps} steps, "
        f"cutoff {config.model.cutoff} A; {n} MP structures with <= {args.max_sites} sites"
    )

    graphs, seconds = timed(lambda: build_graphs(structures, cutoff=config.model.cutoff))
    n_edges = sum(int(g.n_edge[0]) for g in graphs)
    print(f"graph building: {n / seconds:,.0f} structures/s ({n_edges / n:.0f} edges per structure)")

    trained = init_trained_model(config, graphs)
    predictor = Predictor(trained)
    predictor.predict_graphs(graphs)  # compile
    compiles_after_warmup = predictor.trace_count
    _, seconds = timed(lambda: predictor.predict_graphs(graphs), repeat=3)
    print(f"inference (1 model, graphs prebuilt): {n / seconds:,.0f} structures/s")
    _, seconds = timed(lambda: predictor.predict(structures))
    print(f"inference (1 model, incl. graph building): {n / seconds:,.0f} structures/s")
    print(
        f"inference compilations: {compiles_after_warmup} after warm-up, {predictor.trace_count} after "
        f"{predictor.padding.batches} batches (ladder of {len(trained.ladder)} budgets)"
    )
    print(
        f"inference padding waste: nodes {predictor.padding.node_waste_percent:.1f}%, "
        f"edges {predictor.padding.edge_waste_percent:.1f}%"
    )

    trainer = trainer_for(config)
    ladder = [max(budget_ladder(graphs, config.train.batch_size))]
    targets = np.zeros(n, np.float32)
    state = trainer.init_state(jax.random.key(0), next(iterate_batches(graphs, ladder, targets)))
    stats = normalisation_variables(trained.normalisation)
    padding = PaddingStats()

    def epoch(state):
        for batch in iterate_batches(graphs, ladder, targets, rng=np.random.default_rng(0), stats=padding):
            state, metrics = trainer.train_step(
                state,
                stats,
                batch.graphs,
                batch.targets,
                batch.mask,
                np.float32(learning_rate_at(config.train, 0, 1)),
            )
        jax.block_until_ready(metrics["loss"])
        return state

    state = epoch(state)  # compile
    start = time.perf_counter()
    for _ in range(2):
        state = epoch(state)
    seconds = (time.perf_counter() - start) / 2
    print(
        f"training: {n / seconds:,.0f} structures/s (batch ~{config.train.batch_size}), "
        f"compilations {trainer.trace_counts['train']}, padding waste nodes {padding.node_waste_percent:.1f}%, "
        f"edges {padding.edge_waste_percent:.1f}%"
    )

    members = [trained] + [init_trained_model(config, graphs, seed=s) for s in range(1, args.members)]
    ensemble = Ensemble(members)
    subset = structures[: args.filter_n]
    augmentation = Augmentation(num_volumes=args.volumes)
    ensemble.predict_structures(subset[:2], augmentation)  # compile
    _, seconds = timed(lambda: ensemble.predict_structures(subset, augmentation))
    print(
        f"full filter ({args.members} models x {args.volumes} volumes, incl. graph building): "
        f"{1000 * seconds / len(subset):.1f} ms/structure ({len(subset) / seconds:.1f} structures/s); "
        f"compilations {ensemble.predictors[0].trace_count}"
    )


if __name__ == "__main__":
    main()
