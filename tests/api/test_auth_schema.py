"""Auth (tokens, staff, CSRF for sessions, throttling), the OpenAPI schema and the local Swagger UI."""

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from discovery.permissions import LAUNCH_ROUND
from portal.api.tokens import api_token_create
from portal.models import ApiToken
from tests.conftest import grant
from tests.html_assets import asset_urls, remote_asset_urls

pytestmark = pytest.mark.django_db


def _shown_key(page) -> str:
    html = page.content.decode()
    return html.split('<pre id="token-key">Authorization: Token ', 1)[1].split("</pre>", 1)[0]


def test_token_page_needs_login_shows_a_new_key_once_and_replaces_it():
    client = Client()
    response = client.get("/api/token/")
    assert response.status_code == 302 and "/api/auth/login/" in response["Location"]
    user = get_user_model().objects.create_user("ada", password="pw")
    client.force_login(user)
    page = client.get("/api/token/")
    assert page.status_code == 200 and "no API token yet" in page.content.decode()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    assert csrf_client.post("/api/token/").status_code == 403  # CSRF kept for sessions
    made = client.post("/api/token/")
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    key = _shown_key(made)
    token = ApiToken.objects.get(user=user)
    assert token.digest == hashlib.sha256(key.encode()).hexdigest() and token.prefix == key[:8]
    later = client.get("/api/token/").content.decode()
    assert key not in later and token.prefix in later  # shown once
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/rounds/").status_code == 200
    replaced = _shown_key(client.post("/api/token/"))
    assert replaced != key and ApiToken.objects.filter(user=user).count() == 1
    assert api.get("/api/v1/rounds/").status_code == 401  # the old key stopped working


def test_tokens_are_stored_hashed_and_authenticate():
    user = get_user_model().objects.create_user("grace", password="pw")
    key = api_token_create(user=user)
    stored = ApiToken.objects.values_list("digest", "prefix").get(user=user)
    assert key not in stored[0] and stored == (hashlib.sha256(key.encode()).hexdigest(), key[:8])
    for column in ApiToken._meta.concrete_fields:  # the key is nowhere in the row
        assert str(getattr(ApiToken.objects.get(user=user), column.attname)) != key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/rounds/")
    assert response.status_code == 200 and response.wsgi_request.user == user
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {key[:-1]}{'1' if key[-1] == '0' else '0'}"
    )  # one digit off
    assert client.get("/api/v1/rounds/").status_code == 401
    user.is_active = False
    user.save()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/rounds/").status_code == 401


def test_session_writes_need_csrf_and_tokens_do_not(active_models):
    staff = get_user_model().objects.create_user("boss", password="pw", is_staff=True)
    grant(staff, LAUNCH_ROUND)
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(staff)
    response = session.post("/api/v1/rounds/", {"config": {"elements": ["Li"]}}, format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    token = APIClient(enforce_csrf_checks=True)
    token.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=staff)}")
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
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)}")
    assert client.get("/api/v1/rounds/").status_code == 200  # users have their own, larger budget


def retry_after(response) -> int:
    """The 429's ``Retry-After``: whole seconds, at least 1 and at most two periods of a one-minute rate."""
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 120
    return seconds


def test_optimade_has_its_own_throttle_and_every_429_says_when_to_come_back(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "2/min",
            "optimade": "3/min",
            "page_anon": "2/min",
        },
    }
    client = Client()
    rest = [client.get("/api/v1/rounds/") for _ in range(3)]
    assert [r.status_code for r in rest] == [200, 200, 429]
    retry_after(rest[-1])
    # the REST budget is spent; OPTIMADE (its /info included) counts on its own
    optimade = [client.get(url) for url in ("/optimade/v1/info", "/optimade/versions", "/optimade/v1/links")]
    assert [r.status_code for r in optimade] == [200, 200, 200]
    refused = client.get("/optimade/v1/structures")
    assert refused["Content-Type"] == "application/vnd.api+json"
    body = refused.json()
    assert body["errors"][0]["status"] == "429" and "data" not in body
    assert body["meta"]["request_delay"] == float(retry_after(refused))  # the same advice both ways
    assert client.get("/api/v1/rounds/").status_code == 429  # and the REST count did not move on
    pages = [client.get("/families/") for _ in range(3)]
    assert [r.status_code for r in pages] == [200, 200, 429]
    retry_after(pages[-1])


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


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def anonymous(address: str):
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.test import APIRequestFactory

    request = APIRequestFactory().get("/api/v1/materials/", REMOTE_ADDR=address)
    request.user = AnonymousUser()
    return request


