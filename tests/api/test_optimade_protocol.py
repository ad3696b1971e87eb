"""OPTIMADE protocol details, checked against the specification's (v1.2) wording: numbers and dates out of their
range, page_limit=0, unsupported and unknown query parameters, unknown paths and methods. Each error is an
OPTIMADE error document naming the parameter at fault (JSON API ``errors[].source.parameter``)."""

import pytest
from django.conf import settings
from django.test import Client

from hull.models import Entry

pytestmark = pytest.mark.django_db

BASE = "/optimade/v1"
JSON_API = "application/vnd.api+json"
LARGEST = 2**63 - 1


def error_of(response, status: int) -> dict:
    """The single error object of an error document: "the top-level data field MUST be skipped", and "detail MUST
    be present"."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == JSON_API
    body = response.json()
    assert "data" not in body and body["meta"]["api_version"]
    (error,) = body["errors"]
    assert error["status"] == str(status) and error["detail"]
    return error


def warnings_of(response) -> list[dict]:
    """The warnings of a successful document: each "MUST also include the field type, which MUST have the value
    warning", "The field detail MUST be present", "The field status ... MUST NOT be present"."""
    assert response.status_code == 200, response.content[:500]
    warnings = response.json()["meta"].get("warnings", [])
    for warning in warnings:
        assert warning["type"] == "warning" and warning["detail"] and "status" not in warning
    return warnings


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [item["id"] for item in response.json()["data"]]


# --- numbers and dates out of their range ------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["structures", "references"])
@pytest.mark.parametrize("value", [str(LARGEST + 1), "9" * 30, "9" * 5000, "-1", "1e3", "1.5", "0x10", " 5"])
def test_a_page_offset_that_is_no_64_bit_whole_number_is_a_bad_request(catalogue, endpoint, value):
    error = error_of(Client().get(f"{BASE}/{endpoint}", {"page_offset": value}), 400)
    assert error["source"] == {"parameter": "page_offset"} and "page_offset" in error["detail"]


def test_the_largest_page_offset_is_an_empty_last_page(catalogue):
    body = Client().get(f"{BASE}/structures", {"page_offset": str(LARGEST)}).json()
    assert body["data"] == [] and body["links"]["next"] is None and not body["meta"]["more_data_available"]


@pytest.mark.parametrize("value", ["501", str(LARGEST + 1), "9" * 5000])
def test_a_page_limit_above_the_maximum_is_forbidden(catalogue, value):
    """ "The database MAY have a maximum limit and not accept larger numbers (in which case an error code -- 403
    Forbidden -- MUST be returned)"."""
    error = error_of(Client().get(f"{BASE}/structures", {"page_limit": value}), 403)
    assert error["source"] == {"parameter": "page_limit"} and "500" in error["detail"]


@pytest.mark.parametrize(
    "moment",
    [
        "0001-01-01T00:00:00+14:00",  # 31 December of year 0 in UTC
        "0001-01-01T13:59:59+14:00",
        "9999-12-31T23:59:59-14:00",  # year 10000 in UTC
        "9999-12-31T10:00:00-14:00",
    ],
)
def test_a_timestamp_outside_the_calendar_in_utc_is_a_bad_request(catalogue, moment):
    response = Client().get(f"{BASE}/structures", {"filter": f'last_modified > "{moment}"'})
    error = error_of(response, 400)
    assert error["source"] == {"parameter": "filter"} and moment in error["detail"]


@pytest.mark.parametrize(
    ("moment", "everything"),
    [
        ("0001-01-01T00:00:00Z", True),
        ("0001-01-01T14:00:00+14:00", True),  # the first moment of the calendar in UTC
        ("0001-01-01T00:00:00-14:00", True),
        ("9999-12-31T23:59:59Z", False),
        ("9999-12-31T09:59:59-14:00", False),  # the last moment of the calendar in UTC
    ],
)
def test_timestamps_at_the_ends_of_the_calendar_filter(catalogue, moment, everything):
    response = Client().get(f"{BASE}/structures", {"filter": f'last_modified > "{moment}"', "page_limit": 0})
    assert response.status_code == 200, response.content[:500]
    total = Entry.objects.filter(structure__isnull=False).count()
    assert response.json()["meta"]["data_returned"] == (total if everything else 0)


