"""Benchmark reports on disk: one JSON file per run under ``PORTAL_VAR_DIR/benchmarks`` (the model the run
trained sits beside it). A run writes its file when it starts (status ``running``) and again when it ends."""

import json
import re
import time
from pathlib import Path

from django.conf import settings

NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def benchmark_dir() -> Path:
    return Path(settings.VAR_DIR) / "benchmarks"


def benchmark_new_name(seed: int) -> str:
    return f"benchmark-{time.strftime('%Y%m%d-%H%M%S')}-seed{seed}"


def benchmark_save(name: str, report: dict) -> Path:
    if not NAME.match(name):
        raise ValueError(f"bad benchmark name {name!r}")
    path = benchmark_dir() / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps({"name": name, **report}, indent=1))
    scratch.replace(path)
    return path


def benchmark_latest() -> dict | None:
    """The most recent report (finished or running), or None."""
    paths = sorted(benchmark_dir().glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in paths:
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return None
