"""CORS: browser pages on other origins read the REST API and OPTIMADE (GET, HEAD, preflights), never pages,
the admin, sign-in or the answer of an unsafe method."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ORIGIN = "https://notebook.example.org"
READ_ONLY = [
    "/api/v1/materials/",
    "/api/v1/materials/?page_size=2",
    "/api/v1/phase-diagrams/Li-O/",
    "/api/v1/no-such-path/",  # a JSON 404 is readable too
    "/api/schema/",
    "/optimade/v1/info",
    "/optimade/v1/structures?page_limit=1",
    "/optimade/v1/info/structures",
    "/optimade/index/v1/info",
]
NOT_SHARED = ["/", "/search/", "/admin/login/", "/api/auth/login/", "/api/token/"]


@pytest.fixture
def client():
    return Client(HTTP_ORIGIN=ORIGIN)


@pytest.mark.parametrize("path", READ_ONLY)
def test_get_and_head_of_the_apis_are_readable_from_any_origin(client, path):
    for method in (client.get, client.head):
        response = method(path)
        assert response.status_code < 500
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("path", ["/api/v1/materials/", "/optimade/v1/structures"])
def test_a_preflight_is_answered_for_reads_only(client, path):
    response = client.options(
        path, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET", HTTP_ACCESS_CONTROL_REQUEST_HEADERS="accept"
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert set(response["Access-Control-Allow-Methods"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    assert "accept" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("path", NOT_SHARED)
def test_pages_admin_and_sign_in_carry_no_cors_header(client, path):
    response = client.get(path)
    assert response.status_code < 500
    assert "Access-Control-Allow-Origin" not in response
    preflight = client.options(path, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert "Access-Control-Allow-Origin" not in preflight


def test_unsafe_methods_carry_no_cors_header(client):
    check = client.post(
        "/api/v1/stability/",
        {"composition": "Li2O", "energy_per_atom": -4.0},
        content_type="application/json",
    )
    assert check.status_code < 500
    assert "Access-Control-Allow-Origin" not in check
    for method in (client.post, client.put, client.delete):
        response = method("/api/v1/rounds/")
        assert "Access-Control-Allow-Origin" not in response
