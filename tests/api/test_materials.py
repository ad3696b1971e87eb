"""The materials endpoints: filters (same meaning as the shared catalogue search), cursor pages, fields,
detail with structure files, export, phase diagrams and the stability check."""

import base64
import gzip
import json

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from pymatgen.core import Structure
from pymatgen.io.cif import CifParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from discovery.models import Round
from hull.models import Entry, EntryFeatures
from hull.phase_diagrams import hypothetical_stability, phase_diagram_get
from hull.search import EntrySearch, search_entries
from portal.api.pagination import KeysetCursorPagination
from portal.api.serializers import MaterialDetailSerializer, MaterialSerializer
from portal.api.views import MaterialDetailView
from tests.api.conftest import ingest_entries_without_values, ingest_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(catalogue):
    return APIClient()


def all_rows(client, **params):
    rows, url, pages = [], "/api/v1/materials/", 0
    response = client.get(url, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        rows += body["results"]
        pages += 1
        if not body["next"]:
            return rows, pages
        response = client.get(body["next"])


@pytest.mark.parametrize(
    "params",
    [
        {"elements": "Li,O", "e_above_hull_max": "0.05"},
        {"chemsys": "Li-*-O"},
        {"chemsys": "Fe-O", "sort": "-formation_energy_per_atom"},
        {"elements_only": "Li,O", "is_stable": "true"},
        {"formula": "O2Li", "hull_set": "all"},
        {"exclude_elements": "Fe", "nsites_max": "8", "sort": "nsites"},
        {"anonymous_formula": "AB2", "sort": "-band_gap"},
    ],
)
def test_list_filters_match_the_shared_search(client, params):
    rows, _ = all_rows(client, page_size=7, **params)
    search = EntrySearch.from_params({"sort": "id", **params})
    expected = list(search_entries(search).values_list("public_id", flat=True))
    assert [r["public_id"] for r in rows] == expected
    assert expected  # every case selects something real


def test_bad_parameters_are_400_with_the_message(client):
    response = client.get("/api/v1/materials/", {"elements": "Li,Xx"})
    assert response.status_code == 400 and "unknown element 'Xx'" in response.json()["detail"]
    response = client.get("/api/v1/materials/", {"e_above_hull_min": "1", "e_above_hull_max": "0"})
    assert response.status_code == 400 and "larger than" in response.json()["detail"]
    assert client.get("/api/v1/materials/", {"fields": "public_id,nope"}).status_code == 400
    assert client.get("/api/v1/materials/", {"cursor": "garbage"}).status_code == 400
    assert client.get("/api/v1/materials/", {"page_size": "0"}).status_code == 400


def test_fields_selection_and_heavy_fields_on_request(client):
    body = client.get("/api/v1/materials/", {"fields": "public_id,e_above_hull", "page_size": 2}).json()
    assert all(set(row) == {"public_id", "e_above_hull"} for row in body["results"])
    plain = client.get("/api/v1/materials/", {"page_size": 1}).json()["results"][0]
    assert "structure" not in plain and "e_above_hull" in plain
    heavy = client.get("/api/v1/materials/", {"page_size": 1, "fields": "public_id,structure"}).json()
    assert Structure.from_dict(heavy["results"][0]["structure"])


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"hull_set": "all", "sort": "-e_above_hull"},
        {"fields": "structure,composition,energy,uncorrected_energy,correction,hull_set,public_id"},
        {"fields": ",".join(MaterialSerializer.Meta.fields), "sort": "chemsys"},
        {"fields": " elements , hull_set", "elements": "Li"},
    ],
)
def test_list_rows_are_exactly_the_serializers_output(client, params):
    """The list builds its items from .values() rows; they must be what MaterialSerializer makes of the
    entries, field for field and in the same order."""
    rows, _ = all_rows(client, page_size=500, **params)
    search = EntrySearch.from_params({"sort": "id", **params})
    request = Request(APIRequestFactory().get("/api/v1/materials/", params))
    expected = json.loads(
        JSONRenderer().render(
            MaterialSerializer(list(search_entries(search)), many=True, context={"request": request}).data
        )
    )
    assert rows == expected and len(rows) > 10
    assert [list(row) for row in rows] == [list(row) for row in expected]


def test_unknown_fields_are_named_with_the_choices(client):
    body = client.get("/api/v1/materials/", {"fields": "public_id,nope,zzz"}).json()
    choices = ", ".join(MaterialSerializer.Meta.fields)
    assert body["fields"] == f"unknown field(s) nope, zzz; choose from {choices}"


