"""Serializers of the JSON API. They shape data; the catalogue logic lives in hull's selectors and services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from discovery.models import Round, RoundStage
from hull.errors import CatalogueError
from hull.family_rules import is_layered
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from hull.models import Entry, Stability
from hull.provenance import stability_source_of
from hull.services.ingest import ingest_limits
from hull.stability_input import (
    checked_composition,
    checked_energy_per_atom,
    composition_of_formula,
    composition_of_structure,
    number,
)
from hull.stability_meaning import STABILITY_MEANING
from portal.api.material_fields import (
    BY_NAME,
    DETAIL_FIELDS,
    LIST_FIELDS,
    OPTIONAL_FIELDS,
    columns_of,
    row_writers,
    writer_of,
)

STABILITY_SOURCE_HELP = '"DFT", or "predicted by <evaluator with version>" for a non-DFT entry (e.g. CHGNet)'


def stability_value(name: str) -> serializers.Field:
    """A stability value of an entry in one hull set, with its meaning (:data:`STABILITY_MEANING`, said once for
    every serializer and OPTIMADE)."""
    if name == "is_stable":
        return serializers.BooleanField(allow_null=True, help_text=STABILITY_MEANING[name])
    return serializers.FloatField(allow_null=True, help_text=STABILITY_MEANING[name])


class FieldSelectionMixin:
    """``?fields=a,b,c`` keeps only those fields (unknown names are a 400). Fields in ``optional_fields`` (heavy
    ones) are sent only when named."""

    optional_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        raw = request.query_params.get("fields") if request is not None else None
        if not raw:
            for name in self.optional_fields:
                self.fields.pop(name, None)
            return
        wanted = {name.strip() for name in raw.split(",") if name.strip()}
        unknown = sorted(wanted - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {"fields": f"unknown field(s) {', '.join(unknown)}; choose from {', '.join(self.fields)}"}
            )
        for name in list(self.fields):
            if name not in wanted:
                self.fields.pop(name)


class MaterialSerializer(FieldSelectionMixin, serializers.ModelSerializer):
    """A catalogue entry in a list, with its stability in the requested hull set."""

    chemsys = serializers.CharField(source="chemsys_id")
    elements = serializers.ListField(child=serializers.CharField())
    hull_set = serializers.SerializerMethodField()
    e_above_hull = stability_value("e_above_hull")
    formation_energy_per_atom = stability_value("formation_energy_per_atom")
    decomposition_energy = stability_value("decomposition_energy")
    is_stable = stability_value("is_stable")
    stability_source = serializers.SerializerMethodField(help_text=STABILITY_SOURCE_HELP)
    composition = serializers.DictField(child=serializers.FloatField(), help_text="only with fields=")
    structure = serializers.JSONField(allow_null=True, help_text="pymatgen Structure dict; only with fields=")

    optional_fields = OPTIONAL_FIELDS

    class Meta:
        model = Entry
        fields = LIST_FIELDS

    def get_stability_source(self, obj) -> str:
        return stability_source_of(obj)

    def get_hull_set(self, obj) -> str:
        request = self.context.get("request")
        return (
            request.query_params.get("hull_set", DEFAULT_HULL_SET)
            if request is not None
            else DEFAULT_HULL_SET
        )


def material_fields(request) -> list[str]:
    """The list fields a request asks for, in :class:`MaterialSerializer`'s order and with its rules: all but
    the optional (heavy) ones by default, exactly those named in ``?fields=`` otherwise (unknown names: 400)."""
    names = LIST_FIELDS
    raw = request.query_params.get("fields") if request is not None else None
    if not raw:
        return [name for name in names if name not in OPTIONAL_FIELDS]
    wanted = {name.strip() for name in raw.split(",") if name.strip()}
    unknown = sorted(wanted - set(names))
    if unknown:
        raise serializers.ValidationError(
            {"fields": f"unknown field(s) {', '.join(unknown)}; choose from {', '.join(names)}"}
        )
    return [name for name in names if name in wanted]


def material_columns(fields: list[str]) -> list[str]:
    """The ``.values()`` columns that :func:`material_rows` needs for ``fields``."""
    return columns_of(fields)


def material_rows(rows: list[dict], fields: list[str], hull_set: str) -> list[dict]:
    """List items from ``.values()`` rows: exactly what :class:`MaterialSerializer` makes of the entries (a test
    holds them equal), without building model instances and serializer fields for every page, which cost
    more than the page's query. Each field is written as :data:`portal.api.material_fields.MATERIAL_FIELDS` says."""
    plan = row_writers(fields)
    items = []
    for row in rows:
        item = {}
        for name, column, write in plan:
            if name == "stability_source":
                item[name] = stability_source_of(row)
                continue
            if column is None:  # hull_set: the request's, as MaterialSerializer.get_hull_set reads it
                item[name] = hull_set
                continue
            value = row[column]
            item[name] = None if value is None else write(value)
        items.append(item)
    return items


class StabilitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Stability
        fields = [
            "hull_set",
            "formation_energy_per_atom",
            "e_above_hull",
            "decomposition_energy",
            "is_stable",
            "decomposition",
            "missing_elements",
            "hull_version",
            "updated_at",
        ]
        extra_kwargs = {name: {"help_text": meaning} for name, meaning in STABILITY_MEANING.items()}


class MaterialDetailSerializer(serializers.ModelSerializer):
    """Everything on a material's page: provenance, energies, stability in every hull set, structure."""

    chemsys = serializers.CharField(source="chemsys_id")
    elements = serializers.ListField(child=serializers.CharField())
    stabilities = StabilitySerializer(many=True)
    features = serializers.SerializerMethodField()
    batch = serializers.SerializerMethodField()
    discovery_round = serializers.SerializerMethodField()
    stability_source = serializers.SerializerMethodField(help_text=STABILITY_SOURCE_HELP)
    structure = serializers.JSONField(allow_null=True, help_text="pymatgen Structure.as_dict()")
    composition = serializers.DictField(child=serializers.FloatField())

    class Meta:
        model = Entry
        fields = DETAIL_FIELDS

    def get_stability_source(self, obj) -> str:
        return stability_source_of(obj)

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_features(self, obj) -> dict | None:
        features = getattr(obj, "features", None) if hasattr(obj, "features") else None
        if features is None:
            return None
        return {
            "dimensionality_cheon": features.dimensionality_cheon,
            "dimensionality_larsen": features.dimensionality_larsen,
            "layered": is_layered(features.dimensionality_cheon),
            "prototype_key": features.prototype_key,
        }

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_batch(self, obj) -> dict:
        batch = obj.batch
        return {"id": batch.pk, "source": batch.source, "format": batch.fmt, "created_at": batch.created_at}

    def get_discovery_round(self, obj) -> int | None:
        round = Round.objects.filter(batch_id=obj.batch_id).values_list("number", flat=True).first()
        return round


_OWN = row_writers([name for name in DETAIL_FIELDS if BY_NAME[name].column is not None])
_FEATURES = ("dimensionality_cheon", "dimensionality_larsen", "prototype_key")
MATERIAL_DETAIL_COLUMNS = list(
    dict.fromkeys(
        [
            "id",
            *columns_of(DETAIL_FIELDS),
            "batch_id",
            "batch__source",
            "batch__fmt",
            "batch__created_at",
            "features__entry",  # null when the entry has no features row
            *(f"features__{name}" for name in _FEATURES),
        ]
    )
)
STABILITY_COLUMNS = StabilitySerializer.Meta.fields
_STABILITY_WRITERS = {name: writer_of(Stability, name) for name in STABILITY_COLUMNS}


