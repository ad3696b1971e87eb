"""The hull service: incremental updates equal a full rebuild, plans stay small, check_hull catches drift,
concurrent updates do not corrupt the hull."""

import random
import re
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from hull.hull_check import hull_differences
from hull.models import Entry, HullRecord, Stability
from hull.services.ingest import ingest_file
from hull.services.stability import hull_update
from tests.catalogue_files import write_json
from tests.conftest import subset


def computed_entry(entry_id: str, composition: dict, energy_per_atom: float) -> dict:
    n = sum(composition.values())
    return {
        "@module": "pymatgen.entries.computed_entries",
        "@class": "ComputedEntry",
        "energy": energy_per_atom * n,
        "composition": composition,
        "entry_id": entry_id,
        "correction": 0.0,
        "parameters": {"run_type": "GGA"},
        "data": {},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_batches_equal_a_full_rebuild(tmp_path, mp_entry_dicts, seed):
    items = subset(mp_entry_dicts, {"Li", "Fe", "O"})
    rng = random.Random(seed)
    rng.shuffle(items)
    cuts = sorted(rng.sample(range(1, len(items)), 3))
    batches = [items[a:b] for a, b in zip([0, *cuts], [*cuts, len(items)], strict=True)]
    for i, batch in enumerate(batches):
        ingest_file(path=write_json(tmp_path / f"batch{i}.json", batch))
        assert hull_differences() == [], f"after batch {i}"
    # an update that moves a stable phase off the hull, then back
    stable = Entry.objects.filter(
        stabilities__hull_set="dft", stabilities__is_stable=True, nelements=2
    ).first()
    moved = [dict(item) for item in items if item["entry_id"] == stable.source_id]
    moved[0]["energy"] += 3.0 * stable.nsites
    ingest_file(path=write_json(tmp_path / "moved.json", moved))
    assert Entry.objects.get(pk=stable.pk).stabilities.get(hull_set="dft").is_stable is False
    assert hull_differences() == []


@pytest.mark.django_db
def test_an_entry_above_the_hull_changes_only_its_own_system(tmp_path, mp_entry_dicts):
    ingest_file(path=write_json(tmp_path / "base.json", subset(mp_entry_dicts, {"Li", "Fe", "O"})))
    ternary_version = HullRecord.objects.get(hull_set="dft", chemsys_id="Fe-Li-O").version
    fe2o3 = Entry.objects.filter(reduced_formula="Fe2O3").order_by("energy_per_atom").first()
    high = computed_entry("test-high", {"Fe": 2, "O": 3}, fe2o3.energy_per_atom + 1.0)
    report = ingest_file(path=write_json(tmp_path / "high.json", [high]), source="test")
    assert report.hull.systems == {"dft": 1, "all": 1, "r2scan": 0}
    assert HullRecord.objects.get(hull_set="dft", chemsys_id="Fe-Li-O").version == ternary_version
    assert Entry.objects.get(source_id="test-high").stabilities.get(hull_set="dft").e_above_hull > 0.9

    low = computed_entry("test-low", {"Fe": 2, "O": 3}, fe2o3.energy_per_atom - 0.5)
    report = ingest_file(path=write_json(tmp_path / "low.json", [low]), source="test")
    assert report.hull.systems["dft"] == 2  # Fe-O and the Fe-Li-O that contains it
    assert HullRecord.objects.get(hull_set="dft", chemsys_id="Fe-Li-O").version > ternary_version
    assert Entry.objects.get(source_id="test-low").stabilities.get(hull_set="dft").is_stable
    assert hull_differences() == []


@pytest.mark.django_db
def test_ml_results_stay_out_of_the_dft_hull(tmp_path, li_o_entries):
    ingest_file(path=write_json(tmp_path / "dft.json", li_o_entries))
    li2o = Entry.objects.filter(reduced_formula="Li2O").order_by("energy_per_atom").first()
    chgnet = computed_entry("chgnet-1", {"Li": 2, "O": 1}, li2o.energy_per_atom - 0.2)
    ingest_file(
        path=write_json(tmp_path / "ml.json", [chgnet]),
        source="chgnet",
        method="CHGNet 0.3.0",
        method_family="ml",
    )
    new = Entry.objects.get(source_id="chgnet-1")
    assert list(new.stabilities.values_list("hull_set", flat=True)) == ["all"]
    assert new.stabilities.get().is_stable
    assert li2o.stabilities.get(hull_set="dft").is_stable is True
    assert li2o.stabilities.get(hull_set="all").is_stable is False
    assert hull_differences() == []


@pytest.mark.django_db
def test_check_hull_lists_what_differs(tmp_path, li_o_file, capsys):
    ingest_file(path=li_o_file)
    call_command("check_hull")
    assert "equals a full rebuild" in capsys.readouterr().out
    row = Stability.objects.filter(hull_set="dft", is_stable=False).first()
    Stability.objects.filter(pk=row.pk).update(e_above_hull=row.e_above_hull + 0.1)
    with pytest.raises(CommandError, match="1 stored values differ"):
        call_command("check_hull")
    assert f"{row.entry.public_id} e_above_hull" in capsys.readouterr().out
    call_command("rebuild_hull")
    assert hull_differences() == []


@pytest.mark.django_db
def test_stability_rows_copy_their_entrys_chemical_system(tmp_path, mp_entry_dicts):
    """Every row, in both hull sets and after an update, names its entry's system (searches by elements and
    stability read it); check_hull reports a row whose copy is wrong."""
    items = subset(mp_entry_dicts, {"Li", "Fe", "O"})
    ingest_file(path=write_json(tmp_path / "first.json", items[::2]))
    ingest_file(path=write_json(tmp_path / "second.json", items[1::2]))
    rows = list(Stability.objects.values_list("hull_set", "chemsys", "entry__chemsys"))
    assert {hull_set for hull_set, _, _ in rows} == {"dft", "all"}
    assert len(rows) == 2 * len(items)
    assert all(own == copied for _, copied, own in rows)
    assert {copied for _, copied, _ in rows} >= {"Li", "Fe-O", "Fe-Li-O"}
    row = Stability.objects.filter(hull_set="all", chemsys="Fe-O").first()
    Stability.objects.filter(pk=row.pk).update(chemsys="Fe-Li-O")
    assert [(d.hull_set, d.field, d.stored, d.expected) for d in hull_differences()] == [
        ("all", "chemsys", "Fe-Li-O", "Fe-O")
    ]


@pytest.mark.django_db(transaction=True)
def test_migration_copies_the_chemical_system_onto_existing_rows(tmp_path, li_o_file):
    """0006 fills the new column from the entries for rows written before it."""
    from django.db.migrations.executor import MigrationExecutor

    ingest_file(path=li_o_file)
    expected = sorted(Stability.objects.values_list("entry_id", "hull_set", "chemsys"))
    executor = MigrationExecutor(connection)
    executor.migrate([("hull", "0005_chemsys_element_symbol_index")])
    executor.loader.build_graph()
    executor.migrate([("hull", "0006_stability_chemsys")])
    assert sorted(Stability.objects.values_list("entry_id", "hull_set", "chemsys")) == expected
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes("hull"))  # back to the latest schema
    assert {chemsys for _, _, chemsys in expected} == {"Li", "O", "Li-O"}


