"""The landing pages of the API (/api/, /api/v1/) and of OPTIMADE (/optimade/, /optimade/v1/), and the OPTIMADE
API served again at its unversioned base URL /optimade/ (specification v1.2, "Unversioned base URL")."""

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from hull.models import Entry
from tests.api.test_optimade_protocol import JSON_API, error_of

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HREF = re.compile(r'href="([^"]+)"')


def links_of(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    return [href.replace("&amp;", "&") for href in HREF.findall(response.content.decode())]


def answers(client: Client, url: str) -> int:
    """The status a browser following the link gets."""
    return client.get(url, HTTP_ACCEPT=BROWSER).status_code


# --- /api/ and /api/v1/ -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/", "/api/v1/"])
def test_the_api_landing_links_every_endpoint_and_each_answers(catalogue, path):
    client = Client()
    links = links_of(client.get(path, HTTP_ACCEPT=BROWSER))
    for expected in (
        "/api/docs/",
        "/api/schema/",
        "/api/token/",
        "/api/v1/materials/",
        "/api/v1/materials/export/",
    ):
        assert expected in links
    assert "/api/v1/phase-diagrams/Li-Fe-O/" in links and "/api/v1/stability/" in links
    assert "/optimade/" in links
    listed = client.get(path, HTTP_ACCEPT="application/json").json()["endpoints"]
    api_links = {urlsplit(e["url"]).path for e in listed if "<" not in e["url"]}
    assert api_links <= set(links)
    for url in api_links:
        status = answers(client, url)
        if url == "/api/token/":
            assert status == 302  # sign-in first
        elif url == "/api/v1/stability/":
            assert (
                status == 405
                and "POST" in listed[[urlsplit(e["url"]).path for e in listed].index(url)]["methods"]
            )
        else:
            assert status == 200, url
    detail = next(e for e in listed if "<id>" in e["url"])
    public_id = Entry.objects.values_list("public_id", flat=True).first()
    assert answers(client, urlsplit(detail["url"]).path.replace("<id>", public_id)) == 200


def test_the_api_landing_answers_json_with_absolute_urls(catalogue):
    body = Client().get("/api/v1/", HTTP_ACCEPT="application/json").json()
    assert body["api_version"] == "v1"
    names = [e["name"] for e in body["endpoints"]]
    assert names[0] == "Documentation" and "Stability check" in names and "OPTIMADE" in names
    assert all(e["url"].startswith("http://testserver/") for e in body["endpoints"])


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v1/materials/export/extra/", "/api/v1/x"])
def test_other_addresses_under_api_v1_stay_a_json_404(path):
    response = Client().get(path, HTTP_ACCEPT=BROWSER)
    assert response.status_code == 404 and response.json()["detail"].startswith("no API endpoint")


def test_api_v1_without_its_slash_is_redirected_to_the_landing():
    response = Client().get("/api/v1")
    assert response.status_code == 301 and response["Location"] == "/api/v1/"


# --- /optimade/ ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/optimade/", "/optimade/v1/", "/optimade/v1", "/optimade/index/v1/"])
def test_the_optimade_landing_links_endpoints_that_answer(catalogue, path):
    client = Client()
    links = links_of(client.get(path, HTTP_ACCEPT=BROWSER))
    for expected in ("/optimade/v1/info", "/optimade/v1/structures", "/optimade/index/v1/info"):
        assert expected in links
    for url in links:
        if url.startswith("/optimade/"):
            response = client.get(url, HTTP_ACCEPT=BROWSER)  # followed in a browser
            assert response.status_code == 200, url
            if "structures?filter=" in url:
                assert response.json()["meta"]["data_returned"] > 0


@pytest.mark.parametrize("path", ["/optimade/", "/optimade/v1/", "/optimade/index/v1/"])
def test_programs_at_a_base_url_get_the_optimade_404(path):
    detail = error_of(Client().get(path, HTTP_ACCEPT=JSON_API), 404)["detail"]
    assert "/optimade/v1/info" in detail


def without_time(document: dict) -> dict:
    return {**document, "meta": {k: v for k, v in document["meta"].items() if k != "time_stamp"}}


@pytest.mark.parametrize(
    "path",
    [
        "/info",
        "/info/structures",
        "/links",
        "/references",
        '/structures?filter=elements HAS ALL "Li","Fe" AND nelements=3&page_limit=7',
    ],
)
def test_the_unversioned_base_url_serves_what_v1_serves(catalogue, path):
    client = Client()
    versioned = client.get(f"/optimade/v1{path}")
    unversioned = client.get(f"/optimade{path}")
    assert versioned.status_code == unversioned.status_code == 200
    assert unversioned["Content-Type"] == JSON_API
    first, second = versioned.json(), unversioned.json()
    assert second["meta"]["query"]["representation"] == first["meta"]["query"]["representation"]
    assert first["meta"]["query"]["representation"].startswith(path.split("?")[0])
    for document in (first, second):  # links point at the versioned base URL either way
        document.get("links", {}).pop("next", None)
    assert without_time(second) == without_time(first)


def test_a_structure_at_the_unversioned_base_url(catalogue):
    public_id = Entry.objects.filter(chemsys="Fe-Li-O").values_list("public_id", flat=True).first()
    client = Client()
    first = client.get(f"/optimade/v1/structures/{public_id}").json()
    second = client.get(f"/optimade/structures/{public_id}").json()
    assert second["data"]["id"] == public_id and second["data"] == first["data"]


@pytest.mark.parametrize(
    "path", ["/optimade/nothing", "/optimade/structures/a/b", "/optimade/info/calculations"]
)
def test_unknown_paths_under_the_unversioned_base_url_are_optimade_404s(catalogue, path):
    error_of(Client().get(path), 404)
