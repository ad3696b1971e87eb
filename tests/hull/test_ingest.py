"""Ingestion of every format, malformed input, idempotency and the failed-batch rollback."""

import gzip
import json
import math

import pytest
from django.core.management import CommandError, call_command

import hull.tasks  # noqa: F401 - registers the tasks, so that an eager enqueue runs them here
from hull.errors import CatalogueError
from hull.models import Entry, EntryFeatures, HullRecord, IngestBatch, Stability
from hull.services.ingest import IngestFailed, ingest_file
from portal.celery import app as celery_app
from tests.catalogue_files import write_json

pytestmark = pytest.mark.django_db


def test_cse_json_loads_every_entry_with_its_fields(li_o_file, li_o_entries):
    report = ingest_file(path=li_o_file)
    assert (report.loaded, report.updated, report.skipped, report.rejected) == (len(li_o_entries), 0, 0, [])
    assert report.source == "mp"
    li2o = Entry.objects.get(source_id="mp-1960")
    assert li2o.reduced_formula == "Li2O"
    assert li2o.anonymous_formula == "A2B"
    assert li2o.chemsys_id == "Li-O"
    assert li2o.spacegroup_symbol == "Fm-3m" and li2o.spacegroup_number == 225
    assert li2o.method == "GGA/GGA+U (MP2020)" and li2o.method_family == "dft"
    raw = next(item for item in li_o_entries if item["entry_id"] == "mp-1960")
    assert li2o.uncorrected_energy == pytest.approx(raw["energy"])
    assert li2o.energy == pytest.approx(raw["energy"] + raw["correction"])
    assert li2o.energy_per_atom == pytest.approx(li2o.energy / li2o.nsites)
    assert li2o.public_id.startswith("mdp-")
    assert Stability.objects.filter(entry=li2o, hull_set="dft", is_stable=True).exists()


