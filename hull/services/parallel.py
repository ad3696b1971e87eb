"""When large batch work may fork worker processes, and how many."""

import multiprocessing
import sys
import threading

from django.conf import settings


def in_daemon_process() -> bool:
    """True inside daemonic processes (multiprocessing's, or billiard's: Celery's prefork pool children),
    which may not fork workers of their own."""
    if multiprocessing.current_process().daemon:
        return True
    try:
        import billiard.process
    except ImportError:  # Celery is a requirement; without it there are no billiard children either
        return False
    return bool(billiard.process.current_process().daemon)


def threads_in_process() -> bool:
    """True where forking is unsafe: other Python threads run, or JAX or torch (native thread pools) are loaded,
    as in a discovery round run in-process."""
    return threading.active_count() > 1 or any(name in sys.modules for name in ("jax", "torch"))


def workers_for(n_items: int, threshold: int, *, setting: str = "PORTAL_HULL_WORKERS") -> int:
    """The processes that the ``setting`` asks for (``PORTAL_HULL_WORKERS`` or ``PORTAL_INGEST_WORKERS``), for
    ``threshold`` items or more, in a process that may fork; else 1."""
    if n_items < threshold or in_daemon_process() or threads_in_process():
        return 1
    return max(1, getattr(settings, setting))