# --- page_limit=0 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["structures", "references"])
def test_page_limit_0_gives_the_counts_and_a_next_link_that_moves_on(catalogue, endpoint):
    """ "next: represents a link to fetch the next set of results": a link to the same empty page would never end.
    It asks for the entries at the same offset with the default limit."""
    client = Client()
    first = client.get(f"{BASE}/{endpoint}", {"page_limit": 0, "page_offset": 1})
    body = first.json()
    assert first.status_code == 200 and body["data"] == [] and body["meta"]["more_data_available"]
    following = client.get(body["links"]["next"])
    assert ids(following) and ids(following) == ids(client.get(f"{BASE}/{endpoint}", {"page_offset": 1}))
    collected, url = [], body["links"]["next"]
    for _ in range(100):  # the walk ends, with every entry past the offset once
        page = client.get(url).json()
        collected += [item["id"] for item in page["data"]]
        url = page["links"]["next"]
        if url is None:
            break
    assert url is None
    assert len(collected) == len(set(collected)) == body["meta"]["data_returned"] - 1


# --- unsupported and unknown query parameters --------------------------------------------------------------


@pytest.mark.parametrize("name", ["page_number", "page_cursor", "page_above", "page_below", "include"])
def test_an_unsupported_standard_parameter_is_ignored_with_a_warning(catalogue, name):
    """The specification names page_number, page_cursor, page_above and page_below as ways to page (offset-based
    pagination is what is served here) and include (related resources, not served): "Non-critical exceptional
    situations occurring in the implementation SHOULD be reported to the referrer as warnings"."""
    client = Client()
    response = client.get(f"{BASE}/structures", {name: "2"})
    (warning,) = warnings_of(response)
    assert warning["title"] == "UnsupportedQueryParameter" and name in warning["detail"]
    assert ids(response) == ids(client.get(f"{BASE}/structures"))  # ignored: the first page


@pytest.mark.parametrize(
    "path", ["/structures", "/structures/{id}", "/references", "/info", "/info/structures", "/links"]
)
@pytest.mark.parametrize("name", ["foo", "filtre", "_exmpl_key", f"_{settings.PORTAL_ID_PREFIX}_unknown"])
def test_an_unknown_query_parameter_is_ignored_with_a_warning(catalogue, path, name):
    """Entry listings: custom parameters "MUST be of the format <database-provider-specific prefix><url_query_
    parameter_name>"; single entries: "URL query parameters not recognized MUST be ignored"; and warnings report
    non-critical situations, "e.g., reporting unrecognized search attributes". The answer is the same as
    without the parameter."""
    client = Client()
    url = BASE + path.format(
        id=Entry.objects.filter(structure__isnull=False).values_list("public_id").first()[0]
    )
    response = client.get(url, {name: "1"})
    (warning,) = warnings_of(response)
    assert warning["title"] == "UnknownQueryParameter" and repr(name) in warning["detail"]
    plain = client.get(url).json()
    assert "warnings" not in plain["meta"]
    assert response.json()["data"] == plain["data"]


def test_the_specifications_parameters_that_change_nothing_give_no_warning(catalogue):
    """api_hint "MUST be accepted by all API endpoints"; response_format and email_address by entry endpoints."""
    query = {"api_hint": "v1", "email_address": "user@example.com", "response_format": "json"}
    for path in ("/structures", "/references", "/info", "/info/structures", "/links"):
        assert warnings_of(Client().get(BASE + path, query)) == []


def test_a_filter_error_names_the_filter_and_a_sort_error_the_sort(catalogue):
    client = Client()
    assert error_of(client.get(f"{BASE}/structures", {"filter": "nsites >"}), 400)["source"] == {
        "parameter": "filter"
    }
    assert error_of(client.get(f"{BASE}/structures", {"sort": "lattice_vectors"}), 400)["source"] == {
        "parameter": "sort"
    }


# --- unknown paths and methods -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/optimade/v1/",
        "/optimade/v1/nothing",
        "/optimade/v1/structures/a/b",
        "/optimade/v1/info/structures/extra",
        "/optimade/v1/info/calculations",
        "/optimade/v1/extensions/anything",
        "/optimade/v1/references/none",
        "/optimade/v1/structures/none",
        "/optimade/index/v1/structures",
        "/optimade/",
    ],
)
def test_an_unknown_path_is_an_optimade_404(catalogue, path):
    error_of(Client().get(path), 404)


def test_a_version_not_served_is_553(catalogue):
    """ "the server SHOULD respond with the custom HTTP server error status code 553 Version Not Supported"."""
    error_of(Client().get("/optimade/v2/info"), 553)


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_a_method_other_than_get_is_an_optimade_405(catalogue, method):
    response = getattr(Client(), method)(f"{BASE}/structures")
    error_of(response, 405)
    assert response["Allow"] == "GET"
