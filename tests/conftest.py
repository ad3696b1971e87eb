"""Fixtures shared by every area: the real data files beside the project, read in place."""

import gzip
import json
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get("PORTAL_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache. Test databases roll back, and SQLite then hands out the same ids
    again: another module's catalogue can have the same catalogue state as this one, and the reads kept under
    it (portal/response_cache.py) would be that catalogue's. A live catalogue never rolls back committed data."""
    from django.core.cache import cache

    cache.clear()
    yield


# The suite's strict mode (scripts/test.sh, so CI): data a test needs must be there, and a run in which any test
# skipped fails. Without it (a developer's clone lacking ../shared/data) such tests skip, saying why.
STRICT = os.environ.get("PORTAL_TESTS_STRICT", "") == "1"


def absent(reason: str) -> None:
    """Skip a test whose data is absent, or fail it in strict mode."""
    if STRICT:
        pytest.fail(f"{reason} (PORTAL_TESTS_STRICT=1: data the suite needs must be present)", pytrace=False)
    pytest.skip(reason)


def pytest_sessionfinish(session, exitstatus):
    """Strict mode: a skipped test fails the run, so that CI never reports green while testing less."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if STRICT and skipped and exitstatus == pytest.ExitCode.OK:
        reporter.write_line(f"PORTAL_TESTS_STRICT=1: {skipped} tests skipped; the run fails", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        absent(f"real data file {path} is absent (set PORTAL_SHARED_DATA to the folder that holds it)")
    return path


@pytest.fixture(scope="session")
def mp_entry_dicts() -> list[dict]:
    """The 3,176 Materials Project ComputedStructureEntry dicts of ../shared/data/mp_entries.json.gz."""
    with gzip.open(shared_file("mp_entries.json.gz"), "rt") as handle:
        return json.load(handle)


@pytest.fixture(scope="session")
def wbm_dicts() -> list[dict]:
    with gzip.open(shared_file("wbm_972.json.gz"), "rt") as handle:
        return json.load(handle)


def chemsys_of_dict(item: dict) -> str:
    return "-".join(sorted(item["composition"]))


def subset(items: list[dict], elements: set[str]) -> list[dict]:
    """Entries whose elements all lie in ``elements`` (a closed chemical space)."""
    return [item for item in items if set(item["composition"]) <= elements]


@pytest.fixture
def active_models(db):
    """Registry rows of an active structural and compositional model of the paper's 10 members (no weights):
    what the launch form asks for before it starts a round. Tests that run a round's filter train a real tiny model instead."""
    from discovery.models import TrainedModel

    return [
        TrainedModel.objects.create(
            name=f"registered-{kind}", kind=kind, n_models=10, checkpoint_path="/nonexistent", is_active=True
        )
        for kind in ("structural", "compositional")
    ]


def grant(user, permission: str) -> None:
    """Give ``user`` a permission ("app_label.codename"), as an administrator would."""
    from django.contrib.auth.models import Permission

    app_label, codename = permission.split(".")
    user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


from tests.catalogue_files import (  # noqa: E402,F401 - fixtures shared by every area
    cif_folder,
    extxyz_file,
    gnome_release,
    li_o_entries,
    li_o_file,
    poscar_folder,
    small_structures,
)