def test_cursor_pages_cover_everything_once_with_a_maximum_size(client, catalogue):
    rows, pages = all_rows(client, page_size=50)
    assert len(rows) == len(catalogue) == len({r["public_id"] for r in rows})
    assert pages == -(-len(catalogue) // 50)
    body = client.get("/api/v1/materials/", {"page_size": 100000}).json()
    assert body["page_size"] == KeysetCursorPagination.max_page_size


@pytest.mark.parametrize("sort", ["", "-nsites", "created_at"])
def test_cursor_pages_are_stable_while_a_round_inserts(client, catalogue, tmp_path, lifeo_items, sort):
    first = client.get("/api/v1/materials/", {"page_size": 100, "sort": sort}).json()
    seen = [r["public_id"] for r in first["results"]]
    # a round ingests new entries (some sort before, some after the cursor) while the client pages
    extra = []
    for i, item in enumerate(lifeo_items[:30]):
        new = dict(item, entry_id=f"round-{i}")
        new["energy"] = item["energy"] + (-0.5 if i % 2 else 3.0) * sum(item["composition"].values())
        extra.append(new)
    ingest_items(tmp_path, extra, source="round-1")
    response = client.get(first["next"])
    while True:
        body = response.json()
        seen += [r["public_id"] for r in body["results"]]
        if not body["next"]:
            break
        response = client.get(body["next"])
    assert len(seen) == len(set(seen))  # nothing repeated
    originals = set(Entry.objects.exclude(source="round-1").values_list("public_id", flat=True))
    assert originals <= set(seen)  # nothing skipped


def test_pagination_refuses_unordered_querysets():
    request = APIRequestFactory().get("/api/v1/materials/")
    from rest_framework.request import Request

    with pytest.raises(ImproperlyConfigured):
        KeysetCursorPagination().paginate_queryset(Entry.objects.order_by(), Request(request))
    with pytest.raises(ImproperlyConfigured):
        KeysetCursorPagination().paginate_queryset(Entry.objects.order_by("nsites"), Request(request))


def test_family_flags_and_round_filter(client, catalogue):
    layered, bulk = Entry.objects.filter(chemsys_id="Li-O")[:2]
    EntryFeatures.objects.create(entry=layered, dimensionality_cheon=2)
    EntryFeatures.objects.create(entry=bulk, dimensionality_cheon=3)
    ids = [r["public_id"] for r in client.get("/api/v1/materials/", {"layered": "true"}).json()["results"]]
    assert ids == [layered.public_id]
    ids = [r["public_id"] for r in client.get("/api/v1/materials/", {"layered": "false"}).json()["results"]]
    assert ids == [bulk.public_id]

    # no band gap known: no candidate (hull.family_rules)
    assert all_rows(client, li_conductor="true")[0] == []
    Entry.objects.filter(composition__has_key="Li").update(band_gap=5.0)
    cache.clear()  # an update outside the ingest path leaves the catalogue state, and the kept reads, as they were
    conductors, _ = all_rows(client, li_conductor="true")
    assert conductors and all(
        "Li" in r["elements"] and "Fe" not in r["elements"] and r["e_above_hull"] <= 0.05 for r in conductors
    )
    wider, _ = all_rows(client, li_conductor="true", li_conductor_max_e_above_hull="0.5")
    assert len(wider) > len(conductors)

    batch = Entry.objects.first().batch
    Round.objects.create(number=7, batch=batch)
    rows, _ = all_rows(client, round=7)
    assert len(rows) == Entry.objects.filter(batch=batch).count()
    assert client.get("/api/v1/materials/", {"round": 8}).json()["results"] == []


def test_detail_is_exactly_the_serializers_output(client, catalogue, tmp_path, lifeo_items):
    """The page is built from .values() rows; it must be what MaterialDetailSerializer makes of the entry,
    with and without features and a discovery round, and for an ML result (a row in the "all" hull set only)."""
    layered, bulk = Entry.objects.filter(chemsys_id="Li-O")[:2]
    EntryFeatures.objects.create(entry=layered, dimensionality_cheon=2, prototype_key="AB_1")
    EntryFeatures.objects.create(entry=bulk)
    Round.objects.create(number=3, batch=layered.batch)
    li2o = next(item for item in lifeo_items if item["composition"] == {"Li": 2.0, "O": 1.0})
    ingest_items(tmp_path, [dict(li2o, entry_id="ml-1")], name="ml", source="ml", method_family="ml")
    ml = Entry.objects.get(source="ml")
    assert [
        s["hull_set"] for s in client.get(f"/api/v1/materials/{ml.public_id}/").json()["stabilities"]
    ] == ["all"]
    entries = MaterialDetailView.queryset.order_by("id")
    assert entries.count() == len(catalogue) + 1
    for entry in entries:
        body = client.get(f"/api/v1/materials/{entry.public_id}/").json()
        expected = json.loads(JSONRenderer().render(MaterialDetailSerializer(entry).data))
        assert body == expected and list(body) == list(expected)
    assert expected["discovery_round"] is None and expected["stabilities"]  # the ML entry, last by id
    assert client.get(f"/api/v1/materials/{layered.public_id}/").json()["discovery_round"] == 3
    assert client.get(f"/api/v1/materials/{layered.public_id}/").json()["features"]["layered"] is True
    assert client.get(f"/api/v1/materials/{bulk.public_id}/").json()["features"]["layered"] is None


def test_detail_has_everything_and_structure_files(client):
    entry = Entry.objects.filter(nsites__lte=8).first()
    body = client.get(f"/api/v1/materials/{entry.public_id}/").json()
    assert body["public_id"] == entry.public_id and body["energy"] == pytest.approx(entry.energy)
    assert {s["hull_set"] for s in body["stabilities"]} == {"dft", "all"}
    assert body["batch"]["source"] == "mp" and body["discovery_round"] is None
    structure = Structure.from_dict(body["structure"])
    assert structure.composition.reduced_formula == entry.reduced_formula

    cif = client.get(f"/api/v1/materials/{entry.public_id}/", {"format": "cif"})
    assert cif.status_code == 200 and cif["Content-Type"].startswith("chemical/x-cif")
    parsed = CifParser.from_str(cif.content.decode()).parse_structures(primitive=False)[0]
    assert parsed.composition.reduced_formula == entry.reduced_formula
    poscar = client.get(f"/api/v1/materials/{entry.public_id}/", {"format": "poscar"}).content.decode()
    assert Structure.from_str(poscar, fmt="poscar").composition == structure.composition
    extxyz = client.get(f"/api/v1/materials/{entry.public_id}/", {"format": "extxyz"}).content.decode()
    lines = extxyz.splitlines()
    assert int(lines[0]) == len(structure) and "Lattice=" in lines[1] and len(lines) == len(structure) + 2
    assert client.get(f"/api/v1/materials/{entry.public_id}/", {"format": "xyz"}).status_code == 400
    assert client.get("/api/v1/materials/mdp-nope/").status_code == 404


def test_export_streams_json_lines_and_gzip(client):
    response = client.get("/api/v1/materials/export/", {"elements": "Li"})
    assert response.streaming and response["Content-Type"] == "application/x-ndjson"
    lines = b"".join(response.streaming_content).decode().splitlines()
    expected, _ = all_rows(client, elements="Li")
    assert [json.loads(line)["public_id"] for line in lines] == [r["public_id"] for r in expected]
    packed = client.get("/api/v1/materials/export/", {"elements": "Li", "compress": "gzip", "structure": "1"})
    rows = [json.loads(line) for line in gzip.decompress(b"".join(packed.streaming_content)).splitlines()]
    assert len(rows) == len(lines) and Structure.from_dict(rows[0]["structure"])
    assert client.get("/api/v1/materials/export/", {"elements": "Qq"}).status_code == 400


def test_phase_diagram_endpoint_is_the_selector(client):
    body = client.get("/api/v1/phase-diagrams/O-Li-Fe/", {"hull_set": "dft"}).json()
    data = phase_diagram_get(chemsys="Fe-Li-O")
    assert body["chemsys"] == "Fe-Li-O" and body["stable_keys"] == data.stable_keys
    assert body["facets"] == data.facets and len(body["entries"]) == len(data.entries)
    by_key = {e.key: e for e in data.entries}
    for item in body["entries"]:
        assert item["e_above_hull"] == pytest.approx(by_key[item["key"]].e_above_hull)
    assert client.get("/api/v1/phase-diagrams/Li-Xx/").status_code == 400
    assert client.get("/api/v1/phase-diagrams/Fe-Li-O/", {"hull_set": "nope"}).status_code == 400


def test_stability_check_writes_nothing(client):
    before = Entry.objects.count()
    payload = {"composition": {"Li": 1, "Fe": 1, "O": 2}, "energy_per_atom": -6.9}
    body = client.post("/api/v1/stability/", payload, format="json").json()
    expected = hypothetical_stability(composition={"Li": 1.0, "Fe": 1.0, "O": 2.0}, energy_per_atom=-6.9)
    assert body["e_above_hull"] == pytest.approx(expected["e_above_hull"])
    assert body["decomposition"] == expected["decomposition"]
    structure = Structure.from_dict(Entry.objects.filter(reduced_formula="Li2O").first().structure)
    by_structure = client.post(
        "/api/v1/stability/",
        {"structure": structure.as_dict(), "energy": -4.0 * len(structure)},
        format="json",
    ).json()
    assert by_structure["chemsys"] == "Li-O"
    assert Entry.objects.count() == before
    for bad in (
        {"composition": "LiFeO2"},
        {"composition": "Xx2", "energy": 1.0},
        {"composition": "LiO", "structure": {}, "energy": 1.0},
        {"structure": {"lattice": 1}, "energy": 1.0},
        {"composition": "Li", "energy_per_atom": "nan"},
    ):
        assert client.post("/api/v1/stability/", bad, format="json").status_code == 400, bad


@pytest.mark.parametrize("sort", ["e_above_hull", "-e_above_hull", "-formation_energy_per_atom"])
@pytest.mark.parametrize("hull_set", ["dft", "all"])
def test_cursor_pages_cross_from_entries_with_a_value_to_those_without(
    client, catalogue, tmp_path, lifeo_items, sort, hull_set
):
    """A stability sort with no stability condition is served in two parts (entries with a value, then those
    without: ML results in "dft", sulfides with no sulfur reference in both); paging through them gives the
    single query's rows in its order."""
    ingest_entries_without_values(tmp_path, lifeo_items)
    params = {"sort": sort, "hull_set": hull_set, "exclude_elements": "Fe"}
    rows, pages = all_rows(client, page_size=4, **params)
    search = EntrySearch.from_params(params)
    expected = list(search_entries(search).values_list("public_id", flat=True))
    assert [row["public_id"] for row in rows] == expected
    assert pages == -(-len(expected) // 4)
    without = [row for row in rows if row[sort.lstrip("-")] is None]
    assert len(without) == (3 if hull_set == "dft" else 1) and rows[-len(without) :] == without


LIST, EXPORT = "/api/v1/materials/", "/api/v1/materials/export/"


def answer(client, url: str, query: str):
    """The status and JSON body of a GET (an export's stream read to its end, so that an error while streaming
    shows); the body is None where it is not JSON."""
    response = client.get(f"{url}?{query}")
    if response.streaming:
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    try:
        return response.status_code, json.loads(content)
    except ValueError:
        return response.status_code, None


@pytest.mark.parametrize("url", [LIST, EXPORT])
@pytest.mark.parametrize(
    ("query", "unknown", "guess"),
    [
        ("is_stabel=true", "is_stabel", "is_stable"),
        ("energy_above_hull_max=0", "energy_above_hull_max", "e_above_hull_max"),
        ("num_elements=2", "num_elements", "nelements_min"),
        ("elements=Li&li_conductr=yes", "li_conductr", "li_conductor"),
        ("limit=3", "limit", None),
    ],
)
def test_unknown_parameters_are_refused_with_the_known_ones(client, url, query, unknown, guess):
    status, body = answer(client, url, query)
    assert status == 400, body
    assert set(body["unknown"]) == {unknown}
    assert guess in body["unknown"][unknown] if guess else body["unknown"][unknown] == []
    assert repr(unknown) in body["detail"] and (guess is None or "did you mean" in body["detail"])
    assert "is_stable" in body["known"] and ("cursor" in body["known"]) == (url == LIST)


@pytest.mark.parametrize("url", [LIST, EXPORT])
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("layered=maybe", "layered"),
        ("li_conductor=sometimes", "li_conductor"),
        ("is_stable=maybe", "is_stable"),
        ("nsites_min=2.5", "nsites_min"),
        ("chemsys=Li-O&chemsys=Fe-O", "chemsys"),
        ("formula=Li2O&formula=Fe2O3", "formula"),
        ("formula=Li1e400O", "formula"),
        ("batch=9223372036854775808", "batch"),
        ("nsites_max=-9223372036854775809", "nsites_max"),
        ("round=99999999999999999999", "round"),
        ("spacegroup_number=1e400", "spacegroup_number"),
        ("e_above_hull_max=nan", "e_above_hull_max"),
        ("anonymous_formula=A" + "9" * 400, "anonymous_formula"),
        ("hull_set=dft&hull_set=r2scan", "hull_set"),
    ],
)
def test_bad_values_and_repeats_are_400_naming_the_parameter(client, url, query, name):
    status, body = answer(client, url, query)
    assert status == 400, body
    assert name in body or name in body["detail"], body


