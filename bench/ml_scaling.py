"""Data-scaling experiment on ``mp_entries.json.gz`` (hash split): test MAE versus training size,
with a power-law fit (Merchant et al. 2023, Fig. 1e). Writes JSON and an HTML plotly figure.

    .venv/bin/python bench/ml_scaling.py [--kind compositional] [--epochs 60] [--out var/ml_scaling]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ml_backend.configs import cpu_compositional, cpu_structural  # noqa: E402
from ml_backend.data import load_mp_entries, training_split  # noqa: E402
from ml_backend.scaling import run_scaling_experiment, scaling_figure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["structural", "compositional"], default="compositional")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--fractions", default="0.0625,0.125,0.25,0.5,1.0")
    parser.add_argument("--out", default="var/ml_scaling")
    args = parser.parse_args()

    config = (cpu_structural if args.kind == "structural" else cpu_compositional).get_config()
    config = config.with_train(num_epochs=args.epochs)
    train, test = training_split(load_mp_entries(), args.kind)
    fractions = tuple(float(f) for f in args.fractions.split(","))
    result = run_scaling_experiment(
        config,
        train,
        test,
        fractions,
        progress=lambda n, mae: print(f"N={n}: test MAE {mae:.4f} eV/atom", flush=True),
    )
    print(f"power-law fit: {result.fit}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"scaling_{args.kind}.json").write_text(json.dumps(result.to_dict(), indent=2))
    scaling_figure(result).write_html(out / f"scaling_{args.kind}.html")
    print(f"wrote {out}/scaling_{args.kind}.json and .html")


if __name__ == "__main__":
    main()
