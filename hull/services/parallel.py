"""When large batch work may fork worker processes, and how many."""

import multiprocessing
import sys
import threading
from collections.abc import Callable, Sequence

from django.conf import settings

from hull.gc_pause import gc_paused


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
    """True where forking is unsafe: other Python threads run, torch (native thread pools) is loaded, or JAX has
    started its runtime, as in a discovery round run in-process. Importing JAX starts no thread: every Django
    process imports it (the admin loads the discovery services), and its forks are safe until a backend starts
    (JAX's own fork warning waits for the same sign)."""
    if threading.active_count() > 1 or "torch" in sys.modules:
        return True
    bridge = sys.modules.get("jax._src.xla_bridge")
    if bridge is None:
        return "jax" in sys.modules  # a JAX whose runtime cannot be asked: counted as started
    return getattr(bridge, "backends_are_initialized", lambda: True)()


def workers_for(n_items: int, threshold: int, *, setting: str = "PORTAL_HULL_WORKERS") -> int:
    """The processes that the ``setting`` asks for (``PORTAL_HULL_WORKERS`` or ``PORTAL_INGEST_WORKERS``), for
    ``threshold`` items or more, in a process that may fork; else 1."""
    if n_items < threshold or in_daemon_process() or threads_in_process():
        return 1
    return max(1, getattr(settings, setting))


def forked_map(function: Callable, items: Sequence, workers: int) -> list:
    """``function(item)`` of every item, in order: in the calling process for one worker, else in spans run by
    ``workers`` forked processes that inherit the function and the items (nothing is pickled but the results).
    Callers decide ``workers`` with ``workers_for``."""
    if workers <= 1 or len(items) < 2:
        return [function(item) for item in items]
    _SHARED.update(function=function, items=items)
    size = -(-len(items) // (4 * workers))
    spans = [(start, min(start + size, len(items))) for start in range(0, len(items), size)]
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            return [result for part in pool.map(_run_span, spans, chunksize=1) for result in part]
    finally:
        _SHARED.clear()


_SHARED: dict = {}
"""The function and items the forked workers of ``forked_map`` inherit (set just before the fork)."""


def _run_span(span: tuple[int, int]) -> list:
    function, items = _SHARED["function"], _SHARED["items"]
    with gc_paused():
        return [function(item) for item in items[span[0] : span[1]]]
