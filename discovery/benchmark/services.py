"""Running a benchmark as a job: the report is stored when it starts, as it goes, and when it ends (or fails),
so the dashboard can show a running or failed job. The command and the Celery task both call
:func:`benchmark_execute`."""

import logging
import time
import traceback
from dataclasses import asdict, fields

from discovery.benchmark.runner import BenchmarkOptions, benchmark_run
from discovery.benchmark.store import benchmark_dir, benchmark_new_name, benchmark_save
from hull.errors import CatalogueError

logger = logging.getLogger(__name__)


def benchmark_options(data: dict) -> BenchmarkOptions:
    """Options from plain data (command flags, a task's arguments); unknown keys refused, the rest validated."""
    known = {f.name for f in fields(BenchmarkOptions)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CatalogueError(f"unknown benchmark option(s): {', '.join(unknown)}")
    options = BenchmarkOptions(**data)
    if not 1 <= options.rounds <= 50 or not 1 <= options.members <= 8 or not 1 <= options.epochs <= 500:
        raise CatalogueError("rounds 1-50, members 1-8, epochs 1-500")
    options.plan(options.elements or ["O"])  # the round settings' own validation
    return options


def benchmark_execute(*, options: BenchmarkOptions, name: str | None = None, command: str = "") -> dict:
    """Run the benchmark, storing its report under ``name``; returns the report (status ``succeeded``), or
    stores the error (status ``failed``) and raises it again."""
    name = name or benchmark_new_name(options.seed)
    head = {"status": "running", "command": command, "options": asdict(options), "started": time.time()}
    benchmark_save(name, {**head, "stage": "starting"})

    done: dict = {}  # the rounds finished so far, kept in every later save

    def progress(message: str, **partial) -> None:
        logger.info("benchmark %s: %s", name, message)
        done.update(partial)
        benchmark_save(name, {**head, **done, "stage": message})

    try:
        report = benchmark_run(options=options, directory=benchmark_dir() / name, progress=progress)
    except Exception as exc:
        benchmark_save(
            name,
            {
                **head,
                "status": "failed",
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc()[-4000:],
            },
        )
        raise
    report = {**head, **report, "status": "succeeded", "finished": time.time()}
    benchmark_save(name, report)
    return {"name": name, **report}


def benchmark_launch(*, options: dict, user) -> str:
    """Validate, store the job as queued and enqueue it once the transaction commits; returns its name."""
    from django.db import transaction

    from discovery.enqueue import benchmark_enqueue
    from discovery.permissions import benchmark_launch_allowed

    if not benchmark_launch_allowed(user):
        raise CatalogueError(
            "launching the benchmark needs staff status and the discovery.launch_round permission"
        )
    checked = asdict(benchmark_options(options))
    name = benchmark_new_name(checked["seed"])
    command = "dashboard job: " + " ".join(f"{k}={v}" for k, v in sorted(options.items()))
    benchmark_save(name, {"status": "queued", "command": command, "options": checked, "started": time.time()})
    transaction.on_commit(lambda: benchmark_enqueue(checked, name, command))
    return name