@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_updates_leave_a_consistent_hull(tmp_path, mp_entry_dicts):
    items = subset(mp_entry_dicts, {"Li", "Fe", "O"})
    first = [i for i in items if set(i["composition"]) <= {"Li", "O"}]
    second = [i for i in items if i not in first]
    paths = [write_json(tmp_path / "a.json", first), write_json(tmp_path / "b.json", second)]
    errors = []

    def run(path):
        try:
            ingest_file(path=path)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert Entry.objects.count() == len(items)
    assert hull_differences() == []
    hull_update()  # a full rebuild changes nothing either
    assert hull_differences() == []


@pytest.mark.django_db
def test_both_hull_sets_hold_the_same_rows_for_dft_only_entries(tmp_path, mp_entry_dicts):
    """Where the sets hold the same entries, the second set's rows are copies (in SQL on PostgreSQL) of the
    first's, each stamped with its own set's version."""
    from hull.models import HullSetState

    ingest_file(path=write_json(tmp_path / "base.json", subset(mp_entry_dicts, {"Li", "Fe", "O"})))
    fields = (
        "formation_energy_per_atom",
        "e_above_hull",
        "decomposition_energy",
        "decomposition",
        "is_stable",
    )
    rows = {
        name: {s["entry_id"]: s for s in Stability.objects.filter(hull_set=name).values("entry_id", *fields)}
        for name in ("dft", "all")
    }
    assert rows["dft"] and rows["dft"] == rows["all"]
    for name in ("dft", "all"):
        version = HullSetState.objects.get(hull_set=name).version
        assert set(Stability.objects.filter(hull_set=name).values_list("hull_version", flat=True)) == {
            version
        }
        assert set(HullRecord.objects.filter(hull_set=name).values_list("version", flat=True)) == {version}
    hulls = {
        name: dict(HullRecord.objects.filter(hull_set=name).values_list("chemsys_id", "facets"))
        for name in ("dft", "all")
    }
    assert hulls["dft"] == hulls["all"]


