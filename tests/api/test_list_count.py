"""REST lists say how many entries match in all (``count``), exact where that is cheap, else the database's
estimate said as such (``count_is_estimate``); checked against the database's own COUNT and against the rows
read by paging to the end, on SQLite and PostgreSQL."""

import pytest
from django.db import connection
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from hull.counting import planned_rows
from hull.models import Entry, Stability
from tests.api.conftest import ingest_items

pytestmark = pytest.mark.django_db
URL = "/api/v1/materials/"


@pytest.fixture
def client(catalogue):
    return APIClient()


def database_count(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def paged(client, params: dict) -> tuple[list[dict], list[dict]]:
    """(every row, every page's body) of a list read to its end."""
    rows, bodies = [], []
    response = client.get(URL, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        bodies.append(body)
        if not body["next"]:
            return rows, bodies
        response = client.get(body["next"])


ENTRY = Entry._meta.db_table
STABILITY = Stability._meta.db_table
CASES = [
    ({}, f"SELECT COUNT(*) FROM {ENTRY}", []),
    (
        {"elements_only": "Li,O"},
        f"SELECT COUNT(*) FROM {ENTRY} WHERE chemsys IN (%s, %s, %s)",
        ["Li", "O", "Li-O"],
    ),
    (
        {"e_above_hull_max": "0.05", "sort": "e_above_hull"},
        f"SELECT COUNT(*) FROM {STABILITY} WHERE hull_set = %s AND e_above_hull <= %s",
        ["dft", 0.05],
    ),
    (
        {"is_stable": "true", "hull_set": "all"},
        f"SELECT COUNT(*) FROM {STABILITY} WHERE hull_set = %s AND is_stable",
        ["all"],
    ),
    ({"nelements_min": "3", "sort": "-nsites"}, f"SELECT COUNT(*) FROM {ENTRY} WHERE nelements >= %s", [3]),
    ({"chemsys": "Li-Co-O"}, f"SELECT COUNT(*) FROM {ENTRY} WHERE chemsys = %s", ["Co-Li-O"]),
]


@pytest.mark.parametrize(("params", "sql", "sql_params"), CASES)
def test_every_page_carries_the_exact_count_of_the_whole_result(client, params, sql, sql_params):
    expected = database_count(sql, sql_params)
    rows, bodies = paged(client, {**params, "page_size": 60})
    assert len(rows) == expected
    assert {(body["count"], body["count_is_estimate"]) for body in bodies} == {(expected, False)}


def test_the_count_follows_the_catalogue(client, tmp_path, lifeo_items):
    before = client.get(URL, {"elements": "Li,O", "page_size": 1}).json()["count"]
    li2o = next(item for item in lifeo_items if item["composition"] == {"Li": 2.0, "O": 1.0})
    ingest_items(tmp_path, [dict(li2o, entry_id="new-li2o", energy=li2o["energy"] + 0.5)])
    after = client.get(URL, {"elements": "Li,O", "page_size": 1}).json()
    assert after["count"] == before + 1 and after["count_is_estimate"] is False


def test_beyond_the_exact_limit_postgresql_gives_its_estimate_and_says_so(client, settings):
    settings.PORTAL_EXACT_COUNT_LIMIT = 100
    total = Entry.objects.count()
    small = database_count(f"SELECT COUNT(*) FROM {ENTRY} WHERE chemsys = %s", ["Li-O"])
    assert small <= 100 < total
    narrow = client.get(URL, {"chemsys": "Li-O"}).json()
    assert (narrow["count"], narrow["count_is_estimate"]) == (small, False)
    body = client.get(URL).json()
    if connection.vendor != "postgresql":  # SQLite keeps no statistics: every count is exact
        assert (body["count"], body["count_is_estimate"]) == (total, False)
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {ENTRY}")
    assert body["count_is_estimate"] is True and body["count"] > 100
    fresh = client.get(URL, {"nelements_min": "1"}).json()
    assert fresh["count_is_estimate"] is True
    assert fresh["count"] == max(101, planned_rows(Entry.objects.filter(nelements__gte=1).values("pk")))
    assert abs(fresh["count"] - total) <= total * 0.2  # the table's statistics, just gathered


def test_the_schema_declares_the_count():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    page = schema["components"]["schemas"]["PaginatedMaterialList"]
    assert {"count", "count_is_estimate", "results"} <= set(page["required"])
    assert page["properties"]["count"]["type"] == "integer"
    assert page["properties"]["count_is_estimate"]["type"] == "boolean"
    assert "estimate" in page["properties"]["count_is_estimate"]["description"]
