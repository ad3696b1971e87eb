"""Reads compiled once (hull/compiled_reads.py) give exactly what the queryset they were compiled from gives, for
every value, in every thread; a queryset that does not look up its marker is refused."""

import threading

import pytest
from django.db.models import Count, OuterRef, Subquery

from hull.compiled_reads import CompiledRead
from hull.models import Entry, Stability
from hull.services.ingest import ingest_file

pytestmark = pytest.mark.django_db

COLUMNS = ["id", "public_id", "structure", "composition", "created_at", "energy_per_atom", "batch__source"]


def by_public_id(public_id: str):
    """Columns of every kind (JSON, datetimes, floats, a joined column) and an annotation over another table."""
    stable = Stability.objects.filter(entry_id=OuterRef("pk"), is_stable=True).values("entry_id")
    counted = stable.annotate(n=Count("id")).values("n")[:1]
    return (
        Entry.objects.annotate(stable_rows=Subquery(counted))
        .filter(public_id=public_id)
        .values(*COLUMNS, "stable_rows")
    )


def stabilities_of(entry_id: int):
    return Stability.objects.filter(entry_id=entry_id).order_by("hull_set").values()


@pytest.fixture
def catalogue(li_o_file):
    ingest_file(path=li_o_file)


def test_rows_equal_the_querysets_for_every_value(catalogue):
    read, stabilities = CompiledRead(by_public_id, marker="\0id"), CompiledRead(stabilities_of, marker=-1)
    public_ids = list(Entry.objects.order_by("id").values_list("public_id", flat=True))
    assert len(public_ids) > 10
    for public_id in public_ids:
        rows = read.rows(public_id)
        assert rows == list(by_public_id(public_id))
        assert len(rows) == 1 and isinstance(rows[0]["structure"], dict)
        assert rows[0]["created_at"].tzinfo is not None
        assert stabilities.rows(rows[0]["id"]) == list(stabilities_of(rows[0]["id"]))
    assert any(read.rows(public_id)[0]["stable_rows"] for public_id in public_ids)
    assert read.rows("mdp-does-not-exist") == []


@pytest.mark.django_db(transaction=True)
def test_a_read_compiled_in_one_thread_serves_another(li_o_file):
    ingest_file(path=li_o_file)
    read = CompiledRead(by_public_id, marker="\0id")
    public_ids = list(Entry.objects.order_by("id").values_list("public_id", flat=True)[:20])
    expected = {public_id: list(by_public_id(public_id)) for public_id in public_ids}
    assert read.rows(public_ids[0]) == expected[public_ids[0]]
    results, failures = {}, []

    def worker() -> None:
        from django.db import connection

        try:
            for public_id in public_ids:
                results[public_id] = read.rows(public_id)
        except Exception as exc:  # reported below, in the test's thread
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert not failures
    assert results == expected


def test_a_query_without_its_marker_is_refused(catalogue):
    read = CompiledRead(lambda public_id: Entry.objects.filter(nsites__gt=2).values("id"), marker="\0id")
    with pytest.raises(ValueError, match="does not look up its marker"):
        read.rows("mdp-1")


def test_a_query_of_model_instances_is_refused(catalogue):
    read = CompiledRead(lambda public_id: Entry.objects.filter(public_id=public_id), marker="\0id")
    with pytest.raises(ValueError, match="values"):
        read.rows("mdp-1")


def test_json_columns_are_decoded_as_the_field_decodes_them(catalogue):
    """JSON columns are decoded with orjson; what orjson refuses is decoded as ``JSONField`` decodes it."""
    from django.db import connection

    from hull.compiled_reads import _json_value

    field = Entry._meta.get_field("structure")
    compiled = CompiledRead(by_public_id, marker="\0id")
    public_id = Entry.objects.values_list("public_id", flat=True).first()
    assert compiled.rows(public_id) == list(by_public_id(public_id))
    texts = [
        '{"lattice": {"a": 2.5e-3, "matrix": [[1, 0, 0]]}, "sites": [], "n": 18446744073709551615}',
        '{"magmom": NaN, "x": -Infinity}',  # not JSON, but json reads it and SQLite's JSON text can hold it
        "not json at all",
        "[1.0000000000000002, 0.1, 1e308, -0.0]",
        None,
    ]
    for text in texts:
        expected = field.from_db_value(text, None, connection)
        decoded = _json_value(text, None, connection)
        assert repr(decoded) == repr(expected), text  # repr: NaN equals nothing, -0.0 equals 0.0
    # the one difference, documented: an integer beyond 64 bits becomes the nearest float
    assert _json_value('{"n": 12345678901234567890123}', None, connection) == {"n": 1.2345678901234568e22}