@pytest.mark.django_db
def test_a_large_update_forks_workers_with_the_same_result(tmp_path, mp_entry_dicts, settings, monkeypatch):
    from hull.services import parallel, stability

    settings.PORTAL_HULL_WORKERS = 2
    monkeypatch.setattr(stability, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(parallel, "threads_in_process", lambda: False)  # other tests may have loaded JAX
    assert stability._workers_for(10) == 2
    # four elements: six binary systems, enough for a level to be handed to forked workers
    ingest_file(path=write_json(tmp_path / "base.json", subset(mp_entry_dicts, {"Li", "Fe", "Mn", "O"})))
    calls = []
    real = stability.engine.compute_hulls

    def spy(entries, **kwargs):
        calls.append(kwargs.get("workers"))
        return real(entries, **kwargs)

    monkeypatch.setattr(stability.engine, "compute_hulls", spy)
    hull_update(compute=spy)
    assert calls == [2]
    monkeypatch.undo()
    assert hull_differences() == []


def test_id_runs_compress_consecutive_ids():
    from hull.services.stability import id_runs

    assert id_runs([]) == []
    assert id_runs([7, 3, 4, 5, 9, 10, 3]) == [(3, 5), (7, 7), (9, 10)]
    ids = random.Random(0).sample(range(10_000), 2_000)
    assert sorted(i for first, last in id_runs(ids) for i in range(first, last + 1)) == sorted(ids)


def test_gc_pause_nests_and_restores_the_collector():
    import gc

    from hull.gc_pause import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("errors leave the collector on")
    assert gc.isenabled()


def test_no_workers_where_forking_is_unsafe(settings, monkeypatch):
    import sys
    import threading
    import types

    from hull.services import parallel

    settings.PORTAL_HULL_WORKERS = 2
    monkeypatch.delitem(sys.modules, "jax", raising=False)
    monkeypatch.delitem(sys.modules, "jax._src.xla_bridge", raising=False)
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    if threading.active_count() == 1:
        assert parallel.workers_for(100, threshold=10) == 2
    assert parallel.workers_for(5, threshold=10) == 1
    settings.PORTAL_INGEST_WORKERS = 3
    if threading.active_count() == 1:
        assert parallel.workers_for(100, threshold=10, setting="PORTAL_INGEST_WORKERS") == 3
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert parallel.workers_for(100, threshold=10) == 1
    finally:
        stop.set()
        thread.join()
    monkeypatch.setitem(sys.modules, "jax", sys)
    assert parallel.workers_for(100, threshold=10) == 1  # a JAX that cannot say whether its runtime started
    # JAX imported (as in every Django process, through the admin) forks safely until its runtime starts
    bridge = types.SimpleNamespace(backends_are_initialized=lambda: False)
    monkeypatch.setitem(sys.modules, "jax._src.xla_bridge", bridge)
    if threading.active_count() == 1:
        assert parallel.workers_for(100, threshold=10) == 2
    bridge.backends_are_initialized = lambda: True
    assert parallel.workers_for(100, threshold=10) == 1


@pytest.mark.django_db
def test_key_lists_reach_postgresql_typed_as_their_columns(tmp_path, mp_entry_dicts):
    """The hull update sends its keys (entry ids, chemical systems) as one array parameter per statement. Typed as
    the column, PostgreSQL hashes them; as psycopg types small ints (int4[] against the bigint entry ids) every
    row scanned was compared with every key, and 400,000 keys against a table filled in the same transaction (a
    scan, for want of statistics) ran for over 20 minutes. The plans must show each array in its column's type."""
    ingest_file(path=write_json(tmp_path / "base.json", subset(mp_entry_dicts, {"Li", "Fe", "O"})))
    sent: list[tuple[str, list]] = []

    def capture(execute, sql, params, many, context):
        if "= ANY(" in sql:
            sent.append((sql, list(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        hull_update(touched=["Fe-Li-O"])
    rows = {
        name: dict(Stability.objects.filter(hull_set=name).values_list("entry_id", "e_above_hull"))
        for name in ("dft", "all")
    }
    assert rows["dft"] and rows["dft"] == rows["all"]
    if connection.vendor != "postgresql":  # SQLite: the rows are upserted, no key arrays
        return
    assert {sql.split()[0] for sql, _ in sent} == {"DELETE", "INSERT"}  # replace 'dft', copy it to 'all'
    # the comparison as the plan shows it: "entry_id = ANY ('{...}'::bigint[])", or for a varchar column compared as
    # text "(chemsys)::text = ANY ('{...}'::text[])"; the array must have the type the column is compared as
    compared_as = {"entry_id": "bigint", "chemsys": "text"}
    for sql, params in sent:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (VERBOSE) {sql}", params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        arrays = re.findall(
            r"(?:\(|\b)([a-z_]+)(?:\)::([a-z ]+))? = ANY \('\{[^']*\}'::([a-z ]+)\[\]\)", plan
        )
        assert arrays, plan
        for column, cast, array_type in arrays:
            assert (cast or array_type) == array_type == compared_as[column], (column, cast, array_type, sql)
