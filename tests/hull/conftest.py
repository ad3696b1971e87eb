"""Fixtures shared by the catalogue's tests."""

import multiprocessing

import pytest


@pytest.fixture
def pool_sizes(monkeypatch) -> list[int]:
    """The sizes of the process pools ``hull.services.parallel`` forks while the test runs (real forks), so a
    test can tell that work went to several processes."""
    from hull.services import parallel

    sizes: list[int] = []
    fork_context = multiprocessing.get_context("fork")

    class CountingContext:
        def Pool(self, processes):  # noqa: N802 (multiprocessing's name)
            sizes.append(processes)
            return fork_context.Pool(processes)

    monkeypatch.setattr(parallel.multiprocessing, "get_context", lambda method: CountingContext())
    return sizes
