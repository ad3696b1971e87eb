"""django-filter FilterSet of the catalogue, used by the REST API.

Every parameter of the shared catalogue search (:class:`hull.search.EntrySearch`) is declared here so that it is
documented in the OpenAPI schema; the filtering itself is the shared search's condition
(:func:`hull.search.search_condition`) read by the catalogue's one read (:mod:`hull.selectors.search`), so the
API, the pages and the OPTIMADE layer agree on what a query means. Three filters exist only here:

* ``layered``: the entry's structure is layered by :data:`hull.family_rules.LAYERED` (two-dimensional by Cheon et
  al.'s bonded-cluster algorithm); ``false`` selects entries known to be not layered. The family screen adds
  stability (stable by default); combine with ``is_stable`` for the same set.
* ``li_conductor``: a Li-ion conductor candidate by :class:`hull.family_rules.LiConductorRule` with its default
  thresholds, the family screen's definition: Li, an anion, no redox-active transition metal, Li-rich, a band gap
  over 1 eV (a missing band gap is not a pass), within ``li_conductor_max_e_above_hull`` (default
  :data:`hull.family_rules.LI_CONDUCTOR_MAX_E_ABOVE_HULL` eV/atom) of the hull in the chosen hull set.
  ``false`` selects the complement.
* ``round``: entries added by discovery round number N (through the round's ingest batch).
* ``material_ids``: entries whose portal id (``mdp-...``) or source id (e.g. the Materials Project's ``mp-149``)
  is one of these.

A request is read whole or refused: :meth:`EntryFilterSet.of_request` refuses a parameter the endpoint does not
know (400 naming the known ones, with a "did you mean"), a value a filter cannot read (400 naming the
parameter), and a second, different value of a parameter that takes one; the list filters (:class:`ListFilter`)
combine repeats with comma-separated values. Whole numbers are read within the database's 64-bit range
(:data:`hull.search.INT_MAX`), yes/no values as :data:`hull.search.TRUE_WORDS` and ``FALSE_WORDS``. The OpenAPI
schema states each parameter's type, range and rule for repeats (:func:`_declare_schemas`).
"""

import copy
from collections.abc import Collection

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from discovery.models import Round
from hull.errors import CatalogueError
from hull.family_rules import LAYERED, LI_CONDUCTOR_MAX_E_ABOVE_HULL, NOT_LAYERED, LiConductorRule
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from hull.models import Entry
from hull.search import (
    FALSE_WORDS,
    INT_MAX,
    INT_MIN,
    SORTABLE,
    TRUE_WORDS,
    EntrySearch,
    list_values,
    search_condition,
    search_order,
    single_value,
)
from hull.selectors.search import search_queryset
from portal.api.exceptions import UnknownParameters

API_ONLY = ("layered", "li_conductor", "li_conductor_max_e_above_hull", "round", "material_ids")

# The API's default order is by id: new entries (a round ingesting) land after every cursor, so paging is
# exactly stable. Sorting by a stability value follows the live hull: an entry whose energy above hull changes
# while a client pages may be seen twice or not at all.
DEFAULT_SORT = "id"
SORT_CHOICES = [(key, key) for key in sorted(SORTABLE)] + [(f"-{key}", f"-{key}") for key in sorted(SORTABLE)]


def li_conductor_q(*, max_e_above_hull: float = LI_CONDUCTOR_MAX_E_ABOVE_HULL) -> Q:
    """Condition on the catalogue's annotated entries (:func:`hull.selectors.search.catalogue_entries`) selecting Li-conductor candidates (see module doc)."""
    return LiConductorRule(max_e_above_hull=max_e_above_hull).condition()


class _SharedFields(dict):
    """The fields of the filter form. Django deep-copies a form class's fields into every form, so that a form
    may change its own; the filter form only validates (it never changes a field, and cleaning is pure), so
    its forms take the fields as they are, which saves copying 30 fields and their widgets per request."""

    def __deepcopy__(self, memo) -> dict:
        return dict(self)


class ListFilter(django_filters.CharFilter):
    """A list given as repeated parameters or comma-separated; repeats are combined (documented as an array)."""


