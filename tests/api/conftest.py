"""Fixtures of the API tests: the real Li-Fe-O space of the shared MP file, loaded once per module (inside a
transaction rolled back at the module's end), throttles opened wide and the cache emptied between tests."""

import pytest
from django.core.cache import cache
from django.db import transaction

from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.conftest import subset

OPEN_RATES = {"anon": "100000/min", "user": "100000/min", "optimade": "100000/min"}


@pytest.fixture(autouse=True)
def _open_throttles_and_clear_cache(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": OPEN_RATES}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="module")
def lifeo_items(mp_entry_dicts) -> list[dict]:
    """The 417 real Li-Fe-O entries (every subsystem included)."""
    return subset(mp_entry_dicts, {"Li", "Fe", "O"})


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker, tmp_path_factory, lifeo_items):
    """Li-Fe-O ingested once for the module; each test runs in a savepoint inside it."""
    path = write_json(tmp_path_factory.mktemp("lifeo") / "lifeo.json", lifeo_items)
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            ingest_file(path=path)
            yield lifeo_items
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def ingest_items(tmp_path, items: list[dict], name: str = "items", **kwargs):
    return ingest_file(path=write_json(tmp_path / f"{name}.json", items), **kwargs)


def ingest_entries_without_values(tmp_path, lifeo_items: list[dict]) -> None:
    """Entries without a stability value in "dft": two ML results of Li2O (no row in that hull set) and a Li2S
    composition (no sulfur reference: rows with empty values in every hull set)."""
    li2o = next(item for item in lifeo_items if item["composition"] == {"Li": 2.0, "O": 1.0})
    ml = [
        dict(li2o, entry_id=f"ml-{i}", energy=li2o["energy"] + shift) for i, shift in enumerate((-0.3, 0.2))
    ]
    ingest_items(tmp_path, ml, name="ml", source="ml", method="CHGNet", method_family="ml")
    sulfide = {**li2o, "entry_id": "s-1", "composition": {"Li": 2.0, "S": 1.0}, "structure": None}
    sulfide["@class"], sulfide["@module"] = "ComputedEntry", "pymatgen.entries.computed_entries"
    ingest_items(tmp_path, [sulfide], name="s", source="sulfides")
