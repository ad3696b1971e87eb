"""The project-wide pagination: forward keyset cursors over (sort key, id).

A cursor holds the last row's sort value and id, so the next page is "rows after this one" in the queryset's
order: the catalogue's one read (:func:`hull.selectors.search.search_page`) reads it for a search, and the same
keyset condition (:func:`hull.selectors.search.rows_after`) for any other queryset (rounds). Rows inserted while a client pages (a discovery round ingesting) never shift or repeat the rows it has
not seen yet, and a page costs the same at any depth. The queryset must be ordered by at most one key and
then ``id`` (as a search and the round list are); an unordered or differently ordered
queryset is refused, because paging it would not be stable.

Every page says how many rows the query matches in all (``count``): exact where counting is cheap, else the
database's estimate with ``count_is_estimate`` true (:func:`hull.counting.counted`).
"""

import base64
import binascii
import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, OrderBy, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from hull.counting import counted
from hull.search import INT_MAX, INT_MIN
from hull.selectors.search import InvalidCursor, Order, Window, rows_after, search_page
from portal.api.filters import REPEAT_REFUSED


class KeysetCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 50
    max_page_size = 500
    count: tuple[int, bool] | None = None  # (rows matched, whether an estimate), where the view counted them
    queryset: QuerySet | None = None  # the paged queryset, counted where the view did not count it

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        """A page of ``queryset`` (ordered by [one key,] id) after the request's cursor, and the next cursor."""
        cursor = self.start(request)
        column, descending = self.ordering_of(queryset)
        rows = (
            list(queryset[: self.page_size_now + 1])
            if cursor is None
            else self._read(
                lambda: rows_after([queryset], column, descending, cursor, self.page_size_now + 1)
            )
        )
        self.queryset = queryset
        self.has_next = len(rows) > self.page_size_now
        rows = rows[: self.page_size_now]
        self.next_cursor = None
        if self.has_next and rows:
            last = rows[-1]
            self.next_cursor = self._encode(getattr(last, column) if column else None, last.pk)
        return rows

    def paginate_search(
        self, request, *, condition: Q, hull_set: str, order: Order, columns: Sequence[str]
    ) -> list[dict]:
        """A page of a catalogue search (:func:`hull.selectors.search.search_page`) after the request's cursor, as
        ``.values()`` rows of ``columns``; the view sets :attr:`count`."""
        cursor = self.start(request)
        window = Window(limit=self.page_size_now, after=cursor)
        page = self._read(
            lambda: search_page(
                condition=condition, hull_set=hull_set, order=order, columns=columns, window=window
            )
        )
        self.has_next = page.more
        self.next_cursor = None if page.next_cursor is None else self._encode(*page.next_cursor)
        return page.rows

    @staticmethod
    def _read(read: Callable[[], list]):
        """``read()``; 400 for a cursor whose value does not fit the sort key (made by hand)."""
        try:
            return read()
        except InvalidCursor as exc:
            raise invalid_cursor() from exc

    def start(self, request) -> tuple | None:
        """Read the request's page size and cursor (400 for a bad one of either); the cursor."""
        self.request = request
        self.page_size_now = self._page_size(request)
        return self._decode(request.query_params.get(self.cursor_query_param))

    @staticmethod
    def ordering_of(queryset: QuerySet) -> tuple[str | None, bool]:
        """(sort column or None for id only, descending) of a queryset ordered by [key,] id."""
        order = list(queryset.query.order_by)
        if not queryset.ordered or not order or order[-1] not in ("id", "pk"):
            raise ImproperlyConfigured(
                "cursor pagination needs a queryset ordered by [one key,] id; got "
                f"{order or 'an unordered queryset'}"
            )
        if len(order) == 1:
            return None, False
        if len(order) != 2:
            raise ImproperlyConfigured(f"cursor pagination supports one sort key before id, got {order}")
        key = order[0]
        if isinstance(key, OrderBy) and isinstance(key.expression, F):
            if not key.nulls_last and key.descending:
                raise ImproperlyConfigured("descending cursor keys must put nulls last")
            return key.expression.name, key.descending
        if isinstance(key, str):
            return key.lstrip("-"), key.startswith("-")
        raise ImproperlyConfigured(f"cannot page a queryset ordered by {key!r}")

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        try:
            size = int(raw)  # an integer too long to read (over 4,300 digits) is a ValueError too
        except ValueError as exc:
            raise ValidationError({self.page_size_query_param: f"not an integer: {raw!r}"}) from exc
        if size < 1:
            raise ValidationError({self.page_size_query_param: "must be at least 1"})
        return min(size, self.max_page_size)

    @staticmethod
    def _encode(value, pk: int) -> str:
        if isinstance(value, datetime):
            payload = {"t": value.isoformat(), "id": pk}
        else:
            payload = {"v": value, "id": pk}
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()

    def _decode(self, raw: str | None):
        """(sort value, id) of a cursor; 400 for one this pagination did not make: not base64 JSON, an id that
        is not a whole number the database holds, a value that is not text, a finite number in its range, a
        date or null."""
        if not raw:
            return None
        try:
            payload = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())
            pk = payload["id"]
            value = datetime.fromisoformat(payload["t"]) if "t" in payload else payload["v"]
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeError, RecursionError) as exc:
            raise invalid_cursor() from exc
        if not (_storable(pk) and isinstance(pk, int)) or not (value is None or _storable(value)):
            raise invalid_cursor()
        return value, pk

    def get_next_link(self) -> str | None:
        if not self.next_cursor:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_first_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    def get_paginated_response(self, data) -> Response:
        if self.count is None:
            self.count = counted(self.queryset, settings.PORTAL_EXACT_COUNT_LIMIT)
        count, estimate = self.count
        return Response(
            {
                "count": count,
                "count_is_estimate": estimate,
                "next": self.get_next_link(),
                "page_size": self.page_size_now,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["count", "count_is_estimate", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "how many rows the query matches in all pages: exact, unless count_is_estimate",
                },
                "count_is_estimate": {
                    "type": "boolean",
                    "description": (
                        "true where count is the database's estimate (PostgreSQL's query planner, at least "
                        f"PORTAL_EXACT_COUNT_LIMIT + 1, by default {settings.PORTAL_EXACT_COUNT_LIMIT + 1}): "
                        "a query matching more rows than that is not counted exactly"
                    ),
                },
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "page_size": {"type": "integer"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": f"opaque cursor from the previous page's `next`. {REPEAT_REFUSED}",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"rows per page (default {self.page_size}, at most {self.max_page_size}). {REPEAT_REFUSED}"
                ),
                "schema": {"type": "integer", "minimum": 1},
            },
        ]


def invalid_cursor() -> ValidationError:
    return ValidationError({"cursor": ["invalid cursor: use the `next` link of the previous page"]})


def _storable(value) -> bool:
    """Whether a cursor's value is one the database can compare: text without NUL, a whole number within the
    database's 64-bit range, a finite float or a date with a UTC time (a bool or a JSON list or object is none of them)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return INT_MIN <= value <= INT_MAX
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, datetime):
        try:
            value.astimezone(UTC)  # as the database stores it: a year-1 date east of UTC has no UTC time
        except OverflowError:
            return False
        return True
    return False
