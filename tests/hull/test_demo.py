"""The demo loader uses the shared file where present and pymatgen's packaged entries otherwise."""

import pytest
from django.core.management import call_command

from hull.models import Entry, Stability

pytestmark = pytest.mark.django_db


def test_fallback_to_entries_inside_pymatgen(settings, tmp_path, capsys):
    settings.PORTAL_SHARED_DATA = tmp_path  # no mp_entries.json.gz here
    call_command("load_demo")
    out = capsys.readouterr().out
    assert "is absent, so the demo uses the 423 Materials Project entries that ship inside pymatgen" in out
    assert Entry.objects.count() == 423
    assert Entry.objects.filter(structure__isnull=True).count() == 423
    # 89 elements are present, so every entry has a reference and a stability
    assert not Stability.objects.filter(hull_set="dft", is_stable__isnull=True).exists()
    assert Stability.objects.filter(hull_set="dft", is_stable=True).count() >= 89
