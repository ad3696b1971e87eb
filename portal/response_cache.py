"""Catalogue reads served again, unchanged, while the catalogue has not changed.

A public read of the catalogue (a REST list page or material, a phase diagram, an OPTIMADE page or structure,
the search page's results) depends only on its absolute URL and on the stored catalogue. The catalogue changes
only through the hull services, each of which moves :func:`hull.selectors.catalogue_state` in the transaction
of its write. So a response is kept in Django's cache (a per-process memory cache by default, Redis where
``CACHE_URL`` names it) under its URL and that state, read before the data, and served as long as the state
stays; the next read after a write finds a new key. ``PORTAL_RESPONSE_CACHE_SECONDS`` bounds how long anything written outside the services
(an admin edit) can be served stale; 0 turns the cache off.

The URL in the key is normalised: scheme, host, path, and the query's parameters sorted by name (the values of a
repeated one in their order). Each read names the parameters it knows; a query with any other is answered but
not kept, so junk parameters cannot fill the cache. What is kept is bounded whatever the queries: a read is kept
in one of ``PORTAL_RESPONSE_CACHE_KEYS`` slots (its key's hash modulo that number; a later read hashed to the same
slot takes it over, holding its own key beside its value), and only if it is at most
``PORTAL_RESPONSE_CACHE_ENTRY_BYTES`` long, so the cache never holds more than their product.

The key doubles as a strong ETag: a client that sends it back in ``If-None-Match`` gets ``304 Not Modified``, and
so does one that sends ``*`` (it holds any version) where the read succeeds; an error answers as it would.
Throttling and permissions run before any of this; only successful responses are kept. A kept document is served
byte for byte: an OPTIMADE page's ``meta.time_stamp`` is the time its query ran.
"""

import hashlib
import pickle
from collections.abc import Callable, Collection
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.utils.http import urlencode

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


def normalised_query(request: HttpRequest, known: Collection[str]) -> str | None:
    """The query string with its parameters sorted by name (repeated values kept in order); None where it holds
    a parameter outside ``known``."""
    pairs = [(name, value) for name, values in request.GET.lists() for value in values]
    if any(name not in known for name, _ in pairs):
        return None
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


class CatalogueRead:
    """One read: its key (normalised URL and catalogue state), whether it may be kept (its query names only
    parameters in ``known``) and whether the client already holds its response."""

    def __init__(self, request: HttpRequest, known: Collection[str]) -> None:
        self.state = catalogue_state()
        query = normalised_query(request, known)
        self.keepable = query is not None
        if query is None:
            query = request.META.get("QUERY_STRING", "")
        text = f"{request.scheme}://{request.get_host()}{request.path}?{query}\0{self.state}"
        self.key = "catalogue-read:" + hashlib.sha256(text.encode()).hexdigest()
        self.etag = f'"{self.key[-32:]}"'
        held = _etags(request.headers.get("If-None-Match", ""))
        self.not_modified = self.etag in held
        # "*": the client holds some version of it; true where the read succeeds (an error still answers)
        self.any_held = "*" in held

    def get(self, build: Callable[[], Any]) -> Any:
        """The kept value, or ``build()``'s, kept for the next read (unless the cache is off, the read is not
        keepable or the value too long)."""
        seconds = settings.PORTAL_RESPONSE_CACHE_SECONDS
        if seconds <= 0 or not self.keepable:
            return build()
        slot = f"catalogue-read-slot:{int(self.key[-12:], 16) % max(1, settings.PORTAL_RESPONSE_CACHE_KEYS)}"
        held = cache.get(slot)
        if held is not None and held[0] == self.key:
            return held[1]
        value = build()
        size = len(value) if isinstance(value, bytes) else len(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        if size <= settings.PORTAL_RESPONSE_CACHE_ENTRY_BYTES:
            cache.set(slot, (self.key, value), seconds)
        return value


def kept_count(name: str, text: str, state: tuple, count: Callable[[], Any]) -> Any:
    """``count()``, kept under ``name``, ``text`` (what the count depends on: a filter) and the catalogue state, so
    that paging through a result counts once and the next write counts afresh. Kept ``PORTAL_COUNT_CACHE_SECONDS``
    (0: never) in at most ``PORTAL_RESPONSE_CACHE_KEYS`` slots, as the reads are."""
    seconds = settings.PORTAL_COUNT_CACHE_SECONDS
    if seconds <= 0:
        return count()
    key = f"{name}-count:" + hashlib.sha256(f"{text}\0{state}".encode()).hexdigest()
    slot = f"count-slot:{int(key[-12:], 16) % max(1, settings.PORTAL_RESPONSE_CACHE_KEYS)}"
    held = cache.get(slot)
    if held is not None and held[0] == key:
        return held[1]
    value = count()
    cache.set(slot, (key, value), seconds)
    return value


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def kept_json(
    request: HttpRequest, build: Callable[[CatalogueRead], Any], content_type: str, known: Collection[str]
) -> HttpResponse:
    """The JSON document ``build`` makes (given the read, for its catalogue state), kept as its encoded bytes,
    with its ETag; 304 when the client holds it already. ``known``: the query parameters the read knows."""
    read = CatalogueRead(request, known)
    if read.not_modified:
        response = HttpResponse(status=304)
    else:
        body = read.get(lambda: json_bytes(build(read)))
        response = (
            HttpResponse(status=304) if read.any_held else HttpResponse(body, content_type=content_type)
        )
    response["ETag"] = read.etag
    return response
