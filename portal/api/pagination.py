"""The project-wide pagination: forward keyset cursors over (sort key, id).

A cursor holds the last row's sort value and id, so the next page is "rows after this one" in the queryset's
order. Rows inserted while a client pages (a discovery round ingesting) never shift or repeat the rows it has
not seen yet, and a page costs the same at any depth. The queryset must be ordered by at most one key and
then ``id`` (as :func:`hull.search.search_entries` and the round list do); an unordered or differently ordered
queryset is refused, because paging it would not be stable.

Every page says how many rows the query matches in all (``count``): exact where counting is cheap, else the
database's estimate with ``count_is_estimate`` true (:func:`hull.counting.counted`).
"""

import base64
import binascii
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, OrderBy, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from hull.counting import counted
from hull.search import INT_MAX, INT_MIN
from portal.api.filters import REPEAT_REFUSED


class KeysetCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 50
    max_page_size = 500
    count: tuple[int, bool] | None = None  # (rows matched, whether an estimate), where the view counted them
    parts: list[QuerySet] = []  # the paged queryset's parts, counted where the view did not count them

    def paginate_queryset(self, queryset: QuerySet | list[QuerySet], request, view=None):
        """A page of ``queryset``, or of consecutive parts (:func:`hull.search.search_parts`: rows with a value
        of the sort key, then rows without one, by id), as if they were one queryset."""
        cursor = self.start(request)
        parts = queryset if isinstance(queryset, list) else [queryset]
        if len(parts) > 2:
            raise ImproperlyConfigured("cursor pagination pages one queryset, or the two parts of a search")
        column, _ = self.ordering_of(parts[0], nulls_absent=len(parts) == 2)
        if len(parts) == 1:
            rows = list(self.page_queryset(parts[0], cursor))
        else:
            valued, unvalued = parts
            rows = self.rows_of_parts(
                cursor,
                lambda after: list(self.valued_queryset(valued, after)),
                lambda after: list(self.unvalued_queryset(unvalued, after)),
            )
        self.parts = parts
        return self.page_of(rows, column)

    @staticmethod
    def count_of(parts: list[QuerySet]) -> tuple[int, bool]:
        """(rows of the parts together, whether an estimate): :func:`hull.counting.counted` of each."""
        counts = [counted(part, settings.PORTAL_EXACT_COUNT_LIMIT) for part in parts]
        return sum(n for n, _ in counts), any(estimate for _, estimate in counts)

    def rows_of_parts(
        self,
        cursor: tuple | None,
        read_valued: Callable[[tuple | None], list | None],
        read_unvalued: Callable[[tuple | None], list | None],
    ) -> list | None:
        """The rows of a page of a search read in two parts (and one more): the first part's after ``cursor``,
        unless the cursor is past them (it has no value), then, where the page is not full, the second part's,
        after the cursor only where it lies within them. ``read_*(after)`` read a part's page after a cursor
        (``None``: from its start); ``None`` where one of them gives ``None``."""
        wanted = self.page_size_now + 1
        rows: list = []
        if cursor is None or cursor[0] is not None:
            rows = read_valued(cursor)
            if rows is None:
                return None
        if len(rows) < wanted:
            rest = read_unvalued(cursor if cursor is not None and cursor[0] is None else None)
            if rest is None:
                return None
            rows = rows + rest[: wanted - len(rows)]
        return rows

    def valued_queryset(self, valued: QuerySet, cursor: tuple | None) -> QuerySet:
        """The rows of a page of a search's first part (the rows with a value of the sort key) after ``cursor``
        (whose value is not ``None``), and one more."""
        column, descending = self.ordering_of(valued, nulls_absent=True)
        after = None if cursor is None else self._after(column, descending, cursor, nulls_follow=False)
        return (valued if after is None else self._filtered(valued, after))[: self.page_size_now + 1]

    def unvalued_queryset(self, unvalued: QuerySet, cursor: tuple | None) -> QuerySet:
        """The rows of a page of a search's second part (the rows without a value, by id) after ``cursor`` (one
        within them: its value is ``None``), and one more."""
        if self.ordering_of(unvalued) != (None, False):
            raise ImproperlyConfigured("the second part of a search is ordered by id alone")
        rest = unvalued if cursor is None else unvalued.filter(pk__gt=cursor[1])
        return rest[: self.page_size_now + 1]

    def start(self, request) -> tuple | None:
        """Read the request's page size and cursor (400 for a bad one of either); the cursor."""
        self.request = request
        self.page_size_now = self._page_size(request)
        return self._decode(request.query_params.get(self.cursor_query_param))

    def page_queryset(self, queryset: QuerySet, cursor: tuple | None) -> QuerySet:
        """The rows of a page of ``queryset`` after ``cursor``, and one more (whether a next page exists)."""
        column, descending = self.ordering_of(queryset)
        after = (
            queryset if cursor is None else self._filtered(queryset, self._after(column, descending, cursor))
        )
        return after[: self.page_size_now + 1]

    @staticmethod
    def _filtered(queryset: QuerySet, after: Q) -> QuerySet:
        """``queryset`` after a cursor: 400 for a cursor whose value does not fit the sort key (made by hand)."""
        try:
            return queryset.filter(after)
        except (ValueError, TypeError, DjangoValidationError) as exc:
            raise invalid_cursor() from exc

    def page_of(self, rows: list, column: str | None) -> list:
        """The page's rows of ``rows`` (a page and one more, sorted by ``column`` and id); sets the next cursor."""
        self.has_next = len(rows) > self.page_size_now
        rows = rows[: self.page_size_now]
        self.next_cursor = None
        if self.has_next and rows:
            last = rows[-1]
            if isinstance(last, dict):  # a .values() queryset: the sort column and id are keys
                value, pk = (last[column] if column else None), last["id"]
            else:
                value, pk = (getattr(last, column) if column else None), last.pk
            self.next_cursor = self._encode(value, pk)
        return rows

    @staticmethod
    def ordering_of(queryset: QuerySet, nulls_absent: bool = False) -> tuple[str | None, bool]:
        """(sort column or None for id only, descending) of a queryset ordered by [key,] id; ``nulls_absent``:
        its sort key has no nulls (the first part of a search), wherever a descending order would put them."""
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
            if not key.nulls_last and key.descending and not nulls_absent:
                raise ImproperlyConfigured("descending cursor keys must put nulls last")
            return key.expression.name, key.descending
        if isinstance(key, str):
            return key.lstrip("-"), key.startswith("-")
        raise ImproperlyConfigured(f"cannot page a queryset ordered by {key!r}")

    @staticmethod
    def _after(column: str | None, descending: bool, cursor: tuple, nulls_follow: bool = True) -> Q:
        """Rows after the cursor's; ``nulls_follow`` adds the rows with no value, which come last."""
        value, pk = cursor
        if column is None:
            return Q(pk__gt=pk)
        if value is None:  # nulls come last: only later nulls remain
            return Q(**{f"{column}__isnull": True, "pk__gt": pk})
        beyond = f"{column}__lt" if descending else f"{column}__gt"
        after = Q(**{beyond: value}) | Q(**{column: value, "pk__gt": pk})
        return after | Q(**{f"{column}__isnull": True}) if nulls_follow else after

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
        count, estimate = self.count if self.count is not None else self.count_of(self.parts)
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