class IntegerFilter(django_filters.NumberFilter):
    """A whole number the database can hold (:data:`hull.search.INT_MIN` to ``INT_MAX``)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, min_value=INT_MIN, max_value=INT_MAX, **kwargs)


class YesNoField(forms.Field):
    """true/false (or 1/0, yes/no, on/off); any other value is refused, not read as "no filter"."""

    def to_python(self, value) -> bool | None:
        text = (value or "").strip().lower()
        if text == "":
            return None
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
        raise forms.ValidationError(
            "%(value)r is not a yes/no value: use true or false (or 1 or 0)", params={"value": value}
        )


class YesNoFilter(django_filters.BooleanFilter):
    field_class = YesNoField


class EntryFilterSet(django_filters.FilterSet):
    formula = django_filters.CharFilter(
        help_text="reduced formula in any order and case, e.g. Fe2O3, O3Fe2 or fe2o3"
    )
    anonymous_formula = django_filters.CharFilter(
        help_text="anonymous formula, e.g. A2B3; A, B, C... and letters that are no element symbol stand for any "
        "element, other element symbols name one (ABO3: oxides)"
    )
    elements = ListFilter(help_text="contains all of these elements (comma-separated), e.g. Li,O")
    elements_any = ListFilter(help_text="contains at least one of these elements")
    elements_only = ListFilter(help_text="contains no element outside these")
    exclude_elements = ListFilter(help_text="contains none of these elements")
    chemsys = django_filters.CharFilter(help_text="chemical system; * stands for any element, e.g. Li-*-O")
    nelements_min = IntegerFilter()
    nelements_max = IntegerFilter()
    nsites_min = IntegerFilter()
    nsites_max = IntegerFilter()
    e_above_hull_min = django_filters.NumberFilter(help_text="eV/atom, in the chosen hull set")
    e_above_hull_max = django_filters.NumberFilter(help_text="eV/atom, in the chosen hull set")
    formation_energy_min = django_filters.NumberFilter(help_text="eV/atom, in the chosen hull set")
    formation_energy_max = django_filters.NumberFilter(help_text="eV/atom, in the chosen hull set")
    band_gap_min = django_filters.NumberFilter()
    band_gap_max = django_filters.NumberFilter()
    spacegroup_number = IntegerFilter(help_text="1 to 230")
    spacegroup_symbol = django_filters.CharFilter(
        help_text="any common spelling or the number: P63/mmc, P6_3/mmc, 194"
    )
    is_stable = YesNoFilter(help_text="on the hull of the chosen hull set")
    hull_set = django_filters.ChoiceFilter(
        choices=[(name, name) for name in HULL_SETS], help_text=f"default {DEFAULT_HULL_SET}"
    )
    source = ListFilter(help_text="source(s), e.g. mp,gnome")
    method = ListFilter(help_text="method label(s)")
    batch = IntegerFilter(help_text="ingest batch id")
    layered = YesNoFilter(help_text="2D by the Cheon bonded-cluster algorithm")
    li_conductor = YesNoFilter(help_text="Li-ion conductor candidate (default screen)")
    li_conductor_max_e_above_hull = django_filters.NumberFilter(
        help_text=f"hull distance of the Li-conductor screen, default {LI_CONDUCTOR_MAX_E_ABOVE_HULL} eV/atom"
    )
    round = IntegerFilter(help_text="entries added by this discovery round number")
    material_ids = ListFilter(help_text="portal ids (mdp-...) or source ids (e.g. mp-149) of the entries")
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES,
        help_text=f"sort key, '-' for descending (default {DEFAULT_SORT}, stable under inserts)",
    )

    class Meta:
        model = Entry
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[Entry]) -> QuerySet[Entry]:
        """The shared catalogue search with the API-only filters, as one ordered queryset (the export's).

        ``queryset`` (the view's) is ignored on purpose: the catalogue's read builds the annotated queryset.
        """
        search = self.search_of(self.data.copy())
        return search_queryset(
            condition=self.condition(search), hull_set=search.hull_set, order=search_order(search)
        )

    def search_of(self, params) -> EntrySearch:
        """The shared search the parameters name (``sort`` defaults to :data:`DEFAULT_SORT`)."""
        if any("\x00" in value for values in params.lists() for value in values):
            raise CatalogueError("parameters may not contain NUL characters")
        if not params.get("sort"):
            params["sort"] = DEFAULT_SORT
        return EntrySearch.from_params(params)

    def condition(self, search: EntrySearch) -> Q:
        """The condition of ``search`` (:func:`hull.search.search_condition`) and of the API-only filters."""
        return search_condition(search) & self.api_condition()

    def api_condition(self) -> Q:
        """The API-only filters of the request as one condition (see the module doc)."""
        data = {name: self.form.cleaned_data.get(name) for name in API_ONLY}
        condition = Q()
        if data["layered"] is not None:
            condition &= LAYERED if data["layered"] else NOT_LAYERED
        if data["li_conductor"] is not None:
            limit = data["li_conductor_max_e_above_hull"]
            rule = li_conductor_q(
                max_e_above_hull=float(limit) if limit is not None else LI_CONDUCTOR_MAX_E_ABOVE_HULL
            )
            condition &= rule if data["li_conductor"] else ~rule
        if data["round"] is not None:
            batch_id = (
                Round.objects.filter(number=int(data["round"])).values_list("batch_id", flat=True).first()
            )
            condition &= Q(batch_id=batch_id) if batch_id is not None else Q(pk__in=[])
        ids = list_values(self.data.getlist("material_ids"))
        if ids:
            condition &= Q(public_id__in=ids) | Q(source_id__in=ids)
        return condition

    @classmethod
    def of_request(cls, request, known: Collection[str]) -> "EntryFilterSet":
        """The request's filters, read whole or refused (see the module doc); ``known``: every query parameter
        of the endpoint (its filters among them)."""
        params = request.query_params
        check_query(params, known)
        filterset = cls(params, queryset=Entry.objects.all(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        return filterset

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        """As django-filter's, but the filters are the class's, set up once, not a deep copy per request: they
        are never applied one by one (:meth:`filter_queryset` runs the shared search), so no request changes
        them, and copying 30 filters cost a sizeable share of a list request."""
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = Entry.objects.all() if queryset is None else queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = self._shared_filters()

    @classmethod
    def _shared_filters(cls) -> dict:
        filters = cls.__dict__.get("_filters")
        if filters is None:
            filters = copy.deepcopy(cls.base_filters)
            for filter_ in filters.values():
                filter_.model = Entry  # what django-filter sets per instance (labels come from the model)
            cls._filters = filters
        return filters

    def get_form_class(self):
        """The form class, built once per FilterSet class: the filters and their form fields never change
        (no per-request choices), and building the class anew (a form field and a label for each of 30
        filters) cost about as much as the page's query. Its forms share the class's fields too (see
        :class:`_SharedFields`)."""
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = _SharedFields(form_class.base_fields)
            cls._form_class = form_class
        return form_class

    @property
    def qs(self) -> QuerySet[Entry]:
        if not hasattr(self, "_qs"):
            if not self.is_valid():
                errors = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.errors.items())
                raise CatalogueError(errors)
            self._qs = self.filter_queryset(self.queryset.all())
        return self._qs


# The parameters that combine repeats; every other parameter of the API takes one value.
LIST_NAMES = frozenset(
    name for name, filter_ in EntryFilterSet.base_filters.items() if isinstance(filter_, ListFilter)
)


def check_query(params: QueryDict, known: Collection[str]) -> None:
    """Refuse a query naming a parameter outside ``known`` (:class:`UnknownParameters`), or giving one that takes a
    single value two different values (:func:`hull.search.single_value`)."""
    unknown = [name for name in params if name not in known]
    if unknown:
        raise UnknownParameters(unknown, known)
    for name, values in params.lists():
        given = [value.strip() for value in values if value.strip()]
        if name not in LIST_NAMES and len(given) > 1:
            single_value(name, given)


def export_options(params: QueryDict) -> tuple[bool, bool]:
    """(gzip the stream, include structures) of an export request: ``compress=gzip`` and ``structure`` (yes/no);
    any other value is refused naming the parameter."""
    compress = params.get("compress", "").strip()
    if compress not in ("", "gzip"):
        raise ValidationError({"compress": [f"{compress!r} is not a compression: use gzip"]})
    try:
        structure = YesNoField(required=False).clean(params.get("structure", ""))
    except forms.ValidationError as exc:
        raise ValidationError({"structure": exc.messages}) from exc
    return compress == "gzip", bool(structure)


REPEATS_COMBINED = "Repeat the parameter or separate values by commas: the values are combined."
REPEAT_REFUSED = "Give it once: a second, different value is refused (400)."


def parameter_schema(filter_) -> dict:
    """The OpenAPI schema of a filter's parameter: its type (whole numbers with the database's range, yes/no as
    boolean, lists as arrays of repeated parameters) and its rule for repeats in the description."""
    if isinstance(filter_, ListFilter):
        schema: dict = {"type": "array", "items": {"type": "string"}}
    elif isinstance(filter_, IntegerFilter):
        schema = {"type": "integer", "minimum": INT_MIN, "maximum": INT_MAX}
    elif isinstance(filter_, YesNoFilter):
        schema = {"type": "boolean"}
    elif isinstance(filter_, django_filters.NumberFilter):
        schema = {"type": "number"}
    elif isinstance(filter_, django_filters.ChoiceFilter):
        schema = {"type": "string", "enum": [value for value, _ in filter_.extra["choices"]]}
    else:
        schema = {"type": "string"}
    help_text = filter_.extra.get("help_text")
    rule = REPEATS_COMBINED if isinstance(filter_, ListFilter) else REPEAT_REFUSED
    schema["description"] = f"{help_text}. {rule}" if help_text else rule
    return schema


def _declare_schemas() -> None:
    """Each filter's schema as :func:`parameter_schema` gives it (drf-spectacular reads the declaration)."""
    for filter_ in EntryFilterSet.base_filters.values():
        extend_schema_field(parameter_schema(filter_))(filter_)


_declare_schemas()
