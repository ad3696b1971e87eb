"""Views of the JSON API under /api/v1/. Thin: parse, call a selector or service, serialize."""

from collections.abc import Iterator
from functools import lru_cache

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404, HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import RetrieveAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from discovery.config import RoundConfig
from discovery.control import round_act
from discovery.models import Round
from discovery.permissions import round_launch_allowed
from discovery.services import round_create
from discovery.training import models_check
from hull.export import structure_file
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from hull.models import Entry, Stability
from hull.phase_diagrams import hypothetical_stability, phase_diagram_get
from hull.provenance import stability_source_of
from hull.search import search_order
from hull.selectors import catalogue_state
from hull.selectors.search import search_count
from portal.api import serializers
from portal.api.filters import REPEAT_REFUSED, EntryFilterSet, export_options
from portal.downloads import TABLE_FORMATS, structure_download, table_download
from portal.response_cache import kept_count, kept_json

STRUCTURE_FORMATS = ("cif", "poscar", "extxyz")  # of hull.export.FORMATS; JSON is the default response
FIELDS_PARAMETER = OpenApiParameter(
    "fields",
    str,
    description=f"comma-separated field names to return (default: all). {REPEAT_REFUSED}",
    required=False,
)


def kept_response(request, build, known: frozenset[str] = frozenset()) -> HttpResponse:
    """``build(state)``'s data as JSON, kept per normalised URL (``known``: its query parameters) and catalogue
    state (:func:`portal.response_cache.kept_json`), which it is given; the browsable API (HTML, for people) is
    rendered afresh."""
    if request.accepted_renderer.format != "json":
        return Response(build(catalogue_state()))
    return kept_json(request, lambda read: build(read.state), "application/json", known)


