"""Sign-in with a lockout: after ``PORTAL_LOGIN_FAILURES`` wrong passwords for one username from one client
(:func:`portal.client_address.client_ident`) within ``PORTAL_LOGIN_LOCKOUT_SECONDS``, that username is refused
from that client, with a message saying so and for how long, for ``PORTAL_LOGIN_LOCKOUT_SECONDS`` (even with
the right password). A successful sign-in clears the count. The API's sign-in page (``/api/auth/login/``) and
the admin's use the same forms; the attempts themselves are also rate-limited per address (the ``login`` throttle
scope, :class:`portal.middleware.PageThrottleMiddleware`).

Counts live in the default cache (Redis in production, shared by every server process).
"""

import hashlib
import math
import time

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import path

from portal.client_address import client_ident


def _key(kind: str, username: str, request: HttpRequest) -> str:
    text = f"{username.strip().lower()}\0{client_ident(request)}"
    return f"login-{kind}:" + hashlib.sha256(text.encode()).hexdigest()


def login_locked_for(*, username: str, request: HttpRequest) -> float:
    """Seconds left of the lockout of ``username`` from this client (0: not locked)."""
    until = cache.get(_key("locked", username, request))
    return max(0.0, until - time.time()) if until else 0.0


def login_failure_record(*, username: str, request: HttpRequest) -> None:
    """Count a wrong password; the count that reaches the limit starts the lockout."""
    seconds = settings.PORTAL_LOGIN_LOCKOUT_SECONDS
    key = _key("failures", username, request)
    if cache.add(key, 1, seconds):
        failures = 1
    else:
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.set(key, 1, seconds)
            failures = 1
    if failures >= settings.PORTAL_LOGIN_FAILURES:
        cache.set(_key("locked", username, request), time.time() + seconds, seconds)
        cache.delete(key)


def login_success_record(*, username: str, request: HttpRequest) -> None:
    cache.delete(_key("failures", username, request))


class LockoutMixin:
    """``clean()`` of an authentication form: refused while locked out; wrong passwords counted."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked_out": "Too many failed sign-ins for this account from your address. "
        "Try again in %(minutes)d minutes.",
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        locked = login_locked_for(username=username, request=self.request)
        if locked:
            raise ValidationError(
                self.error_messages["locked_out"],
                code="locked_out",
                params={"minutes": max(1, math.ceil(locked / 60))},
            )
        try:
            cleaned = super().clean()
        except ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                login_failure_record(username=username, request=self.request)
            raise
        login_success_record(username=username, request=self.request)
        return cleaned


class LockoutAuthenticationForm(LockoutMixin, AuthenticationForm):
    pass


class AdminLockoutAuthenticationForm(LockoutMixin, AdminAuthenticationForm):
    pass


# The sign-in and sign-out of the API and the token page (in place of rest_framework.urls, same names; the page
# in the site's layout, which has no inline styles)
app_name = "rest_framework"
urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="portal/login.html", authentication_form=LockoutAuthenticationForm, next_page="home"
        ),
        name="login",
    ),
    # without a ?next= both go home (not to /accounts/profile/, nor to a logged-out template the site lacks)
    path("logout/", auth_views.LogoutView.as_view(next_page="home"), name="logout"),
]
