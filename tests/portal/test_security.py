"""The deployment locked down (issue 19): the client address behind the trusted proxies for every throttle, so a
forged X-Forwarded-For dodges nothing; throttles on every page and on sign-in, with a lockout; staff names
hidden from the public; rounds launched only with the explicit permission; NUL characters answered 4xx; a
Content Security Policy the pages keep (no inline scripts, styles or handlers); the production settings pass
``check --deploy``. Real settings, the Django test client, the real cache; no mocks."""

import os
import re
import secrets
import string
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.client import RequestFactory
from rest_framework.test import APIClient

from discovery.models import Round
from discovery.permissions import LAUNCH_ROUND
from discovery.services import round_create
from portal.api.tokens import api_token_create
from portal.client_address import client_address, client_ident
from portal.models import ApiToken
from tests.conftest import grant

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
CONFIG = {"elements": ["Li", "O"], "generators": ["substitution"], "budget": 100, "threshold": 0.05}
PAGE_FORM = {
    "elements": "Li, O",
    "generators": ["substitution"],
    "budget": "100",
    "eval_budget": "10",
    "baseline_size": "5",
    "threshold": "0.05",
    "selection": "per_composition",
    "evaluator": "chgnet",
    "ensemble_size": "2",
    "launch_hull_set": "all",
}


def rates(settings, **changes: str) -> None:
    """The settings' own throttle rates, some changed."""
    current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **changes}}


def trusted_proxies(settings, number: int) -> None:
    settings.PORTAL_TRUSTED_PROXIES = number
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": number}


# --- the client address ------------------------------------------------------------------------------------


def _request(remote: str = "127.0.0.1", forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_the_client_address_is_taken_that_many_hops_from_the_right(settings):
    settings.PORTAL_TRUSTED_PROXIES = 0
    assert (
        client_address(_request("10.0.0.1", "1.2.3.4")) == "10.0.0.1"
    )  # no proxy: the header is the client's
    settings.PORTAL_TRUSTED_PROXIES = 1
    assert client_address(_request("127.0.0.1", "6.6.6.6, 203.0.113.7")) == "203.0.113.7"
    assert client_address(_request("127.0.0.1", "203.0.113.7")) == "203.0.113.7"
    assert client_address(_request("127.0.0.1")) == "127.0.0.1"  # not through the proxy
    settings.PORTAL_TRUSTED_PROXIES = 2
    assert client_address(_request("127.0.0.1", "6.6.6.6, 203.0.113.7, 10.0.0.2")) == "203.0.113.7"
    assert client_address(_request("127.0.0.1", "203.0.113.7")) == "127.0.0.1"  # too short: REMOTE_ADDR
    settings.PORTAL_TRUSTED_PROXIES = 1
    # an IPv6 client is counted by its /64, which it can take any address of
    assert client_ident(_request("::1", "2001:db8:1:2::5")) == client_ident(
        _request("::1", "2001:db8:1:2:ff::9")
    )
    assert client_ident(_request("::1", "2001:db8:1:3::5")) != client_ident(
        _request("::1", "2001:db8:1:2::5")
    )
    assert client_ident(_request("::ffff:198.51.100.4")) == "198.51.100.4"


@pytest.mark.django_db
@pytest.mark.parametrize("proxies", [1, 0])
def test_a_forged_x_forwarded_for_does_not_dodge_the_api_throttle(settings, proxies):
    """300 requests, each with a new forged X-Forwarded-For: behind one trusted proxy the address it appended
    (fixed) is counted, without one REMOTE_ADDR is; the settings' own anonymous rate applies."""
    trusted_proxies(settings, proxies)
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"].split("/")[0])
    assert limit < 300
    client = APIClient()
    codes = []
    for i in range(300):
        forged = f"{i // 250 + 10}.{i // 50 % 250}.{i % 250}.{i % 7 + 1}"
        hops = f"{forged}, 203.0.113.7" if proxies else forged
        codes.append(
            client.get("/api/v1/rounds/", HTTP_X_FORWARDED_FOR=hops, REMOTE_ADDR="10.9.8.7").status_code
        )
    assert codes.count(200) <= limit and codes.count(429) >= 300 - limit
    assert codes[:limit] == [200] * limit
    # a different real client has its own budget
    other = "198.51.100.1, 198.51.100.9" if proxies else "6.6.6.6"
    remote = "10.9.8.7" if proxies else "10.1.1.1"
    assert client.get("/api/v1/rounds/", HTTP_X_FORWARDED_FOR=other, REMOTE_ADDR=remote).status_code == 200


@pytest.mark.django_db
def test_a_forged_x_forwarded_for_does_not_dodge_the_page_throttle(settings):
    trusted_proxies(settings, 1)
    limit = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["page_anon"].split("/")[0])
    client = Client()
    codes = [
        client.get("/families/", HTTP_X_FORWARDED_FOR=f"10.0.{i // 250}.{i % 250}, 203.0.113.8").status_code
        for i in range(limit + 20)
    ]
    assert codes == [200] * limit + [429] * 20