@pytest.mark.parametrize("query", ["page_size=5&page_size=6", "fields=public_id&fields=formula"])
def test_page_parameters_take_one_value(client, query):
    status, body = answer(client, LIST, query)
    assert status == 400 and query.split("=")[0] in body["detail"]


@pytest.mark.parametrize(
    ("query", "name"), [("compress=zip", "compress"), ("structure=perhaps", "structure")]
)
def test_export_options_refuse_what_they_cannot_read(client, query, name):
    status, body = answer(client, EXPORT, f"elements=Li&{query}")
    assert status == 400 and name in body


def test_list_parameters_combine_repeats_and_yes_means_true(client):
    combined, _ = all_rows(client, elements=["Li", "O"], page_size=100)
    assert [r["public_id"] for r in combined] == [
        r["public_id"] for r in all_rows(client, elements="Li,O")[0]
    ]
    assert combined and all({"Li", "O"} <= set(r["elements"]) for r in combined)
    same, _ = all_rows(client, chemsys=["Li-O", "Li-O"])  # a repeat of the same value reads as one
    assert {r["chemsys"] for r in same} == {"Li-O"}
    Entry.objects.filter(composition__has_key="Li").update(band_gap=5.0)  # conductors need a known band gap
    cache.clear()
    yes, _ = all_rows(client, li_conductor="yes")
    assert [r["public_id"] for r in yes] == [r["public_id"] for r in all_rows(client, li_conductor="true")[0]]
    assert 0 < len(yes) < Entry.objects.count()