def anon_throttle(clock: FakeClock, rate: str):
    from portal.api.throttling import AnonThrottle

    throttle = AnonThrottle()
    throttle.rate = rate
    throttle.num_requests, throttle.duration = throttle.parse_rate(rate)
    throttle.timer = clock
    return throttle


def test_the_throttle_counts_per_window_and_weighs_the_previous_one():
    from django.core.cache import cache

    cache.clear()
    request = anonymous("10.1.2.3")
    clock = FakeClock(6000.0)  # the start of a one-minute window
    allowed = [anon_throttle(clock, "10/min").allow_request(request, None) for _ in range(11)]
    assert allowed == [True] * 10 + [False]
    refused = anon_throttle(clock, "10/min")
    assert not refused.allow_request(request, None)
    assert 60 < refused.wait() <= 120  # into the next window, until the weighted 10 drop to 9
    clock.now = 6000.0 + 90  # half-way through the next window: the previous 10 weigh 5
    assert [anon_throttle(clock, "10/min").allow_request(request, None) for _ in range(6)] == [True] * 5 + [
        False
    ]
    other = anonymous("10.9.9.9")
    assert anon_throttle(clock, "10/min").allow_request(other, None)  # each address has its own count
    cache.clear()


def test_a_refused_client_is_told_whole_seconds_and_at_least_one():
    from django.core.cache import cache

    cache.clear()
    request = anonymous("10.4.4.4")
    clock = FakeClock(6000.0)
    assert all(anon_throttle(clock, "10/min").allow_request(request, None) for _ in range(10))
    clock.now = 6060.0 + 5.9  # the previous window's 10 weigh 9.02, counted as 10: refused for another 0.1 s
    refused = anon_throttle(clock, "10/min")
    assert not refused.allow_request(request, None)
    assert refused.wait() == 1  # not 0 ("retry at once", refused again), nor a fraction
    clock.now += 1
    assert anon_throttle(clock, "10/min").allow_request(request, None)
    cache.clear()


def test_the_throttle_keeps_its_bounds_over_random_traffic():
    """Over random arrivals: never more than the rate within a window, never more than twice the rate in any
    period, and a refused client that waits as told is let in."""
    import random

    from django.core.cache import cache

    rng = random.Random(5)
    for trial in range(20):
        cache.clear()
        request = anonymous(f"10.0.0.{trial}")
        clock = FakeClock(1_000_000.0 + rng.uniform(0, 60))
        rate, period = rng.randint(1, 12), 60
        granted = []
        for _ in range(300):
            clock.now += rng.expovariate(1 / rng.choice([0.5, 3, 20]))
            throttle = anon_throttle(clock, f"{rate}/min")
            if throttle.allow_request(request, None):
                granted.append(clock.now)
            elif rng.random() < 0.2:
                wait = throttle.wait()
                assert wait is not None and 0 <= wait <= 2 * period
                clock.now += wait + 1e-6
                assert anon_throttle(clock, f"{rate}/min").allow_request(request, None)
                granted.append(clock.now)
        windows = {}
        for t in granted:
            windows[t // period] = windows.get(t // period, 0) + 1
        assert max(windows.values()) <= rate
        for i, start in enumerate(granted):
            inside = sum(1 for t in granted[i:] if t < start + period)
            assert inside <= 2 * rate
    cache.clear()