# --- pages and sign-in ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/", "/search/?formula=Li2O", "/phase-diagram/?chemsys=Li-O", "/materials/mdp-none/", "/discovery/"],
)
def test_every_page_is_throttled(settings, url):
    rates(settings, page_anon="3/min")
    client = Client()
    codes = [client.get(url).status_code for _ in range(4)]
    assert 429 not in codes[:3] and codes[3] == 429
    refused = client.get(url)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many requests from your address" in refused.content.decode()


@pytest.mark.django_db
def test_signed_in_users_have_their_own_page_budget(settings, django_user_model):
    rates(settings, page_anon="2/min", page_user="4/min")
    client = Client()
    client.force_login(django_user_model.objects.create_user("reader", password="pw"))
    assert [client.get("/families/").status_code for _ in range(5)] == [200] * 4 + [429]


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/auth/login/", "/admin/login/"])
def test_sign_in_attempts_are_throttled_per_address(settings, url):
    rates(settings, login="4/min")
    client = Client()
    codes = [client.post(url, {"username": f"user{i}", "password": "wrong"}).status_code for i in range(6)]
    assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]
    assert (
        "Too many sign-in attempts" in client.post(url, {"username": "x", "password": "y"}).content.decode()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/auth/login/", "/admin/login/"])
def test_repeated_wrong_passwords_lock_the_account_out_from_that_address(settings, django_user_model, url):
    settings.PORTAL_LOGIN_LOCKOUT_SECONDS = 2
    django_user_model.objects.create_user("ada", password="right-horse-battery", is_staff=True)
    attacker = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(settings.PORTAL_LOGIN_FAILURES):
        page = attacker.post(url, {"username": "ada", "password": "wrong"})
        assert page.status_code == 200 and "_auth_user_id" not in attacker.session
    locked = attacker.post(url, {"username": "ADA ", "password": "right-horse-battery"})  # even the right one
    text = locked.content.decode()
    assert locked.status_code == 200 and "_auth_user_id" not in attacker.session
    assert "Too many failed sign-ins for this account from your address" in text and "Try again in" in text
    # the same account from elsewhere, and another account from here, are not locked
    elsewhere = Client(REMOTE_ADDR="198.51.100.60")
    assert elsewhere.post(url, {"username": "ada", "password": "right-horse-battery"}).status_code == 302
    django_user_model.objects.create_user("bob", password="pw-of-bob-1234", is_staff=True)
    assert attacker.post(url, {"username": "bob", "password": "pw-of-bob-1234"}).status_code == 302
    time.sleep(2.1)  # the lockout ends
    again = Client(REMOTE_ADDR="203.0.113.50")
    assert again.post(url, {"username": "ada", "password": "right-horse-battery"}).status_code == 302


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_count(settings, django_user_model):
    django_user_model.objects.create_user("cy", password="pw-of-cy-5678")
    client = Client()
    for _ in range(settings.PORTAL_LOGIN_FAILURES - 1):
        client.post("/api/auth/login/", {"username": "cy", "password": "wrong"})
    assert client.post("/api/auth/login/", {"username": "cy", "password": "pw-of-cy-5678"}).status_code == 302
    client.logout()
    for _ in range(settings.PORTAL_LOGIN_FAILURES - 1):
        client.post("/api/auth/login/", {"username": "cy", "password": "wrong"})
    assert client.post("/api/auth/login/", {"username": "cy", "password": "pw-of-cy-5678"}).status_code == 302


# --- staff names, the launch permission ----------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_users_see_no_staff_usernames(django_user_model):
    staff = django_user_model.objects.create_user("operator-jane", password="pw", is_staff=True)
    round_create(config=CONFIG, user=staff)
    for client in (APIClient(), Client()):
        for url in ("/api/v1/rounds/", "/api/v1/rounds/1/", "/discovery/", "/api/schema/"):
            response = client.get(url)
            assert response.status_code == 200 and b"operator-jane" not in response.content, url
    assert APIClient().get("/api/v1/rounds/1/").json()["created_by"] is None
    reader = APIClient()
    reader.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(user=django_user_model.objects.create_user('reader'))}"
    )
    assert reader.get("/api/v1/rounds/1/").json()["created_by"] is None  # signed in, not staff
    colleague = APIClient()
    colleague.force_authenticate(django_user_model.objects.create_user("colleague", is_staff=True))
    assert colleague.get("/api/v1/rounds/1/").json()["created_by"] == "operator-jane"


