"""Downloads, the same from the pages and the API: a structure file (:func:`hull.export.structure_file`), and rows
of a table as JSON Lines or CSV (the one writer of each), streamed and optionally gzipped."""

import csv
import io
import json
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, StreamingHttpResponse

from hull.export import StructureFile

TABLE_FORMATS = {"jsonl": ("application/x-ndjson", "jsonl"), "csv": ("text/csv; charset=utf-8", "csv")}
"""Format name: (content type, file extension)."""


def structure_download(file: StructureFile) -> HttpResponse:
    response = HttpResponse(file.text, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


def jsonl_lines(rows: Iterable[dict]) -> Iterator[bytes]:
    """Each row as one line of compact JSON (datetimes in ISO 8601, as DRF writes them)."""
    encoder = DjangoJSONEncoder(separators=(",", ":"))
    for row in rows:
        yield (encoder.encode(row) + "\n").encode()


def _csv_cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return " ".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, datetime):
        return DjangoJSONEncoder().default(value)
    return value


def csv_lines(rows: Iterable[dict]) -> Iterator[bytes]:
    """The rows as CSV: a header of the first row's keys, then one line per row (lists written space-separated,
    mappings as compact JSON, no value as an empty cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = None
    for row in rows:
        if columns is None:
            columns = list(row)
            writer.writerow(columns)
        writer.writerow([_csv_cell(row.get(name)) for name in columns])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()


def gzipped(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks compressed into one gzip stream, written out every 256 KiB."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip container
    buffer = []
    size = 0
    for chunk in chunks:
        buffer.append(chunk)
        size += len(chunk)
        if size >= 256 * 1024:
            out = compressor.compress(b"".join(buffer))
            buffer, size = [], 0
            if out:
                yield out
    yield compressor.compress(b"".join(buffer)) + compressor.flush()


def table_download(rows: Iterable[dict], *, fmt: str, name: str, gzip: bool = False) -> StreamingHttpResponse:
    """``rows`` streamed as ``fmt`` (:data:`TABLE_FORMATS`); gzipped, or as CSV, it is an attachment named
    ``name`` with the format's extension."""
    content_type, extension = TABLE_FORMATS[fmt]
    lines = csv_lines(rows) if fmt == "csv" else jsonl_lines(rows)
    filename = f"{name}.{extension}"
    if gzip:
        response = StreamingHttpResponse(gzipped(lines), content_type="application/gzip")
        filename += ".gz"
    else:
        response = StreamingHttpResponse(lines, content_type=content_type)
    if gzip or fmt == "csv":
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
