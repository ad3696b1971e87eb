"""Quality bars of the GNoME models on real data (Merchant et al. 2023 composition-hash split).

Trains the structural and the compositional model with their CPU configs on ``mp_entries.json.gz``
(hash split: MD5(reduced formula) mod 100 < 85 -> train), and reports test MAE against the linear
per-element baseline, plus the out-of-distribution MAE on ``wbm_972.json.gz``.

    .venv/bin/python bench/ml_quality.py [--epochs N] [--comp-epochs N] [--out var/ml_quality]
        [--only structural|compositional] [--evaluate-only]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from ml_backend.baselines import LinearElementBaseline  # noqa: E402
from ml_backend.checkpoints import load_checkpoint  # noqa: E402
from ml_backend.configs import cpu_compositional, cpu_structural  # noqa: E402
from ml_backend.data import hash_split, load_mp_entries, load_wbm  # noqa: E402
from ml_backend.predict import Predictor  # noqa: E402
from ml_backend.train import graphs_for_samples, train_model  # noqa: E402


def log_progress(name: str):
    def callback(p):
        mae = f" eval_mae={p.eval_mae:.4f}" if p.eval_mae is not None else ""
        print(
            f"[{name}] epoch {p.epoch}/{p.num_epochs} loss={p.train_loss:.4f}{mae} t={p.seconds:.0f}s",
            flush=True,
        )

    return callback


def mae(pred: np.ndarray, samples) -> float:
    return float(np.mean(np.abs(pred - np.array([s.target for s in samples]))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=None, help="structural epochs (config default)")
    parser.add_argument("--comp-epochs", type=int, default=None)
    parser.add_argument("--out", default="var/ml_quality")
    parser.add_argument("--only", choices=["structural", "compositional"], default=None)
    parser.add_argument(
        "--evaluate-only", action="store_true", help="evaluate the checkpoints in --out without training"
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    samples = load_mp_entries()
    train, test = hash_split(samples)
    wbm = load_wbm()
    train_elements = {el.symbol for s in train for el in s.structure.composition.elements}
    wbm_in_domain = [
        s for s in wbm if {el.symbol for el in s.structure.composition.elements} <= train_elements
    ]
    print(f"split: {len(train)} train / {len(test)} test; wbm {len(wbm)} ({len(wbm_in_domain)} in-domain)")

    baseline = LinearElementBaseline().fit(train)
    results: dict[str, float | int | str] = {
        "n_train": len(train),
        "n_test": len(test),
        "baseline_test_mae": baseline.mae(test),
        "baseline_wbm_mae": baseline.mae(wbm),
        "baseline_wbm_in_domain_mae": baseline.mae(wbm_in_domain) if wbm_in_domain else float("nan"),
    }
    print(f"linear per-element baseline: test MAE {results['baseline_test_mae']:.4f} eV/atom", flush=True)

    runs = [
        ("structural", cpu_structural.get_config(), args.epochs),
        ("compositional", cpu_compositional.get_config(), args.comp_epochs),
    ]
    results_path = out / ("results.json" if args.only is None else f"results_{args.only}.json")
    for name, config, epochs in runs:
        if args.only is not None and name != args.only:
            continue
        if epochs is not None:
            config = config.with_train(num_epochs=epochs)
        start = time.perf_counter()
        if args.evaluate_only:
            trained = load_checkpoint(out / f"{name}.msgpack")
            config = trained.config
        else:
            trained = train_model(
                config, train, test, progress=log_progress(name), checkpoint_path=out / f"{name}.msgpack"
            )
        seconds = time.perf_counter() - start
        predictor = Predictor(trained)
        test_mae = mae(predictor.predict_graphs(graphs_for_samples(config, test)), test)
        wbm_pred = predictor.predict_graphs(graphs_for_samples(config, wbm))
        results[f"{name}_config"] = config.name
        results[f"{name}_epochs"] = trained.epoch
        results[f"{name}_train_seconds"] = seconds
        results[f"{name}_test_mae"] = test_mae
        results[f"{name}_wbm_mae"] = mae(wbm_pred, wbm)
        in_domain = np.array([s.key in {t.key for t in wbm_in_domain} for s in wbm])
        if in_domain.any():
            results[f"{name}_wbm_in_domain_mae"] = mae(wbm_pred[in_domain], wbm_in_domain)
        print(
            f"{name}: test MAE {test_mae:.4f} eV/atom (baseline {results['baseline_test_mae']:.4f}, "
            f"ratio {test_mae / results['baseline_test_mae']:.3f}); wbm MAE {results[f'{name}_wbm_mae']:.4f}; "
            f"train {seconds:.0f}s",
            flush=True,
        )
        results_path.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