@pytest.mark.django_db
def test_staff_without_the_permission_cannot_launch(
    django_user_model, django_capture_on_commit_callbacks, active_models
):
    staff = django_user_model.objects.create_user("plainstaff", password="pw", is_staff=True)
    page = Client()
    page.force_login(staff)
    assert 'id="launch-form"' not in page.get("/discovery/").content.decode()
    assert page.post("/discovery/launch/", PAGE_FORM).status_code == 403
    assert page.get("/admin/discovery/round/add/").status_code == 403
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=staff)}")
    refused = api.post("/api/v1/rounds/", {"config": CONFIG}, format="json")
    assert refused.status_code == 403 and "discovery.launch_round" in refused.json()["detail"]
    assert not Round.objects.exists()
    round_create(config=CONFIG)
    assert api.post("/api/v1/rounds/1/cancel/").status_code == 403
    assert Round.objects.get().status == Round.Status.PENDING

    grant(staff, LAUNCH_ROUND)
    staff = django_user_model.objects.get(pk=staff.pk)  # permissions are cached per user object
    page.force_login(staff)
    assert 'id="launch-form"' in page.get("/discovery/").content.decode()
    with django_capture_on_commit_callbacks():
        assert page.post("/discovery/launch/", PAGE_FORM).status_code == 302
        assert api.post("/api/v1/rounds/", {"config": CONFIG}, format="json").status_code == 201
    assert Round.objects.count() == 3


