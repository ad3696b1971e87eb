"""The features service stores our dimensionality, computed in forked processes for a batch, the same as in
the calling process and as pymatgen's functions give on the same structures."""

import pytest
from pymatgen.core import Structure

from hull.models import Entry, EntryFeatures
from hull.services import features
from hull.services.features import dimensionality_of, features_compute
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json

pytestmark = pytest.mark.django_db


def stored(ids: list[int]) -> dict[int, tuple]:
    rows = EntryFeatures.objects.filter(entry_id__in=ids)
    return {
        row.entry_id: (row.dimensionality_cheon, row.dimensionality_larsen, row.error, row.prototype_key)
        for row in rows
    }


def test_features_of_a_batch_in_forked_processes_equal_the_serial_ones(tmp_path, li_o_entries, pool_sizes):
    items = [item for item in li_o_entries if len(item["structure"]["sites"]) <= 12]
    report = ingest_file(path=write_json(tmp_path / "li_o.json", items))
    ids = list(Entry.objects.filter(batch_id=report.batch_id).order_by("id").values_list("id", flat=True))
    assert len(ids) >= features.PARALLEL_MIN_STRUCTURES

    serial_report = features_compute(entry_ids=ids, workers=1)
    serial = stored(ids)
    EntryFeatures.objects.all().delete()

    result = features_compute(entry_ids=ids, workers=2)
    assert pool_sizes == [2] and result.computed == len(ids) and result.failed == serial_report.failed
    assert stored(ids) == serial
    assert {value[0] for value in serial.values()} | {value[1] for value in serial.values()} <= {
        None,
        0,
        1,
        2,
        3,
    }


def test_dimensionality_of_labels_as_pymatgen_and_notes_what_has_none(li_o_entries):
    """Small Li-O structures: integers where pymatgen's Cheon label is "nD", a note with the label or with
    the error that pymatgen raises too (a zero largest cluster divides); Larsen as pymatgen's."""
    from hull.dimensionality import pymatgen_dimensionality

    for item in [item for item in li_o_entries if len(item["structure"]["sites"]) <= 6][:8]:
        structure = Structure.from_dict(item["structure"])
        cheon, larsen, note = dimensionality_of(structure)
        reference = pymatgen_dimensionality(structure)
        label = reference["cheon"]
        if label in ("0D", "1D", "2D", "3D"):
            assert (cheon, note) == (int(label[:-1]), "")
        elif label in ("intercalated ion", "intercalated molecule", None):
            assert cheon is None and note == f"cheon: {label or 'undetermined'}"
        else:  # pymatgen raised: the same exception, noted
            assert cheon is None and note == f"cheon failed: {label}"
        assert larsen == reference["larsen"]