def material_detail(row: dict, stabilities: list[dict], discovery_round: int | None) -> dict:
    """A material's page from ``.values()`` rows (:data:`MATERIAL_DETAIL_COLUMNS` of the entry,
    :data:`STABILITY_COLUMNS` of its stabilities by hull set) and its round number: exactly what
    :class:`MaterialDetailSerializer` makes of the entry (a test holds them equal), without building the
    serializer's fields, the nested serializer's and the model instances for every page."""
    own = {name: (column, write) for name, column, write in _OWN}
    item = {}
    for name in DETAIL_FIELDS:
        if name in own:
            column, write = own[name]
            value = row[column]
            item[name] = None if value is None else write(value)
        elif name == "stabilities":
            item[name] = [
                {
                    key: None if stability[key] is None else _STABILITY_WRITERS[key](stability[key])
                    for key in STABILITY_COLUMNS
                }
                for stability in stabilities
            ]
        elif name == "features":
            item[name] = None
            if row["features__entry"] is not None:
                cheon = row["features__dimensionality_cheon"]
                item[name] = {
                    "dimensionality_cheon": cheon,
                    "dimensionality_larsen": row["features__dimensionality_larsen"],
                    "layered": is_layered(cheon),
                    "prototype_key": row["features__prototype_key"],
                }
        elif name == "batch":
            item[name] = {
                "id": row["batch_id"],
                "source": row["batch__source"],
                "format": row["batch__fmt"],
                "created_at": row["batch__created_at"],
            }
        elif name == "discovery_round":
            item[name] = discovery_round
        elif name == "stability_source":
            item[name] = stability_source_of(row)
        else:  # a new serializer field must be added here too (the equality test fails until it is)
            raise KeyError(name)
    return item


class StabilityValuesSerializer(serializers.Serializer):
    """The stability values of an entry in one hull set, with its decomposition (phase diagrams, the check)."""

    formation_energy_per_atom = stability_value("formation_energy_per_atom")
    e_above_hull = stability_value("e_above_hull")
    decomposition_energy = stability_value("decomposition_energy")
    is_stable = stability_value("is_stable")
    decomposition = serializers.ListField(
        child=serializers.DictField(), help_text=STABILITY_MEANING["decomposition"]
    )


class DiagramEntrySerializer(StabilityValuesSerializer):
    key = serializers.IntegerField()
    public_id = serializers.CharField()
    reduced_formula = serializers.CharField()
    fractions = serializers.DictField(child=serializers.FloatField(), help_text="atom fractions")
    energy_per_atom = serializers.FloatField()
    source = serializers.CharField()
    method = serializers.CharField()
    stability_source = serializers.CharField(help_text=STABILITY_SOURCE_HELP)
    created_at = serializers.DateTimeField()


class PhaseDiagramSerializer(serializers.Serializer):
    chemsys = serializers.CharField()
    elements = serializers.ListField(child=serializers.CharField())
    hull_set = serializers.CharField()
    stable_keys = serializers.ListField(child=serializers.IntegerField())
    facets = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))
    missing_elements = serializers.ListField(child=serializers.CharField())
    entries = DiagramEntrySerializer(many=True)


@extend_schema_field(OpenApiTypes.DOUBLE)
class JsonNumberField(serializers.Field):
    """A JSON number, read strictly: ``true``, ``"1.5"``, ``null``, non-finite and oversized values are refused
    (DRF's FloatField reads ``true`` as 1.0 and ``"1.5"`` as 1.5)."""

    def to_internal_value(self, data) -> float:
        try:
            return number(data, self.field_name)
        except CatalogueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value) -> float:
        return value


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "number"}}]}
)
class CompositionInputField(serializers.JSONField):
    pass


