"""The API's exception handler: the catalogue's one error type becomes a 400 with its message, and so does a
value the database refuses (DataError: a number out of range, a NUL byte). Unknown query parameters are a 400
that lists the known ones, with a "did you mean" for each unknown one; an unknown address under /api/v1/ a JSON
404 (:func:`unknown_path`)."""

import difflib
from collections.abc import Collection

from django.conf import settings
from django.db import DataError
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import resolve
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from hull.errors import CatalogueError


class UnknownParameters(CatalogueError):
    """Query parameters the endpoint does not know; ``body`` is the 400's JSON."""

    def __init__(self, unknown: Collection[str], known: Collection[str]) -> None:
        known = sorted(known)
        guesses = {name: difflib.get_close_matches(name, known, n=3, cutoff=0.6) for name in unknown}
        parts = [
            f"{name!r}" + (f" (did you mean {' or '.join(map(repr, near))}?)" if near else "")
            for name, near in guesses.items()
        ]
        detail = f"unknown query parameter{'s' if len(parts) > 1 else ''} {', '.join(parts)}"
        self.body = {"detail": detail, "unknown": guesses, "known": known}
        super().__init__(detail)


def api_exception_handler(exc, context):
    if isinstance(exc, UnknownParameters):
        return Response(exc.body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, CatalogueError):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DataError):  # a value the database cannot hold (out of range, NUL byte): bad input
        return Response(
            {"detail": f"invalid value: {exc}".splitlines()[0]}, status=status.HTTP_400_BAD_REQUEST
        )
    return exception_handler(exc, context)


@csrf_exempt  # it writes nothing; a POST gets its 404, not a CSRF page
def unknown_path(request, path: str = ""):
    """Any address under /api/v1/ that names no endpoint: a JSON 404 (any method). Where the address with a
    slash appended names one, a redirect there, as Django's ``APPEND_SLASH`` does for the rest of the site (this
    view matching every address would otherwise stop it)."""
    slashed = request.path_info + "/"
    if (
        settings.APPEND_SLASH
        and not request.path_info.endswith("/")
        and resolve(slashed).func is not unknown_path
    ):
        return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return JsonResponse({"detail": f"no API endpoint at {request.path}"}, status=status.HTTP_404_NOT_FOUND)
