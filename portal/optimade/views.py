"""The OPTIMADE v1.2 API: /optimade/v1/ (info, info/<entry>, structures, references, links, versions) and the
index meta-database at /optimade/index/v1/ (info, links).

Counting ``data_returned``: a page that holds the filter's last row knows the count (its offset plus its rows);
otherwise the count of a filter is cached (:func:`portal.response_cache.kept_count`) under a key made of the filter
text and the catalogue state (:func:`hull.selectors.catalogue_state`), so paging through a result counts once; a
new ingest or hull update changes the key and the next page counts afresh. Whole structure pages and structures
are kept per URL and catalogue state as well (:mod:`portal.response_cache`).

References: the papers behind the data and methods, kept in code (:mod:`portal.optimade.references`).

Query parameters: each endpoint names those it reads (with the specification's that change nothing here); any
other is ignored and reported as a warning in ``meta.warnings``. The specification (v1.2): entry listings take its
standard parameters and custom ones of the form ``_<prefix>_<name>``; single entries MUST ignore parameters they
do not recognise; non-critical exceptional situations SHOULD be reported as warnings, such as unrecognised input.
A value out of its range (an integer beyond 64 bits, a timestamp whose date leaves the calendar in UTC) answers
400 naming the parameter (``errors[].source.parameter``).

Rate limit: the ``optimade`` throttle scope (:class:`portal.api.throttling.OptimadeThrottle`); a refused request
answers 429 with ``Retry-After`` and the same number of seconds as ``meta.request_delay``.
"""

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse

from hull.hull_sets import DEFAULT_HULL_SET
from hull.selectors.search import Page, Window, search_count, search_page
from portal.api.throttling import OptimadeThrottle, throttle_exempt
from portal.optimade import filters, references, resources
from portal.response_cache import json_bytes, kept_count, kept_json

API_VERSION = "1.2.0"
DEFAULT_PAGE_LIMIT = 20
MAX_PAGE_LIMIT = 500
MAX_INTEGER = 2**63 - 1  # integers are 64-bit in the database and in its queries' OFFSET
ENTRY_TYPES = ("structures", "references")
JSON_API = "application/vnd.api+json"
# The query parameters each kind of endpoint reads, and the specification's that change nothing here; the same
# sets name the parameters of a kept structure and page of them (portal/response_cache.py)
PARAMETERS = frozenset({"api_hint", "response_format", "email_address"})
ENTRY_PARAMETERS = PARAMETERS | {"response_fields"}
PAGE_PARAMETERS = ENTRY_PARAMETERS | {"filter", "sort", "page_limit", "page_offset"}
# The specification's parameters that this implementation does not support, with what it does instead
UNSUPPORTED_PARAMETERS = {
    **dict.fromkeys(
        ("page_number", "page_cursor", "page_above", "page_below"),
        "pages are chosen with page_offset and page_limit",
    ),
    "include": "no related resources are included",
}