@pytest.fixture
def eager_tasks():
    """Celery runs a task where it is enqueued, in this process (the broker is not read)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def test_new_structures_get_their_features_once_the_ingest_commits(
    tmp_path, li_o_entries, eager_tasks, django_capture_on_commit_callbacks
):
    items = [item for item in li_o_entries if len(item["structure"]["sites"]) <= 3][:3]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = ingest_file(path=write_json(tmp_path / "few.json", items))
    entries = Entry.objects.filter(batch_id=report.batch_id)
    assert len(callbacks) == 1 and not EntryFeatures.objects.filter(entry__in=entries).exists()
    callbacks[0]()  # the commit: the features task (hull.enqueue, by name) runs, eagerly here
    features = EntryFeatures.objects.filter(entry__in=entries)
    assert features.count() == len(items) and all(f.prototype_key for f in features)


def test_ingesting_twice_changes_nothing(li_o_file, li_o_entries):
    ingest_file(path=li_o_file)
    before = list(Entry.objects.order_by("id").values_list("id", "public_id", "updated_at", "content_hash"))
    report = ingest_file(path=li_o_file)
    assert (report.loaded, report.updated, report.skipped) == (0, 0, len(li_o_entries))
    assert (
        list(Entry.objects.order_by("id").values_list("id", "public_id", "updated_at", "content_hash"))
        == before
    )


def test_changed_energy_updates_the_row_and_the_hull(tmp_path, li_o_entries):
    ingest_file(path=write_json(tmp_path / "a.json", li_o_entries))
    target = next(item for item in li_o_entries if item["entry_id"] == "mp-1960")
    changed = [dict(item) for item in li_o_entries]
    for item in changed:
        if item["entry_id"] == "mp-1960":
            item["energy"] = target["energy"] + 5.0  # Li2O now far above the hull
    report = ingest_file(path=write_json(tmp_path / "b.json", changed))
    assert (report.loaded, report.updated) == (0, 1)
    li2o = Entry.objects.get(source_id="mp-1960")
    stab = li2o.stabilities.get(hull_set="dft")
    assert stab.is_stable is False and stab.e_above_hull > 0.1


def test_wbm_json(tmp_path, wbm_dicts):
    path = write_json(tmp_path / "wbm.json.gz", wbm_dicts[:40])
    report = ingest_file(path=path)
    assert report.fmt == "wbm-json" and report.source == "wbm"
    assert report.loaded == 40
    first = Entry.objects.get(source_id=wbm_dicts[0]["material_id"])
    assert first.energy == pytest.approx(wbm_dicts[0]["corrected_energy"])
    assert first.correction == pytest.approx(wbm_dicts[0]["corrected_energy"] - wbm_dicts[0]["energy"])


def test_gnome_release_csv_with_zip(gnome_release, small_structures):
    report = ingest_file(path=gnome_release)
    assert report.fmt == "gnome-csv" and report.source == "gnome"
    assert report.loaded == len(small_structures)
    entry = Entry.objects.get(source_id="gn-0001")
    assert entry.band_gap == 4.5
    assert entry.data["source_columns"]["dimensionality_cheon"] == "3"
    assert entry.energy == pytest.approx(small_structures[1][2])


@pytest.mark.parametrize("fixture", ["cif_folder", "poscar_folder", "extxyz_file"])
def test_structure_files_with_energies(request, fixture, small_structures):
    path = request.getfixturevalue(fixture)
    report = ingest_file(path=path, method="PBE (user)", method_family="dft")
    assert report.loaded == len(small_structures), report.rejected
    source_id, structure, energy = small_structures[0]
    entry = Entry.objects.get(source_id=source_id)
    assert entry.energy == pytest.approx(energy, abs=1e-6)
    assert entry.nsites == len(structure)
    assert entry.method == "PBE (user)"


def test_truncated_gzip_is_a_clear_error(tmp_path, li_o_entries):
    path = write_json(tmp_path / "cut.json.gz", li_o_entries)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(CatalogueError, match="cut.json.gz: unreadable or truncated"):
        ingest_file(path=path)
    assert Entry.objects.count() == 0


def test_invalid_json_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[{"entry_id": "x",\n "energy": }]')
    with pytest.raises(CatalogueError, match=r"bad.json: not valid JSON \(line 2"):
        ingest_file(path=path)


def _break(items, entry_id, **changes):
    out = json.loads(json.dumps(items))
    for item in out:
        if item["entry_id"] == entry_id:
            item.update(changes)
    return out


def test_bad_rows_fail_the_batch_and_write_nothing(tmp_path, li_o_entries):
    bad = _break(li_o_entries, "mp-1960", energy=float("nan"))
    bad[3]["structure"]["sites"][0]["species"][0]["element"] = "Xx"
    path = write_json(tmp_path / "bad.json", bad)
    with pytest.raises(IngestFailed) as info:
        ingest_file(path=path)
    reasons = {problem.location: problem.message for problem in info.value.report.rejected}
    assert any("mp-1960" in where and "finite number" in why for where, why in reasons.items())
    assert any("item 3" in where and "Xx" in why for where, why in reasons.items())
    assert Entry.objects.count() == 0 and IngestBatch.objects.count() == 0 and Stability.objects.count() == 0


def test_skip_invalid_stores_only_the_good_rows(tmp_path, li_o_entries):
    bad = _break(li_o_entries, "mp-1960", energy=float("inf"))
    report = ingest_file(path=write_json(tmp_path / "bad.json", bad), skip_invalid=True)
    assert report.loaded == len(li_o_entries) - 1
    assert [p.location for p in report.rejected] == [
        f"bad.json item {next(i for i, x in enumerate(bad) if x['entry_id'] == 'mp-1960')} (mp-1960)"
    ]
    assert not Entry.objects.filter(source_id="mp-1960").exists()
    assert IngestBatch.objects.get().n_rejected == 1


def test_failure_in_the_middle_of_the_write_rolls_back(tmp_path, li_o_entries, monkeypatch):
    """A batch that fails after rows were written (here: in the hull update) leaves nothing behind."""
    ingest_file(path=write_json(tmp_path / "first.json", li_o_entries[:10]))
    before = Entry.objects.count(), Stability.objects.count(), IngestBatch.objects.count()

    def explode(**kwargs):
        raise RuntimeError("hull engine crashed")

    monkeypatch.setattr("hull.services.ingest.hull_update", explode)
    with pytest.raises(RuntimeError):
        ingest_file(path=write_json(tmp_path / "second.json", li_o_entries[10:]))
    assert (Entry.objects.count(), Stability.objects.count(), IngestBatch.objects.count()) == before


def test_overlapping_sites_are_rejected(tmp_path, li_o_entries):
    item = json.loads(json.dumps(next(x for x in li_o_entries if x["entry_id"] == "mp-1960")))
    item["structure"]["sites"][1]["abc"] = [a + 0.01 for a in item["structure"]["sites"][0]["abc"]]
    item["structure"]["sites"][1].pop("xyz", None)
    with pytest.raises(IngestFailed) as info:
        ingest_file(path=write_json(tmp_path / "overlap.json", [item]))
    assert "overlapping sites" in info.value.report.rejected[0].message


def test_gnome_missing_column(tmp_path, gnome_release):
    text = gnome_release.read_text().replace("MaterialId", "Identifier", 1)
    gnome_release.write_text(text)
    with pytest.raises(CatalogueError, match="missing column 'materialid'"):
        ingest_file(path=gnome_release)


def test_gnome_composition_disagreeing_with_structure(gnome_release):
    lines = gnome_release.read_text().splitlines()
    cells = lines[1].split(",")
    cells[2] = "NaCl"  # Reduced Formula
    lines[1] = ",".join(cells)
    gnome_release.write_text("\n".join(lines) + "\n")
    with pytest.raises(IngestFailed) as info:
        ingest_file(path=gnome_release)
    problem = info.value.report.rejected[0]
    assert "row 2" in problem.location and "says NaCl" in problem.message


def test_gnome_nan_energy_names_the_row(gnome_release):
    lines = gnome_release.read_text().splitlines()
    cells = lines[2].split(",")
    cells[7] = "nan"
    lines[2] = ",".join(cells)
    gnome_release.write_text("\n".join(lines) + "\n")
    with pytest.raises(IngestFailed) as info:
        ingest_file(path=gnome_release)
    assert "row 3" in info.value.report.rejected[0].location
    assert "finite" in info.value.report.rejected[0].message


def test_cif_row_without_file(cif_folder):
    with open(cif_folder / "energies.csv", "a") as handle:
        handle.write("missing.cif,-10.0\n")
    with pytest.raises(IngestFailed) as info:
        ingest_file(path=cif_folder)
    assert "no such file missing.cif" in info.value.report.rejected[0].message


def test_extxyz_frame_without_energy(tmp_path, small_structures):
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    atoms = AseAtomsAdaptor.get_atoms(small_structures[0][1])
    path = tmp_path / "noenergy.extxyz"
    write(str(path), [atoms], format="extxyz")
    with pytest.raises(IngestFailed) as info:
        ingest_file(path=path)
    assert "no energy" in info.value.report.rejected[0].message


def test_computed_entry_mapping_without_structures(tmp_path):
    from tests.conftest import shared_file

    with gzip.open(shared_file("mp_elemental_refs.json.gz"), "rt") as handle:
        refs = json.load(handle)
    chosen = {el: refs[el] for el in ("Li", "O", "Fe")}
    report = ingest_file(path=write_json(tmp_path / "refs.json", chosen), source="mp-refs")
    assert report.loaded == 3
    li = Entry.objects.get(chemsys_id="Li")
    assert li.structure is None and li.nsites == round(sum(refs["Li"]["composition"].values()))
    assert li.stabilities.get(hull_set="dft").formation_energy_per_atom == pytest.approx(0.0)


def test_missing_elemental_reference_is_flagged(tmp_path, li_o_entries):
    no_oxygen = [item for item in li_o_entries if set(item["composition"]) != {"O"}]
    ingest_file(path=write_json(tmp_path / "x.json", no_oxygen))
    li2o = Entry.objects.get(source_id="mp-1960").stabilities.get(hull_set="dft")
    assert li2o.is_stable is None and li2o.e_above_hull is None and li2o.formation_energy_per_atom is None
    assert li2o.missing_elements == ["O"]
    li = Entry.objects.filter(chemsys_id="Li").first().stabilities.get(hull_set="dft")
    assert li.e_above_hull is not None and math.isfinite(li.e_above_hull)


def test_command_prints_report_and_fails_cleanly(tmp_path, li_o_file, capsys):
    call_command("ingest", str(li_o_file))
    out = capsys.readouterr().out
    assert "loaded 57, updated 0, skipped 0, rejected 0" in out
    with pytest.raises(CommandError, match="no such file"):
        call_command("ingest", str(tmp_path / "nothing.json"))
    bad = tmp_path / "bad.xyz"
    bad.write_text("this is not xyz\n")
    with pytest.raises(CommandError, match="bad.xyz"):
        call_command("ingest", str(bad))


def test_large_batches_are_checked_in_forked_workers_with_the_same_report(
    tmp_path, li_o_entries, settings, monkeypatch, pool_sizes
):
    """Past ``PARALLEL_MIN_ROWS`` rows are checked and prepared in forked workers: same rows stored, same
    rejections in file order, duplicates still caught across the workers' spans."""
    from hull.services import ingest

    bad = _break(li_o_entries, "mp-1960", energy=float("inf"))
    bad.append(dict(bad[0]))  # the same id again, at the end
    path = write_json(tmp_path / "bad.json", bad)
    serial = ingest.ingest_file(path=path, skip_invalid=True)
    stored = dict(Entry.objects.values_list("source_id", "content_hash"))
    for model in (Stability, HullRecord, Entry, IngestBatch):
        model.objects.all().delete()

    from hull.services import parallel

    settings.PORTAL_INGEST_WORKERS = 2
    monkeypatch.setattr(ingest, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(parallel, "threads_in_process", lambda: False)  # other tests may have loaded JAX
    parallel = ingest.ingest_file(path=path, skip_invalid=True)
    assert pool_sizes == [2]
    assert parallel.loaded == serial.loaded == len(li_o_entries) - 1
    assert [(p.location, p.message) for p in parallel.rejected] == [
        (p.location, p.message) for p in serial.rejected
    ]
    assert len(parallel.rejected) == 2 and "duplicate id" in parallel.rejected[1].message
    assert dict(Entry.objects.values_list("source_id", "content_hash")) == stored


def test_limits_come_from_the_settings(tmp_path, li_o_entries, settings):
    settings.PORTAL_MAX_SITES = 4
    settings.PORTAL_MAX_ELEMENTS = 1
    report = ingest_file(path=write_json(tmp_path / "li_o.json", li_o_entries), skip_invalid=True)
    stored = Entry.objects.all()
    assert stored and all(entry.nsites <= 4 and entry.nelements == 1 for entry in stored)
    reasons = " ".join(problem.message for problem in report.rejected)
    assert "at most 4 are allowed per cell" in reasons and "at most 1 are allowed per entry" in reasons
    assert len(report.rejected) + len(stored) == len(li_o_entries)


def test_every_real_wbm_row_passes_the_checks(wbm_dicts):
    """The plausibility window and the limits refuse no row of the real WBM sample (the MP file is ingested in
    full, strictly, by test_stability_vs_pymatgen)."""
    from hull.ingest import readers
    from hull.ingest.records import RowProblem, check_record
    from hull.services.ingest import ingest_limits
    from tests.conftest import shared_file

    limits = ingest_limits()
    rows = list(readers.read(shared_file("wbm_972.json.gz"), "wbm-json", limits=limits))
    assert len(rows) == len(wbm_dicts)
    problems = [row if isinstance(row, RowProblem) else check_record(row, limits=limits) for row in rows]
    assert [p for p in problems if p] == []


@pytest.mark.django_db(transaction=True)
def test_two_processes_ingesting_the_same_file_at_once_both_succeed(tmp_path, li_o_entries):
    """Concurrent ingests of one file take turns (the second finds the first one's rows): no unique violation,
    no traceback, each row stored once and the hull equal to a rebuild."""
    import os
    import subprocess
    import sys

    from hull.hull_check import hull_differences
    from tests.celery_workers import ROOT, worker_database_url

    path = write_json(tmp_path / "li_o.json.gz", li_o_entries)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": worker_database_url(),
    }
    command = [sys.executable, "manage.py", "ingest", str(path)]
    processes = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err[-3000:]
        assert "Traceback" not in err and "IntegrityError" not in err and "UniqueViolation" not in err
    loaded = sorted(int(out.split("loaded ")[1].split(",")[0]) for out, _ in outputs)
    assert loaded == [0, len(li_o_entries)]
    assert Entry.objects.count() == len(li_o_entries)
    assert IngestBatch.objects.count() == 2
    assert hull_differences() == []
