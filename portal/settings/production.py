"""Production: PostgreSQL and Redis from the environment; refuses to start without a secret key. Locked down by
default: HTTPS only (redirect, HSTS, secure cookies), the client address taken behind one trusted proxy (nginx),
and what base.py sets everywhere (throttles on every page and on sign-in with a lockout, the Content Security
Policy, hashed API tokens, the bounded response cache). ``manage.py check --deploy`` reports nothing."""

from django.core.exceptions import ImproperlyConfigured

from portal.settings.base import *  # noqa: F403
from portal.settings.base import REST_FRAMEWORK, SECRET_KEY, env

if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set in the environment for production settings.")

DEBUG = False
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# HTTPS: the proxy terminates TLS and says so in X-Forwarded-Proto (it must set the header, never pass a
# client's on); plain HTTP is redirected, and browsers told to use HTTPS only.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# The documented deployment: gunicorn listens on 127.0.0.1 behind one nginx, which appends the client's address
# to X-Forwarded-For ($proxy_add_x_forwarded_for). A server reachable without the proxy must set 0.
PORTAL_TRUSTED_PROXIES = env.int("PORTAL_TRUSTED_PROXIES", default=1)
REST_FRAMEWORK = {**REST_FRAMEWORK, "NUM_PROXIES": PORTAL_TRUSTED_PROXIES}
