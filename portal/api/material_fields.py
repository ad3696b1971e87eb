"""The REST API's material fields, defined once.

:data:`MATERIAL_FIELDS` names each field of a material in a list (:class:`portal.api.serializers.MaterialSerializer`)
and on its page (``MaterialDetailSerializer``), in the order they are sent: the column it is read from, how a value
is written and where it is sent. The serializers' field lists and the shaping of ``.values()`` rows
(:func:`row_writers`) are made from it, so that a new field is one line here (and a declaration in the serializer
where the model's field does not describe it). A value's writer follows from its column's model field (text, whole
number, float, yes/no, a timestamp as DRF writes it, JSON as stored) unless the line names one.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone

from hull.models import Entry, Stability


def write_datetime(value: datetime) -> str:
    """An aware datetime as DRF's ``DateTimeField`` writes it by default: in the current time zone, ISO 8601, ``Z``
    for UTC (its field machinery cost a tenth of a list page for two timestamps per row)."""
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _same(value):
    return value


def _composition(value: dict) -> dict:
    return {str(key): float(amount) if amount is not None else None for key, amount in value.items()}


def _elements(chemsys: str) -> list[str]:
    return chemsys.split("-")


@dataclass(frozen=True)
class MaterialField:
    """A field of a material: ``column`` of the ``.values()`` row it is read from (``None``: made by the view from
    the request or related rows); ``write`` of a value that is not null (default: by the column's model field);
    ``optional``: sent in lists only when asked for (``?fields=``); ``in_list``/``in_detail``: where it is sent."""

    name: str
    column: str | None
    write: Callable | None = None
    optional: bool = False
    in_list: bool = True
    in_detail: bool = True


def _field(name: str, column: str | None = "", **options) -> MaterialField:
    return MaterialField(name, name if column == "" else column, **options)


MATERIAL_FIELDS = (
    _field("public_id"),
    _field("formula"),
    _field("reduced_formula"),
    _field("anonymous_formula"),
    _field("chemsys", "chemsys_id"),
    _field("elements", "chemsys_id", write=_elements),
    _field("nelements"),
    _field("nsites"),
    _field("spacegroup_symbol"),
    _field("spacegroup_number"),
    _field("crystal_system"),
    _field("volume"),
    _field("density"),
    _field("energy_per_atom"),
    _field("band_gap"),
    # the stability in the request's hull set (a list's); the page lists every hull set's (stabilities)
    _field("hull_set", None, in_detail=False),
    _field("e_above_hull", in_detail=False),
    _field("formation_energy_per_atom", in_detail=False),
    _field("decomposition_energy", in_detail=False),
    _field("is_stable", in_detail=False),
    _field("source"),
    _field("source_id"),
    _field("method"),
    _field("method_family"),
    _field("stability_source", None),
    _field("created_at"),
    _field("updated_at"),
    _field("composition", write=_composition, optional=True),
    _field("structure", optional=True),
    _field("energy", optional=True),
    _field("uncorrected_energy", optional=True),
    _field("correction", optional=True),
    # the page's own: the entry's settings and extras, then what related rows give
    _field("symprec", in_list=False),
    _field("data", in_list=False),
    _field("stabilities", None, in_list=False),
    _field("features", None, in_list=False),
    _field("batch", None, in_list=False),
    _field("discovery_round", None, in_list=False),
)
BY_NAME = {field.name: field for field in MATERIAL_FIELDS}
LIST_FIELDS = [field.name for field in MATERIAL_FIELDS if field.in_list]
OPTIONAL_FIELDS = tuple(field.name for field in MATERIAL_FIELDS if field.optional)
# the page sends the structure, its largest value, last
DETAIL_FIELDS = [f.name for f in MATERIAL_FIELDS if f.in_detail and f.name != "structure"] + ["structure"]
# what stability_source is read from
SOURCE_COLUMNS = ("method", "method_family")


def _model_field(model: type[models.Model], column: str) -> models.Field:
    """``model``'s field of ``column`` (a foreign key's for its ``<name>_id``); ``FieldDoesNotExist`` for none."""
    try:
        return model._meta.get_field(column)
    except FieldDoesNotExist:
        if not column.endswith("_id"):
            raise
        return model._meta.get_field(column.removesuffix("_id"))


def writer_of(model: type[models.Model], column: str) -> Callable:
    """How a non-null value of ``model``'s ``column`` is written: by the type of its model field."""
    field = _model_field(model, column)
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    for kind, write in (
        (models.JSONField, _same),
        (models.DateTimeField, write_datetime),
        (models.BooleanField, bool),
        (models.FloatField, float),
        (models.IntegerField, int),
        (models.CharField, str),
    ):
        if isinstance(field, kind):
            return write
    raise TypeError(f"no writer for {model.__name__}.{column} ({type(field).__name__})")


def _column_model(column: str) -> type[models.Model]:
    """Entry for its own columns; Stability for the stability values a search annotates entries with."""
    try:
        _model_field(Entry, column)
    except FieldDoesNotExist:
        return Stability
    return Entry


def row_writers(names: list[str]) -> list[tuple[str, str | None, Callable | None]]:
    """(name, column, writer) of each field of ``names``; column and writer ``None`` for a field made apart."""
    plan = []
    for name in names:
        field = BY_NAME[name]
        if field.column is None:
            plan.append((name, None, None))
        else:
            plan.append(
                (name, field.column, field.write or writer_of(_column_model(field.column), field.column))
            )
    return plan


def columns_of(names: list[str]) -> list[str]:
    """The ``.values()`` columns that the fields ``names`` are read from."""
    columns = []
    for name in names:
        if name == "stability_source":
            columns += SOURCE_COLUMNS
        elif BY_NAME[name].column is not None:
            columns.append(BY_NAME[name].column)
    return list(dict.fromkeys(columns))
