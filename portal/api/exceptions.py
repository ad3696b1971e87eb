"""The API's exception handler: the catalogue's one error type becomes a 400 with its message, and so does a
value the database refuses (DataError: a number out of range, a NUL byte)."""

from django.db import DataError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from hull.errors import CatalogueError


def api_exception_handler(exc, context):
    if isinstance(exc, CatalogueError):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DataError):  # a value the database cannot hold (out of range, NUL byte): bad input
        return Response(
            {"detail": f"invalid value: {exc}".splitlines()[0]}, status=status.HTTP_400_BAD_REQUEST
        )
    return exception_handler(exc, context)
