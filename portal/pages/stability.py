"""The "Would my compound be stable?" page: a formula and an energy checked against the current hull by
:func:`hull.phase_diagrams.hypothetical_stability`, the service behind ``POST /api/v1/stability/``. Writes
nothing; a bad input comes back in the form with its error beside the field (status 400)."""

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from hull.errors import CatalogueError
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from hull.phase_diagrams import DiagramEntry, hypothetical_stability, phase_diagram_get
from hull.selectors import hull_provenance
from hull.services.ingest import ingest_limits
from hull.stability_input import checked_energy_per_atom, composition_of_formula
from portal.pages import figures
from portal.pages.rendering import render

PER_ATOM, TOTAL = "per_atom", "total"


class StabilityForm(forms.Form):
    formula = forms.CharField(
        label="Composition",
        max_length=200,
        help_text="a formula such as LiFeO2 or Li2Fe2O4",
        widget=forms.TextInput(attrs={"placeholder": "LiFeO2", "autocomplete": "off"}),
    )
    energy = forms.FloatField(
        label="Energy (eV)",
        help_text="on the catalogue's scale: GGA/GGA+U with the MP2020 corrections (r2SCAN for the r2scan hull set)",
        widget=forms.NumberInput(attrs={"step": "any", "placeholder": "-6.9"}),
    )
    energy_basis = forms.ChoiceField(
        label="The energy is",
        choices=[(PER_ATOM, "per atom (eV/atom)"), (TOTAL, "the total of the formula as typed (eV)")],
        initial=PER_ATOM,
    )
    hull_set = forms.ChoiceField(
        label="Compare with the hull set",
        choices=[(name, name) for name in HULL_SETS],
        initial=DEFAULT_HULL_SET,
    )

    # the API's input rules (hull.stability_input), each error beside the field it is about
    def clean_formula(self) -> dict[str, float]:
        try:
            return composition_of_formula(self.cleaned_data["formula"].strip(), ingest_limits())
        except CatalogueError as exc:
            raise ValidationError(str(exc)) from None

    def clean(self) -> dict:
        cleaned = super().clean()
        composition, energy = cleaned.get("formula"), cleaned.get("energy")
        if composition is None or energy is None:
            return cleaned
        if cleaned.get("energy_basis") == TOTAL:
            energy /= sum(composition.values())
        try:
            cleaned["energy_per_atom"] = checked_energy_per_atom(energy, "the energy per atom")
        except CatalogueError as exc:
            self.add_error("energy", str(exc))
        return cleaned

    def check(self) -> dict:
        """The service's answer for the cleaned form (``CatalogueError`` on what only the service can tell)."""
        return hypothetical_stability(
            composition=self.cleaned_data["formula"],
            energy_per_atom=self.cleaned_data["energy_per_atom"],
            hull_set=self.cleaned_data["hull_set"],
        )


@require_GET
def stability_check(request: HttpRequest) -> HttpResponse:
    if "formula" not in request.GET:
        return render(request, "portal/stability.html", {"form": StabilityForm()})
    # a link may name the formula and energy only: the fields it leaves out take their initial values
    form = StabilityForm({**_initial(), **request.GET.dict()})
    result = None
    if form.is_valid():
        try:
            result = form.check()
        except CatalogueError as exc:
            form.add_error("formula", str(exc))
    if result is None:
        return render(request, "portal/stability.html", {"form": form}, status=400)
    context = {
        "form": form,
        "result": result,
        "provenance": hull_provenance(chemsys=result["chemsys"], hull_set=result["hull_set"]),
        "figure": _figure(result, form.cleaned_data["formula"]),
    }
    return render(request, "portal/stability.html", context)


def _initial() -> dict[str, str]:
    return {
        name: str(field.initial)
        for name, field in StabilityForm.base_fields.items()
        if field.initial is not None
    }


def _figure(result: dict, composition: dict[str, float]):
    """The phase diagram of the compound's system with the compound marked (2 to 4 elements with every
    elemental reference), as JSON for the page; None where there is none to draw."""
    elements = result["chemsys"].split("-")
    if result["missing_elements"] or not 2 <= len(elements) <= 4:
        return None
    total = sum(composition.values())
    candidate = DiagramEntry(
        key=0,
        public_id="",
        reduced_formula=result["reduced_formula"],
        fractions={el: composition.get(el, 0.0) / total for el in elements},
        energy_per_atom=result["energy_per_atom"],
        formation_energy_per_atom=result["formation_energy_per_atom"],
        e_above_hull=result["e_above_hull"],
        decomposition_energy=result["decomposition_energy"],
        is_stable=result["is_stable"],
        decomposition=result["decomposition"],
        source="your input",
        method="your input",
        created_at=timezone.now(),
    )
    data = phase_diagram_get(chemsys=result["chemsys"], hull_set=result["hull_set"])
    return figures.figure_json(figures.phase_diagram(data, candidate=candidate))