@extend_schema_view(list=extend_schema(parameters=[FIELDS_PARAMETER]))
class MaterialViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Catalogue entries, filtered with the shared catalogue search, keyset-paginated."""

    queryset = Entry.objects.all()
    serializer_class = serializers.MaterialSerializer
    filterset_class = EntryFilterSet

    def list(self, request, *args, **kwargs):
        """A page as ``.values()`` rows shaped like :class:`serializers.MaterialSerializer` (which stays the
        documented schema) by :func:`serializers.material_rows`: only the columns the page shows are read, and no
        model instances or serializer fields are built per request. Errors come in the same order as before:
        filters, then the page parameters, then ``fields``."""
        return kept_response(request, lambda state: self._page(request, state), LIST_PARAMETERS)

    def _page(self, request, state: tuple) -> dict:
        filterset = EntryFilterSet.of_request(request, LIST_PARAMETERS)
        search = filterset.search_of(filterset.data.copy())
        condition = filterset.condition(search)
        known = serializers.MaterialSerializer.Meta.fields
        asked = request.query_params.get("fields")
        if asked:  # checked after the page: unknown names are a 400 then
            shown = [name.strip() for name in asked.split(",") if name.strip() in known]
        else:
            shown = [name for name in known if name not in serializers.MaterialSerializer.optional_fields]
        page = self.paginator.paginate_search(
            request,
            condition=condition,
            hull_set=search.hull_set,
            order=search_order(search),
            columns=serializers.material_columns(shown),
        )
        fields = serializers.material_fields(request)
        filters = [(name, value) for name, value in filterset.data.lists() if name not in PAGE_PARAMETERS]
        self.paginator.count = kept_count(  # once the request is known good; once per filter and state
            "materials",
            repr(sorted(filters)),
            state,
            lambda: search_count(
                condition=condition, hull_set=search.hull_set, exact_up_to=settings.PORTAL_EXACT_COUNT_LIMIT
            ),
        )
        return self.get_paginated_response(serializers.material_rows(page, fields, search.hull_set)).data


# The query parameters of a list page and of the export (any other is refused: 400)
PAGE_PARAMETERS = frozenset({"cursor", "page_size", "fields"})  # what a list's count does not depend on
LIST_PARAMETERS = frozenset(EntryFilterSet.base_filters) | PAGE_PARAMETERS
EXPORT_PARAMETERS = frozenset(EntryFilterSet.base_filters) | {"compress", "structure", "format"}


class MaterialDetailView(RetrieveAPIView):
    """One material: everything on its page; ``?format=cif|poscar|extxyz`` returns the structure file."""

    queryset = Entry.objects.select_related("batch", "features").prefetch_related(
        Prefetch("stabilities", queryset=Stability.objects.order_by("hull_set"))
    )
    serializer_class = serializers.MaterialDetailSerializer
    lookup_field = "public_id"
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format",
                str,
                enum=list(STRUCTURE_FORMATS),
                required=False,
                description="return the structure as a file in this format instead of JSON",
            )
        ],
        responses={
            200: OpenApiResponse(
                serializers.MaterialDetailSerializer, description="JSON, or the structure file"
            ),
            404: OpenApiResponse(description="no such material, or it has no structure for a file format"),
        },
    )
    def get(self, request, *args, **kwargs):
        fmt = request.query_params.get("format")
        if not fmt:
            return kept_response(request, lambda state: self._page(request))
        if fmt not in STRUCTURE_FORMATS:
            raise ValidationError({"format": f"choose one of {', '.join(STRUCTURE_FORMATS)}"})
        entry = self.get_object()
        if entry.structure is None:
            raise NotFound(f"{entry.public_id} has no structure (composition-only entry)")
        return structure_download(structure_file(entry, fmt=fmt))  # a CatalogueError is a 400

    def _page(self, request) -> dict:
        """The JSON page from ``.values()`` rows shaped like :class:`serializers.MaterialDetailSerializer` (the
        documented schema) by :func:`serializers.material_detail`; same lookup, permissions and 404 as
        ``get_object``."""
        rows = list(_material_rows().filter(public_id=self.kwargs[self.lookup_field])[:1])
        if not rows:
            raise Http404
        row = rows[0]
        self.check_object_permissions(request, row)
        stabilities = list(_stability_rows().filter(entry_id=row["id"]))
        return serializers.material_detail(row, stabilities, row["round_number"])


@lru_cache(maxsize=1)
def _material_rows():
    """A material's columns, with the discovery round that added it (through its batch), as ``.values()`` rows:
    built once per process and filtered per request (building it was most of the cost of a material's page)."""
    rounds = Round.objects.filter(batch_id=OuterRef("batch_id")).order_by("pk").values("number")[:1]
    entries = Entry.objects.annotate(round_number=Subquery(rounds))
    return entries.values(*serializers.MATERIAL_DETAIL_COLUMNS, "round_number")


@lru_cache(maxsize=1)
def _stability_rows():
    """An entry's stability rows by hull set, built once per process like :func:`_material_rows`."""
    return Stability.objects.order_by("hull_set").values(*serializers.STABILITY_COLUMNS)


EXPORT_FIELDS = [
    f
    for f in serializers.MaterialSerializer.Meta.fields
    if f not in ("elements", "hull_set", "structure", "stability_source")
]


@extend_schema(
    parameters=[
        OpenApiParameter(
            "compress", str, enum=["gzip"], required=False, description=f"gzip the stream. {REPEAT_REFUSED}"
        ),
        OpenApiParameter(
            "structure",
            bool,
            required=False,
            description=f"include each structure (pymatgen dict; JSON Lines only). {REPEAT_REFUSED}",
        ),
        OpenApiParameter(
            "format",
            str,
            enum=list(TABLE_FORMATS),
            required=False,
            description=f"jsonl (JSON Lines, the default) or csv (a header, then a line per entry). {REPEAT_REFUSED}",
        ),
    ],
    responses={(200, "application/x-ndjson"): OpenApiTypes.STR, (200, "text/csv"): OpenApiTypes.STR},
    filters=True,
)
class MaterialExportView(APIView):
    """Every entry matching the list filters as JSON Lines or CSV, streamed in constant memory (no pagination)."""

    filterset_class = EntryFilterSet
    filter_backends = [DjangoFilterBackend]  # for the schema: the list's filters are the export's
    queryset = Entry.objects.all()

    def get(self, request):
        queryset = EntryFilterSet.of_request(request, EXPORT_PARAMETERS).qs
        gzipped, with_structure = export_options(request.query_params)
        fmt = _export_format(request.query_params, with_structure=with_structure)
        fields = [f.replace("chemsys", "chemsys_id") for f in EXPORT_FIELDS]
        if with_structure:
            fields.append("structure")
        hull_set = request.query_params.get("hull_set", DEFAULT_HULL_SET)
        rows = _export_rows(queryset.values(*fields).iterator(chunk_size=2000), hull_set)
        return table_download(rows, fmt=fmt, name="materials", gzip=gzipped)


def _export_format(params, *, with_structure: bool) -> str:
    """The export's ``format``: jsonl (the default) or csv, which holds no structures; else a 400 naming it."""
    fmt = params.get("format", "").strip() or "jsonl"
    if fmt not in TABLE_FORMATS:
        raise ValidationError(
            {"format": [f"{fmt!r} is not an export format: use {' or '.join(TABLE_FORMATS)}"]}
        )
    if with_structure and fmt != "jsonl":
        raise ValidationError({"structure": [f"structures are exported in JSON Lines only, not {fmt}"]})
    return fmt


def _export_rows(rows: Iterator[dict], hull_set: str) -> Iterator[dict]:
    for row in rows:
        row["chemsys"] = row.pop("chemsys_id")
        row["elements"] = row["chemsys"].split("-")
        row["hull_set"] = hull_set
        row["stability_source"] = stability_source_of(row)
        yield row


class PhaseDiagramView(APIView):
    """The phase diagram of a chemical system in one hull set: every entry of the system and its
    subsystems with its energy above hull and decomposition, the stable entries and the hull facets."""

    @extend_schema(
        parameters=[OpenApiParameter("hull_set", str, enum=list(HULL_SETS), required=False)],
        responses={200: serializers.PhaseDiagramSerializer},
    )
    def get(self, request, chemsys: str):
        hull_set = request.query_params.get("hull_set", DEFAULT_HULL_SET)
        return kept_response(
            request,
            lambda state: (
                serializers.PhaseDiagramSerializer(phase_diagram_get(chemsys=chemsys, hull_set=hull_set)).data
            ),
            frozenset({"hull_set"}),
        )


class StabilityCheckView(APIView):
    """Would this be stable? Energy above hull, decomposition and formation energy of a hypothetical entry
    against the current catalogue. Writes nothing."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        request=serializers.StabilityCheckInputSerializer,
        responses={200: serializers.StabilityCheckOutputSerializer},
    )
    def post(self, request):
        incoming = serializers.StabilityCheckInputSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        result = hypothetical_stability(**incoming.validated_data)
        return Response(serializers.StabilityCheckOutputSerializer(result).data)


class CanLaunchRoundsOrReadOnly(permissions.BasePermission):
    """Everyone reads; writes need the launch permission (:mod:`discovery.permissions`)."""

    message = "launching, cancelling or retrying rounds needs the discovery.launch_round permission"

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or round_launch_allowed(request.user)


class RoundViewSet(viewsets.ReadOnlyModelViewSet):
    """Discovery rounds: everyone reads; users with the launch permission create, cancel and retry."""

    queryset = Round.objects.select_related("created_by").prefetch_related("stages").order_by("-number", "id")
    serializer_class = serializers.RoundSerializer
    permission_classes = [CanLaunchRoundsOrReadOnly]
    lookup_field = "number"
    lookup_value_regex = r"[0-9]+"
    filter_backends: list = []

    @extend_schema(request=serializers.RoundCreateSerializer, responses={201: serializers.RoundSerializer})
    def create(self, request):
        incoming = serializers.RoundCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        config = incoming.validated_data["config"]
        plan = RoundConfig.from_data(config)
        models_check(generators=plan.generators, ensemble_size=plan.ensemble_size)  # as the launch form does
        round = round_create(config=config, user=request.user)
        round = self.get_queryset().get(pk=round.pk)
        return Response(self.get_serializer(round).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: serializers.RoundSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, number=None):
        return self._act(request, "cancel")

    @extend_schema(request=None, responses={200: serializers.RoundSerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, number=None):
        return self._act(request, "retry")

    def _act(self, request, action: str) -> Response:
        """The dashboard's and the admin's rule (:func:`discovery.control.round_act`): the same permission, the
        same states, the same refusals."""
        round = self.get_object()
        round_act(round=round, action=action, user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=round.pk)).data)