def test_material_ids_match_portal_or_source_ids(client):
    first, second = Entry.objects.order_by("id")[:2]
    query = {"material_ids": [first.public_id, f"{second.source_id},nothing-1"]}
    rows, _ = all_rows(client, **query)
    assert [r["public_id"] for r in rows] == [first.public_id, second.public_id]
    exported = [json.loads(line) for line in client.get(EXPORT, query).streaming_content]
    assert [r["public_id"] for r in exported] == [first.public_id, second.public_id]


def cursor(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode()


@pytest.mark.parametrize("sort", ["id", "e_above_hull", "-nsites", "formula", "created_at"])
@pytest.mark.parametrize(
    "payload",
    [
        '{"v":1e400,"id":1}',
        '{"v":1,"id":1e400}',
        '{"v":1,"id":9223372036854775808}',
        '{"v":-9223372036854775809,"id":1}',
        '{"v":1,"id":"1"}',
        '{"v":[1],"id":1}',
        '{"v":true,"id":1}',
        '{"t":"0001-01-01T00:00:00+14:00","id":1}',
        '{"t":"not a date","id":1}',
        '{"v":"\\u0000","id":1}',
        "[1, 2]",
        "garbage",
    ],
)
def test_invalid_cursors_are_400(client, sort, payload):
    status, body = answer(client, LIST, f"sort={sort}&cursor={cursor(payload)}")
    assert status == 400 and "cursor" in body, body


def test_unknown_api_addresses_answer_json_404(client):
    for method in (client.get, client.post, client.delete):
        response = method("/api/v1/nope/")
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert "/api/v1/nope/" in response.json()["detail"]
    response = client.get("/api/v1/materials/export/extra/")
    assert response.status_code == 404 and response.json()["detail"]
    assert client.get("/api/v1/nope").status_code == 404
    redirect = client.get("/api/v1/materials?elements=Li")  # APPEND_SLASH as before
    assert redirect.status_code == 301 and redirect["Location"] == "/api/v1/materials/?elements=Li"


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("formula=Li1e400O", "formula"),
        ("batch=9223372036854775808", "batch"),
        ("nsites_min=9223372036854775808", "nsites_min"),
        ("chemsys=Li-O&chemsys=Fe-O", "chemsys"),
    ],
)
def test_search_page_shows_a_form_error_for_out_of_range_numbers(client, query, name):
    response = client.get(f"/search/?{query}")
    assert response.status_code == 400
    assert name in response.content.decode()