class StabilityCheckInputSerializer(serializers.Serializer):
    """A hypothetical entry: a composition (formula or element -> amount) or a structure, and its energy on the hull
    set's scale (GGA/GGA+U with the MP2020 corrections; r2SCAN for the r2scan hull set). Unknown fields are refused."""

    composition = CompositionInputField(
        required=False,
        help_text='formula ("LiFeO2") or element -> amount ({"Li": 1, "Fe": 1, "O": 2}); give this or structure',
    )
    structure = serializers.JSONField(
        required=False, help_text="pymatgen Structure.as_dict(); give this or composition"
    )
    energy = JsonNumberField(
        required=False,
        help_text="total energy (eV) of the composition as given or of the structure's cell; give this or "
        "energy_per_atom",
    )
    energy_per_atom = JsonNumberField(required=False, help_text="eV/atom; give this or energy")
    hull_set = serializers.ChoiceField(choices=list(HULL_SETS), default=DEFAULT_HULL_SET)

    def to_internal_value(self, data):
        """Unknown fields and a wrong choice of fields are refused before any field is read."""
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                known = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {name: [f"unknown field; the fields are {known}"] for name in unknown}
                )
            for first, second, missing in (
                (
                    "composition",
                    "structure",
                    "give a composition (formula or element -> amount) or a structure",
                ),
                ("energy_per_atom", "energy", "give energy_per_atom (eV/atom) or energy (eV)"),
            ):
                if first in data and second in data:
                    raise serializers.ValidationError(
                        {second: [f"give either {first} or {second}, not both"]}
                    )
                if first not in data and second not in data:
                    raise serializers.ValidationError({first: [missing]})
        return super().to_internal_value(data)

    def validate_composition(self, value) -> dict[str, float]:
        read = composition_of_formula if isinstance(value, str) else checked_composition
        return _field_value(read, value, ingest_limits())

    def validate_structure(self, value) -> dict[str, float]:
        return _field_value(composition_of_structure, value, ingest_limits())

    def validate(self, attrs: dict) -> dict:
        composition = attrs.get("composition") or attrs["structure"]
        name = "energy" if "energy" in attrs else "energy_per_atom"
        per_atom = attrs[name] / sum(composition.values()) if name == "energy" else attrs[name]
        try:
            energy_per_atom = checked_energy_per_atom(per_atom, name)
        except CatalogueError as exc:
            raise serializers.ValidationError({name: [str(exc)]}) from None
        return {"composition": composition, "energy_per_atom": energy_per_atom, "hull_set": attrs["hull_set"]}


def _field_value(rule, *args):
    """``rule(*args)``, its ``CatalogueError`` as a validation error of the field being validated."""
    try:
        return rule(*args)
    except CatalogueError as exc:
        raise serializers.ValidationError(str(exc)) from None


class StabilityCheckOutputSerializer(StabilityValuesSerializer):
    """The answer of the stability check; every energy is in eV/atom and null where an element has no reference."""

    chemsys = serializers.CharField(help_text="the chemical system of the composition, e.g. Fe-Li-O")
    hull_set = serializers.CharField(help_text="the hull set whose entries the composition was compared with")
    reduced_formula = serializers.CharField(help_text="the composition as read")
    energy_per_atom = serializers.FloatField(help_text="the energy as read, eV/atom")
    missing_elements = serializers.ListField(
        child=serializers.CharField(), help_text=STABILITY_MEANING["missing_elements"]
    )


class RoundStageSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoundStage
        fields = ["name", "order", "status", "done", "total", "message", "started_at", "finished_at"]


class RoundSerializer(serializers.ModelSerializer):
    stages = RoundStageSerializer(many=True, read_only=True)
    created_by = serializers.SerializerMethodField(help_text="who launched the round (shown to staff only)")

    class Meta:
        model = Round
        fields = [
            "number",
            "status",
            "hull_set",
            "config",
            "batch",
            "metrics",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "stages",
        ]
        read_only_fields = fields

    def get_created_by(self, round: Round) -> str | None:
        """The launching user's name for staff readers; null for everyone else (staff accounts are not
        advertised to the public)."""
        request = self.context.get("request")
        if round.created_by is None or request is None or not request.user.is_staff:
            return None
        return round.created_by.username


class RoundCreateSerializer(serializers.Serializer):
    config = serializers.JSONField(
        help_text="elements or chemsys (scope), generators, budget, threshold, evaluator, ensemble_size (exactly "
        "this many members: refused, saying how to train them, when the active models have fewer), volumes "
        "(test-time volumes, the paper's 20), iqr_weight (k: keep and rank by median + k x IQR), retrain, hull_set"
    )
