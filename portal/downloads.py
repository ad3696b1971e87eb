"""A structure file (:func:`hull.export.structure_file`) as a download, the same from the pages and the API."""

from django.http import HttpResponse

from hull.export import StructureFile


def structure_download(file: StructureFile) -> HttpResponse:
    response = HttpResponse(file.text, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response