# --- tokens made before hashing --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_migration_hashes_plain_tokens_and_they_still_authenticate(django_user_model):
    """A database that had DRF's authtoken table: its keys become digests, the plain keys are deleted, and the
    keys their users hold still work."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("portal.migrations.0002_hash_plain_tokens")
    user = django_user_model.objects.create_user("legacy")
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp NOT NULL, "
            "user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [key, "2026-01-02 03:04:05", user.pk],
        )
    migration.hash_plain_tokens(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
        cursor.execute("DROP TABLE authtoken_token")
    token = ApiToken.objects.get(user=user)
    assert token.prefix == key[:8] and token.digest != key and token.created.year == 2026
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/rounds/").wsgi_request.user == user


# --- NUL characters ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/materials/mdp-1%00x/", 404),
        ("/materials/%00/download/cif/", 404),
        ("/api/v1/materials/mdp-1%00/", 404),
        ("/api/v1/phase-diagrams/Li-O%00/", 404),
        ("/optimade/v1/structures/mdp%00", 404),
        ("/search/?formula=Li2O%00", 400),
        ("/search/?source=mp%00&method=x", 400),
        ("/search/?chemsys=Li-%00", 400),
        ("/search/?spacegroup_symbol=P%00", 400),
        ("/search/?anonymous_formula=AB%00", 400),
        ("/search/?%00=1", 400),
        ("/api/v1/materials/?formula=%00", 400),
        ("/api/v1/materials/?method=%00", 400),
        ("/api/v1/materials/export/?source=%00", 400),
        ("/phase-diagram/?chemsys=Li-O%00", 400),
        ("/optimade/v1/structures?filter=id%3D%22%00%22", 400),
        ("/families/li-conductors/?excluded_metals=Fe%00", 400),
    ],
)
def test_nul_characters_answer_4xx(url, status):
    """In the format of the part of the site asked: OPTIMADE's error document, the REST API's detail, a page."""
    response = Client().get(url)
    assert response.status_code == status
    if url.startswith("/optimade/"):
        assert response.json()["errors"][0]["status"] == str(status)
    elif url.startswith("/api/"):
        assert "NUL character" in response.json()["detail"]
    else:
        assert "NUL character" in response.content.decode() and response["Content-Type"].startswith(
            "text/html"
        )


@pytest.mark.django_db
def test_nul_characters_in_a_sign_in_are_refused_not_crashed():
    response = Client().post("/api/auth/login/", {"username": "ada\x00", "password": "x\x00"})
    assert response.status_code == 200 and "Null characters are not allowed" in response.content.decode()


# --- Content Security Policy ---------------------------------------------------------------------------------

INLINE = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline script"),
    (re.compile(r"<style\b", re.I), "style element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_holds_inline_scripts_styles_or_handlers():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        found += [f"{path.relative_to(ROOT)}: {what}" for pattern, what in INLINE if pattern.search(text)]
    assert found == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/search/", "/families/", "/api/docs/", "/api/v1/rounds/", "/optimade/v1/info"]
)
def test_every_response_carries_the_policy(url):
    response = Client().get(url)
    policy = response["Content-Security-Policy"]
    assert policy == django_settings.PORTAL_CSP
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    if url == "/api/docs/":  # the Swagger UI page loads its script from a file, not inline
        html = response.content.decode()
        assert not INLINE[0][0].search(html) and "<style" not in html


def test_the_plotly_style_sheet_is_served_for_the_installed_version():
    import plotly

    response = Client().get(f"/assets/plotly-{plotly.__version__}.css")
    css = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    assert ".js-plotly-plot .plotly .modebar{" in css and ".plotly-notifier" in css
    assert Client().get("/assets/plotly-0.0.0.css").status_code == 404


# --- production settings -------------------------------------------------------------------------------------


def test_check_deploy_reports_nothing_with_the_production_settings():
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_")) and k != "CACHE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        DJANGO_SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        DJANGO_ALLOWED_HOSTS="example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.PORTAL_TRUSTED_PROXIES, s.REST_FRAMEWORK['NUM_PROXIES'], s.SECURE_SSL_REDIRECT, "
            "s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.stdout.split() == ["1", "1", "True", "31536000", "True", "True"], shown.stderr


def test_production_over_plain_http_redirects_and_sends_hsts():
    """Served by Django's own handler with the production settings (a subprocess): plain HTTP is redirected to
    HTTPS, an HTTPS request (as the proxy says) gets HSTS and the policy."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_")) and k != "CACHE_URL"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        DJANGO_SECRET_KEY="s" * 20 + secrets.token_hex(20),
        DJANGO_ALLOWED_HOSTS="example.org",
    )
    code = (
        "import django; django.setup(); from django.test import Client; c = Client();\n"
        "r = c.get('/api/schema/', HTTP_HOST='example.org'); print(r.status_code, r['Location'])\n"
        "r = c.get('/api/schema/', HTTP_HOST='example.org', HTTP_X_FORWARDED_PROTO='https')\n"
        "print(r.status_code, r['Strict-Transport-Security'].replace(' ', ''), 'self' in r['Content-Security-Policy'])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    lines = result.stdout.split("\n")
    assert lines[0] == "301 https://example.org/api/schema/", result.stderr[-3000:]
    assert lines[1] == "200 max-age=31536000;includeSubDomains;preload True"


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()
