"""The site's own middleware: requests with NUL characters refused, rate limits on every page and on sign-in,
the Content Security Policy, and CORS for read-only requests."""

from corsheaders.middleware import CorsMiddleware
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.views import APIView

from portal.api.throttling import LoginThrottle, PageAnonThrottle, PageUserThrottle

# Views whose POSTs are sign-in attempts (the "login" throttle scope)
LOGIN_VIEWS = frozenset({"rest_framework:login", "admin:login"})


class RejectNulMiddleware:
    """No address or query parameter of the site holds a NUL character, and PostgreSQL refuses one in a query:
    a path with one answers 404, a query string with one 400, before any view reads it, in the format of the
    part of the site asked (an OPTIMADE error document, the REST API's ``detail``, an error page)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            return _refusal(request, 404, "Not Found", "no such address: it holds a NUL character")
        if any("\x00" in text for name, values in request.GET.lists() for text in (name, *values)):
            return _refusal(request, 400, "Bad Request", "a query parameter holds a NUL character")
        return self.get_response(request)


def _refusal(request: HttpRequest, status: int, title: str, detail: str) -> HttpResponse:
    if request.path.startswith("/optimade/"):
        from portal.optimade.views import OptimadeError, error_response

        return error_response(request, OptimadeError(status, title, detail))
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=status)
    return render(request, "portal/error.html", {"message": f"{title}: {detail}."}, status=status)


class PageThrottleMiddleware:
    """Rate limits on every page (``page_anon`` per address, ``page_user`` per user) and on sign-in attempts
    (``login``, POSTs to :data:`LOGIN_VIEWS`, per address), counted as the API's are
    (:mod:`portal.api.throttling`). REST views are left to DRF's throttles, and views marked
    :func:`portal.api.throttling.throttle_exempt` (OPTIMADE, which applies its own, and static assets) alone.
    A refused request answers 429 with ``Retry-After``."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        view_class = getattr(view_func, "cls", None)
        if (isinstance(view_class, type) and issubclass(view_class, APIView)) or getattr(
            view_func, "throttle_exempt", False
        ):
            return None
        throttles = [PageAnonThrottle(), PageUserThrottle()]
        match = request.resolver_match
        if request.method == "POST" and match is not None and match.view_name in LOGIN_VIEWS:
            throttles.insert(0, LoginThrottle())
        for throttle in throttles:
            if not throttle.allow_request(request, None):
                wait = throttle.wait()
                what = "sign-in attempts" if isinstance(throttle, LoginThrottle) else "requests"
                response = render(
                    request,
                    "portal/error.html",
                    {"message": f"Too many {what} from your address: try again in {wait} s."},
                    status=429,
                )
                response["Retry-After"] = str(wait)
                return response
        return None


class ContentSecurityPolicyMiddleware:
    """The ``Content-Security-Policy`` header (``PORTAL_CSP``) on every response that sets none: scripts, styles
    and everything else from this site only, no inline scripts, styles or handlers (the pages keep theirs in
    ``portal/static``)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.PORTAL_CSP
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        return response


class ReadOnlyCorsMiddleware(CorsMiddleware):
    """django-cors-headers on the addresses of ``CORS_URLS_REGEX`` for GET, HEAD and OPTIONS only (a preflight
    is an OPTIONS request, answered with those methods): a response to any other method carries no CORS header,
    so no page on another origin reads what a write, or a POST that changes nothing, answers."""

    def is_enabled(self, request: HttpRequest) -> bool:
        return request.method in ("GET", "HEAD", "OPTIONS") and super().is_enabled(request)
