"""The benchmark as a Celery job (launched from the dashboard): thin, it calls the service."""

from celery import shared_task

from discovery.benchmark.services import benchmark_execute, benchmark_options
from discovery.enqueue import BENCHMARK_RUN


@shared_task(name=BENCHMARK_RUN, acks_late=False)
def benchmark_run_task(options: dict, name: str, command: str = "") -> dict:
    report = benchmark_execute(options=benchmark_options(options), name=name, command=command)
    return {"name": report["name"], "status": report["status"], "seconds": report["seconds"]}
