"""Auth (tokens, staff, CSRF for sessions, throttling), the OpenAPI schema and the local Swagger UI."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.html_assets import asset_urls, remote_asset_urls

pytestmark = pytest.mark.django_db


def test_token_page_needs_login_and_replaces_the_token():
    client = Client()
    response = client.get("/api/token/")
    assert response.status_code == 302 and "/api/auth/login/" in response["Location"]
    user = get_user_model().objects.create_user("ada", password="pw")
    client.force_login(user)
    page = client.get("/api/token/")
    key = Token.objects.get(user=user).key
    assert page.status_code == 200 and key in page.content.decode()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    assert csrf_client.post("/api/token/").status_code == 403  # CSRF kept for sessions
    assert client.post("/api/token/").status_code == 302
    assert Token.objects.get(user=user).key != key


def test_session_writes_need_csrf_and_tokens_do_not():
    staff = get_user_model().objects.create_user("boss", password="pw", is_staff=True)
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(staff)
    response = session.post("/api/v1/rounds/", {"config": {"elements": ["Li"]}}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    token = APIClient(enforce_csrf_checks=True)
    token.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    assert token.post("/api/v1/rounds/", {"config": {"elements": ["Li"]}}, format="json").status_code == 201


def test_anonymous_reads_are_throttled(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/min", "user": "5/min"},
    }
    client = APIClient()
    codes = [client.get("/api/v1/rounds/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    user = get_user_model().objects.create_user("eve", password="pw")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    assert client.get("/api/v1/rounds/").status_code == 200  # users have their own, larger budget


def test_optimade_is_throttled_too(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "50/min"},
    }
    client = Client()
    codes = [client.get("/optimade/v1/info").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/optimade/v1/info").json()["errors"][0]["status"] == "429"


def test_schema_builds_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/materials/",
        "/api/v1/phase-diagrams/{chemsys}/",
        "/api/v1/stability/",
        "/api/v1/rounds/",
    ):
        assert path in text


def test_swagger_ui_is_served_locally():
    page = Client().get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert asset_urls(page), "the Swagger page loads no assets"
    assert remote_asset_urls(page) == []
    assert Client().get("/api/schema/").status_code == 200