class OptimadeError(Exception):
    """An error document: ``parameter`` names the query parameter at fault; ``retry_after`` (seconds) comes with
    a 429."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        parameter: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.parameter, self.retry_after = parameter, retry_after


_BASE_PATH = re.compile(r"^.*?/optimade(?:/index)?(?:/v1)?(?=[/?]|$)")
"""The base URL's path in a request's path (versioned or not, the index's or not): what a representation omits."""


def _base(request: HttpRequest, index: bool = False) -> str:
    return request.build_absolute_uri("/optimade/index/v1" if index else "/optimade/v1").rstrip("/")


def _provider() -> dict:
    return {
        "name": "Materials discovery portal",
        "description": "Computed crystal structures with convex-hull stability and ML-guided discovery rounds",
        "prefix": settings.PORTAL_ID_PREFIX,
        "homepage": None,
    }


def _meta(request: HttpRequest, warnings: Sequence[dict] = (), **extra) -> dict:
    """The common ``meta`` of every document, with the warnings about the request's query parameters
    (:func:`optimade_view`) and ``warnings``."""
    meta = {
        "query": {"representation": _BASE_PATH.sub("", request.get_full_path(), count=1) or "/"},
        "api_version": API_VERSION,
        "more_data_available": False,
        "time_stamp": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "provider": _provider(),
        "implementation": {"name": "materials-discovery-portal", "version": "0.1.0"},
        "schema": {"href": "https://schemas.optimade.org/openapi/v1.2/optimade.json"},
    }
    meta.update(extra)
    warnings = [*getattr(request, "optimade_warnings", ()), *warnings]
    if warnings:
        meta["warnings"] = warnings
    return meta


def _json(payload: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(json_bytes(payload), status=status, content_type=JSON_API)


def optimade_view(parameters: frozenset[str]) -> Callable[[Callable], Callable]:
    """An OPTIMADE endpoint reading the query ``parameters``: GET only, throttled (``optimade`` scope), other
    parameters ignored with a warning; OPTIMADE errors (and filter errors) become error documents."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            request.optimade_warnings = _parameter_warnings(request, parameters)
            try:
                if request.method != "GET":
                    raise OptimadeError(405, "Method Not Allowed", f"{request.method} is not served: use GET")
                _throttle(request)
                return view(request, *args, **kwargs)
            except OptimadeError as exc:
                error = exc
            except filters.FilterNotImplemented as exc:
                error = OptimadeError(501, "Not Implemented", str(exc), parameter="filter")
            except filters.FilterError as exc:
                error = OptimadeError(400, "Bad Request", str(exc), parameter="filter")
            return error_response(request, error)

        return throttle_exempt(wrapped)  # throttled by _throttle

    return decorate


def _parameter_warnings(request: HttpRequest, parameters: frozenset[str]) -> list[dict]:
    """A warning for each query parameter outside ``parameters`` (see the module doc)."""
    warnings = []
    for name in sorted(set(request.GET) - parameters):
        if name in UNSUPPORTED_PARAMETERS:
            title = "UnsupportedQueryParameter"
            detail = f"{name} is not supported and was ignored: {UNSUPPORTED_PARAMETERS[name]}"
        else:
            title = "UnknownQueryParameter"
            detail = f"unknown query parameter {name!r} ignored; this endpoint reads {', '.join(sorted(parameters))}"
        warnings.append({"type": "warning", "title": title, "detail": detail})
    return warnings


def error_response(request: HttpRequest, error: OptimadeError) -> HttpResponse:
    """An OPTIMADE error document; a 429 tells when to come back, in ``Retry-After`` and ``meta.request_delay``."""
    item = {"status": str(error.status), "title": error.title, "detail": error.detail}
    if error.parameter:
        item["source"] = {"parameter": error.parameter}
    extra = {} if error.retry_after is None else {"request_delay": float(error.retry_after)}
    response = _json({"errors": [item], "meta": _meta(request, **extra)}, status=error.status)
    if error.retry_after is not None:
        response["Retry-After"] = str(error.retry_after)
    if error.status == 405:
        response["Allow"] = "GET"
    return response


def _throttle(request: HttpRequest) -> None:
    throttle = OptimadeThrottle()
    if not throttle.allow_request(request, None):
        wait = throttle.wait()
        raise OptimadeError(
            429, "Too Many Requests", f"rate limit reached: retry in {wait} s", retry_after=wait
        )


# --- info, links, versions --------------------------------------------------------------------------------


@optimade_view(PARAMETERS)
def info(request: HttpRequest) -> HttpResponse:
    base = _base(request)
    attributes = {
        "api_version": API_VERSION,
        "available_api_versions": [{"url": f"{base}/", "version": API_VERSION}],
        "formats": ["json"],
        "entry_types_by_format": {"json": list(ENTRY_TYPES)},
        "available_endpoints": ["info", "links", *ENTRY_TYPES],
        "is_index": False,
    }
    return _json({"data": {"type": "info", "id": "/", "attributes": attributes}, "meta": _meta(request)})


@optimade_view(PARAMETERS)
def entry_info(request: HttpRequest, entry: str) -> HttpResponse:
    if entry == "structures":
        properties = resources.info_properties()
        description = "Computed crystal structures of the catalogue (entries that have a structure)"
    elif entry == "references":
        properties = references.info_properties()
        description = "The papers behind the portal's data and methods"
    else:
        raise OptimadeError(
            404, "Not Found", f"no entry type {entry!r}: choose one of {', '.join(ENTRY_TYPES)}"
        )
    data = {
        "id": entry,
        "type": "info",
        "description": description,
        "properties": properties,
        "formats": ["json"],
        "output_fields_by_format": {"json": list(properties)},
    }
    return _json({"data": data, "meta": _meta(request)})


def _links(request: HttpRequest) -> list[dict]:
    root = request.build_absolute_uri("/optimade").rstrip("/")
    common = {"description": "", "homepage": None, "logo": None, "aggregate": "ok"}
    return [
        {
            "id": settings.PORTAL_ID_PREFIX,
            "type": "links",
            "attributes": {
                **common,
                "name": "Materials discovery portal",
                "description": "The portal's catalogue of computed crystal structures",
                "base_url": root,
                "link_type": "child",
            },
        },
        {
            "id": "index",
            "type": "links",
            "attributes": {
                **common,
                "name": "Materials discovery portal index",
                "description": "Index meta-database of the portal",
                "base_url": f"{root}/index",
                "link_type": "root",
            },
        },
    ]


@optimade_view(PARAMETERS)
def links(request: HttpRequest) -> HttpResponse:
    data = _links(request)
    return _json({"data": data, "meta": _meta(request, data_returned=len(data), data_available=len(data))})


@optimade_view(PARAMETERS)
def index_info(request: HttpRequest) -> HttpResponse:
    base = _base(request, index=True)
    attributes = {
        "api_version": API_VERSION,
        "available_api_versions": [{"url": f"{base}/", "version": API_VERSION}],
        "formats": ["json"],
        "entry_types_by_format": {"json": []},
        "available_endpoints": ["info", "links"],
        "is_index": True,
    }
    relationships = {"default": {"data": {"type": "links", "id": settings.PORTAL_ID_PREFIX}}}
    data = {"type": "info", "id": "/", "attributes": attributes, "relationships": relationships}
    return _json({"data": data, "meta": _meta(request)})


@optimade_view(PARAMETERS)
def versions(request: HttpRequest) -> HttpResponse:
    return HttpResponse("version\n1\n", content_type="text/csv; header=present")


@optimade_view(PARAMETERS)
def unsupported_version(request: HttpRequest, version: str, rest: str = "") -> HttpResponse:
    raise OptimadeError(553, "Version Not Supported", f"API version {version!r} is not served; use /v1")


@optimade_view(PARAMETERS)
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    raise OptimadeError(
        404, "Not Found", f"no OPTIMADE endpoint {request.path!r}; start at {_base(request)}/info"
    )


# --- entries -----------------------------------------------------------------------------------------------


STRUCTURES = Q(structure__isnull=False)  # the entries served as structures


def _structure_page(condition: Q, order, window: Window) -> Page:
    """A page of the structures matching ``condition`` (the catalogue's one read, :mod:`hull.selectors.search`),
    with the columns and values that :mod:`portal.optimade.resources` serves."""
    return search_page(
        condition=STRUCTURES & condition,
        hull_set=DEFAULT_HULL_SET,
        order=order,
        columns=resources.COLUMNS,
        computed=resources.COMPUTED,
        window=window,
    )


def _count(condition: Q) -> int:
    return search_count(
        condition=STRUCTURES & condition, hull_set=DEFAULT_HULL_SET, computed=resources.COMPUTED
    )[0]


def _int_param(request: HttpRequest, name: str, default: int, maximum: int = MAX_INTEGER) -> int:
    """A whole-number query parameter: 400 naming it where it is not one or lies beyond 64 bits; 403 above a
    smaller ``maximum`` of ours, as the specification asks of ``page_limit``."""
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    if not re.fullmatch(r"\+?[0-9]+", raw):
        detail = f"{name} must be a whole number from 0 to {MAX_INTEGER}, not {raw[:40]!r}"
        raise OptimadeError(400, "Bad Request", detail, parameter=name)
    digits = raw.lstrip("+").lstrip("0") or "0"
    value = int(digits) if len(digits) <= 19 else MAX_INTEGER + 1  # int() refuses 4,300 digits and more
    if value > maximum and maximum < MAX_INTEGER:  # a limit of ours
        raise OptimadeError(403, "Forbidden", f"{name} may be at most {maximum}", parameter=name)
    if value > maximum:
        detail = f"{name} must be a whole number from 0 to {MAX_INTEGER}, not {raw[:40]}"
        raise OptimadeError(400, "Bad Request", detail, parameter=name)
    return value


def _response_fields(request: HttpRequest, properties) -> tuple[set[str] | None, list[dict]]:
    raw = request.GET.get("response_fields")
    if raw is None:
        return None, []
    wanted = {name.strip() for name in raw.split(",") if name.strip()}
    known = set(properties)
    unknown = sorted(wanted - known)
    warnings = [
        {
            "type": "warning",
            "detail": f"unknown response field {name!r} left out",
            "title": "UnknownResponseField",
        }
        for name in unknown
        if not name.startswith("_") or name.startswith(f"_{settings.PORTAL_ID_PREFIX}_")
    ]
    return wanted & known, warnings


def _order(request: HttpRequest) -> list[tuple[str, bool]]:
    """The request's sort as the catalogue read's order: (column, descending) of each key (id follows)."""
    raw = request.GET.get("sort")
    if not raw:
        return []
    columns = resources.sort_columns()
    order = []
    for item in raw.split(","):
        name = item.strip().lstrip("-")
        if name not in columns:
            raise OptimadeError(
                400,
                "Bad Request",
                f"cannot sort by {name!r}: sortable are {', '.join(columns)}",
                parameter="sort",
            )
        order.append((columns[name], item.strip().startswith("-")))
    return order


@optimade_view(PAGE_PARAMETERS)
def structures(request: HttpRequest) -> HttpResponse:
    return kept_json(request, lambda read: _structures_page(request, read.state), JSON_API, PAGE_PARAMETERS)


def _structures_page(request: HttpRequest, state: tuple) -> dict:
    text = request.GET.get("filter", "").strip()
    condition = filters.parse_filter(text, resources.fields())
    limit = _int_param(request, "page_limit", DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT)
    offset = _int_param(request, "page_offset", 0)
    wanted, warnings = _response_fields(request, resources.fields())
    page = _structure_page(condition, _order(request), Window(limit=limit, offset=offset))
    url = _base(request)
    data = [_select(resources.structure_resource(row, url), wanted) for row in page.rows]
    if not page.more and (page.rows or offset == 0):
        returned = offset + len(page.rows)  # this page holds the last row: nothing to count
    else:
        returned = kept_count("optimade", text, state, lambda: _count(condition))
    counts = {"data_returned": returned, "data_available": _available(state)}
    return _page(
        request, "structures", data, more=page.more, offset=offset, limit=limit, warnings=warnings, **counts
    )


def _available(state: tuple) -> int:
    """The number of structures served (cached like a filter's count)."""
    return kept_count("optimade", "", state, lambda: _count(Q()))


@optimade_view(ENTRY_PARAMETERS)
def structure(request: HttpRequest, public_id: str) -> HttpResponse:
    if "\x00" in public_id:  # no id has one, and PostgreSQL refuses the character in a query
        raise OptimadeError(404, "Not Found", f"no structure with id {public_id!r}")
    return kept_json(
        request, lambda read: _structure_document(request, public_id, read.state), JSON_API, ENTRY_PARAMETERS
    )


def _structure_document(request: HttpRequest, public_id: str, state: tuple) -> dict:
    wanted, warnings = _response_fields(request, resources.fields())
    rows = _structure_page(Q(public_id=public_id), [], Window(limit=1)).rows
    if not rows:
        raise OptimadeError(404, "Not Found", f"no structure with id {public_id!r}")
    row = rows[0]
    meta = _meta(request, warnings, data_returned=1, data_available=_available(state))
    data = _select(resources.structure_resource(row, _base(request)), wanted)
    return {"data": data, "links": {"next": None}, "meta": meta}


def _page(
    request: HttpRequest,
    endpoint: str,
    data: list,
    *,
    more: bool,
    offset: int,
    limit: int,
    warnings: list,
    **counts,
) -> dict:
    """A page of entries with its ``next`` link (offset-based) and meta. After a page of ``page_limit=0`` (the
    counts alone) the next link asks for the entries at the same offset with the default limit: a link to the
    same empty page would never end."""
    links = {"next": None}
    if more:
        params = request.GET.copy()
        params["page_offset"] = str(offset + limit)
        params["page_limit"] = str(limit or DEFAULT_PAGE_LIMIT)
        links["next"] = f"{_base(request)}/{endpoint}?{params.urlencode()}"
    return {
        "data": data,
        "links": links,
        "meta": _meta(request, warnings, more_data_available=more, **counts),
    }


def _select(resource: dict, wanted: set[str] | None) -> dict:
    if wanted is not None:
        resource["attributes"] = {k: v for k, v in resource["attributes"].items() if k in wanted}
    return resource


@optimade_view(PAGE_PARAMETERS)
def reference_list(request: HttpRequest) -> HttpResponse:
    rows = references.references_matching(request.GET.get("filter", "").strip())
    limit = _int_param(request, "page_limit", DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT)
    offset = _int_param(request, "page_offset", 0)
    wanted, warnings = _response_fields(request, references.info_properties())
    url = _base(request)
    page = rows[offset : offset + limit]
    more = len(rows) > offset + limit
    data = [_select(references.reference_resource(row, url), wanted) for row in page]
    counts = {"data_returned": len(rows), "data_available": len(references.REFERENCES)}
    return _json(
        _page(request, "references", data, more=more, offset=offset, limit=limit, warnings=warnings, **counts)
    )


@optimade_view(ENTRY_PARAMETERS)
def reference(request: HttpRequest, reference_id: str) -> HttpResponse:
    wanted, warnings = _response_fields(request, references.info_properties())
    rows = [row for row in references.references_matching("") if row["id"] == reference_id]
    if not rows:
        raise OptimadeError(404, "Not Found", f"no reference with id {reference_id!r}")
    meta = _meta(request, warnings, data_returned=1, data_available=len(references.REFERENCES))
    data = _select(references.reference_resource(rows[0], _base(request)), wanted)
    return _json({"data": data, "links": {"next": None}, "meta": meta})
