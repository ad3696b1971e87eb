"""Catalogues for the page tests, ingested from the real Materials Project entries of the shared data."""

import datetime as dt
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.utils import timezone

from discovery.models import Round
from hull.models import (
    ChemicalSystem,
    ChemicalSystemElement,
    Entry,
    EntryFeatures,
    HullRecord,
    IngestBatch,
    Stability,
)
from hull.services.features import features_compute
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.conftest import subset
from tests.headless_chromium import chromium_driver, chromium_installed
from tests.portal.pages.browsing import ARTIFACTS

LI_FE_P_O = {"Li", "Fe", "P", "O"}


def _wipe() -> None:
    """Remove what a module-scoped catalogue wrote (children first)."""
    Round.objects.all().delete()
    EntryFeatures.objects.all().delete()
    Stability.objects.all().delete()
    HullRecord.objects.all().delete()
    Entry.objects.all().delete()
    ChemicalSystemElement.objects.all().delete()
    ChemicalSystem.objects.all().delete()
    IngestBatch.objects.all().delete()


@contextmanager
def _module_catalogue(django_db_blocker, items: list[dict], folder):
    """Ingest once for a whole test module, outside the per-test transactions; each test's own writes are
    still rolled back. The rows are removed when the module is done."""
    with django_db_blocker.unblock():
        _wipe()
        try:
            yield ingest_file(path=write_json(folder / "catalogue.json.gz", items))
        finally:
            _wipe()


@pytest.fixture(scope="module")
def li_o_module(django_db_setup, django_db_blocker, tmp_path_factory, mp_entry_dicts):
    with _module_catalogue(
        django_db_blocker, subset(mp_entry_dicts, {"Li", "O"}), tmp_path_factory.mktemp("li_o")
    ) as report:
        yield report


@pytest.fixture(scope="module")
def quaternary_module(django_db_setup, django_db_blocker, tmp_path_factory, mp_entry_dicts):
    """Li-Fe-P-O and every subsystem (several hundred entries), for 2-, 3- and 4-element diagrams."""
    with _module_catalogue(
        django_db_blocker, subset(mp_entry_dicts, LI_FE_P_O), tmp_path_factory.mktemp("lifepo")
    ) as report:
        yield report


@pytest.fixture
def catalogue(li_o_module, db):
    """The real Li-O space (57 entries), ingested once per module."""
    return li_o_module


@pytest.fixture
def quaternary(quaternary_module, db):
    return quaternary_module


@pytest.fixture
def with_prototypes(catalogue):
    """Prototype keys of the Li-O entries (dimensionality skipped: it is slow and tested on its own)."""
    features_compute(entry_ids=Entry.objects.values_list("id", flat=True), dimensionality=False)


@pytest.fixture
def discovery_round(tmp_path, mp_entry_dicts, catalogue):
    """A finished round 1 (the Li-O catalogue stood as it was), then a second batch (Li-Co-O) added by
    round 2 after it."""
    Entry.objects.update(created_at=timezone.now() - dt.timedelta(days=2))
    first = Round.objects.create(
        number=1,
        status=Round.Status.SUCCEEDED,
        finished_at=timezone.now() - dt.timedelta(days=1),
        metrics={"hit_rate": 0.1, "new_stable": 3, "note": "text is not charted"},
    )
    items = [item for item in subset(mp_entry_dicts, {"Li", "Co", "O"}) if "Co" in item["composition"]]
    report = ingest_file(path=write_json(tmp_path / "licoo.json.gz", items))
    second = Round.objects.create(
        number=2,
        status=Round.Status.SUCCEEDED,
        batch_id=report.batch_id,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        metrics={"hit_rate": 0.25, "new_stable": 5},
    )
    return first, second


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module, keeping the console for ``no_console_errors``."""
    if not chromium_installed():
        pytest.fail(
            "Chromium is missing: apt-get install -y chromium chromium-driver (scripts/test.sh does it)"
        )
    profile = tempfile.mkdtemp(prefix="portal-chromium-")
    driver = chromium_driver(Path(profile), console_log=True)
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def live_catalogue(li_o_file):
    return ingest_file(path=li_o_file)
