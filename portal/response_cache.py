"""Catalogue reads served again, unchanged, while the catalogue has not changed.

A public read of the catalogue (a REST list page or material, a phase diagram, an OPTIMADE page or structure,
the search page's results) depends only on its absolute URL and on the stored catalogue. The catalogue changes
only through the hull services, each of which moves :func:`hull.selectors.catalogue_state` in the transaction
of its write. So a response is kept in Django's cache (a per-process memory cache by default, Redis where
``CACHE_URL`` names it) under its URL and that state, read before the data, and served as long as the state
stays; the next read after a write finds a new key. ``PORTAL_RESPONSE_CACHE_SECONDS`` bounds how long anything written outside the services
(an admin edit) can be served stale; 0 turns the cache off.

The key doubles as a strong ETag: a client that sends it back in ``If-None-Match`` gets ``304 Not Modified``, and
so does one that sends ``*`` (it holds any version) where the read succeeds; an error answers as it would.
Throttling and permissions run before any of this; only successful responses are kept. A kept document is served
byte for byte: an OPTIMADE page's ``meta.time_stamp`` is the time its query ran.
"""

import hashlib
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse

from hull.selectors import catalogue_state

MISSING = object()
_DJANGO_JSON = DjangoJSONEncoder()


def json_bytes(payload: Any) -> bytes:
    """``payload`` as JSON, written with orjson (a page of structures or a phase diagram took longer to encode
    with the standard library than to query). Datetimes are written as DRF writes them (ISO 8601 with every
    digit, ``Z`` for UTC); values orjson has no rule for (decimals, lazy strings) as Django's encoder does."""
    return orjson.dumps(
        payload, default=_DJANGO_JSON.default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z
    )


class CatalogueRead:
    """One read: its key (URL and catalogue state) and whether the client already holds its response."""

    def __init__(self, request: HttpRequest) -> None:
        self.state = catalogue_state()
        text = f"{request.build_absolute_uri()}\0{self.state}"
        self.key = "catalogue-read:" + hashlib.sha256(text.encode()).hexdigest()
        self.etag = f'"{self.key[-32:]}"'
        held = _etags(request.headers.get("If-None-Match", ""))
        self.not_modified = self.etag in held
        # "*": the client holds some version of it; true where the read succeeds (an error still answers)
        self.any_held = "*" in held

    def get(self, build: Callable[[], Any]) -> Any:
        """The kept value, or ``build()``'s, kept for the next read (unless the cache is off)."""
        seconds = settings.PORTAL_RESPONSE_CACHE_SECONDS
        if seconds <= 0:
            return build()
        value = cache.get(self.key, MISSING)
        if value is MISSING:
            value = build()
            cache.set(self.key, value, seconds)
        return value


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def kept_json(request: HttpRequest, build: Callable[[CatalogueRead], Any], content_type: str) -> HttpResponse:
    """The JSON document ``build`` makes (given the read, for its catalogue state), kept as its encoded bytes,
    with its ETag; 304 when the client holds it already."""
    read = CatalogueRead(request)
    if read.not_modified:
        response = HttpResponse(status=304)
    else:
        body = read.get(lambda: json_bytes(build(read)))
        response = (
            HttpResponse(status=304) if read.any_held else HttpResponse(body, content_type=content_type)
        )
    response["ETag"] = read.etag
    return response
