"""The form that launches a discovery round, shared by the Django admin and the dashboard page. It only parses;
:func:`discovery.services.round_create` validates the configuration again and creates the round."""

from django import forms
from django.conf import settings

from discovery.config import EVALUATORS, GENERATORS, SELECTIONS, RoundConfig
from discovery.models import Round, TrainedModel
from discovery.training import MAX_EPOCHS, ModelsMissing, models_check
from hull.errors import CatalogueError
from hull.formulas import parse_chemsys, parse_elements
from hull.hull_sets import HULL_SETS

DEFAULTS = RoundConfig()


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class RoundLaunchForm(forms.ModelForm):
    """What an admin chooses when launching a round; the service validates it again.

    A model form (with no model fields) so that the admin can use it as its add form."""

    elements = forms.CharField(
        label="Scope: elements",
        required=False,
        help_text="scope: elements, comma-separated (e.g. Li, Mn, O)",
    )
    chemsys = forms.CharField(
        label="Scope: chemical systems",
        required=False,
        help_text="scope: chemical systems, comma-separated (e.g. Li-Co-O)",
    )
    generators = forms.MultipleChoiceField(
        choices=[(g, g) for g in GENERATORS], initial=DEFAULTS.generators, widget=forms.CheckboxSelectMultiple
    )
    budget = forms.IntegerField(
        label="Candidate budget", initial=DEFAULTS.budget, min_value=1, help_text="candidates generated"
    )
    eval_budget = forms.IntegerField(
        label="Evaluation budget", initial=DEFAULTS.eval_budget, min_value=1, help_text="candidates evaluated"
    )
    baseline_size = forms.IntegerField(initial=DEFAULTS.baseline_size, min_value=0)
    threshold = forms.FloatField(
        label="Filter threshold",
        initial=DEFAULTS.threshold,
        help_text="eV/atom above the hull kept by the filter",
    )
    selection = forms.ChoiceField(choices=[(s, s) for s in SELECTIONS], initial=DEFAULTS.selection)
    evaluator = forms.ChoiceField(choices=[(e, e) for e in EVALUATORS], initial=DEFAULTS.evaluator)
    ensemble_size = forms.IntegerField(initial=DEFAULTS.ensemble_size, min_value=1, max_value=32)
    retrain = forms.BooleanField(required=False, initial=DEFAULTS.retrain)
    launch_hull_set = forms.ChoiceField(label="Hull set", choices=[(h, h) for h in HULL_SETS], initial="all")

    missing_models: list[str] = []  # the kinds of model the round needs and lacks, once cleaned

    class Meta:
        model = Round
        fields = ()

    def clean_elements(self) -> list[str]:
        try:
            return parse_elements(_split(self.cleaned_data["elements"]))
        except CatalogueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_chemsys(self) -> list[str]:
        try:
            return sorted({parse_chemsys(text) for text in _split(self.cleaned_data["chemsys"])})
        except CatalogueError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def config(self) -> dict:
        """The cleaned data as the configuration ``round_create`` takes."""
        data = self.cleaned_data
        return {
            "elements": list(data["elements"]),
            "chemsys": list(data["chemsys"]),
            "generators": list(data["generators"]),
            "budget": data["budget"],
            "eval_budget": data["eval_budget"],
            "baseline_size": data["baseline_size"],
            "threshold": data["threshold"],
            "selection": data["selection"],
            "evaluator": data["evaluator"],
            "ensemble_size": data["ensemble_size"],
            "retrain": data["retrain"],
            "hull_set": data["launch_hull_set"],
        }

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                RoundConfig.from_data(self.config())
            except CatalogueError as exc:
                # The service's messages start with the setting they are about ("threshold must ..."):
                # show the error beside that field where the form has it.
                name = str(exc).split(" ", 1)[0]
                self.add_error(name if name in self.fields else None, str(exc))
        if not self.errors:
            # the models the round needs: named in the error, and the page offers to train them
            try:
                models_check(generators=list(cleaned["generators"]))
            except ModelsMissing as exc:
                self.missing_models = exc.kinds
                self.add_error(None, forms.ValidationError(str(exc), code="models_missing"))
        return cleaned


class TrainingForm(forms.Form):
    """What staff choose when they train an ensemble from the dashboard; ``training_start`` validates again."""

    kind = forms.ChoiceField(choices=TrainedModel.Kind.choices, initial="structural")
    preset = forms.ChoiceField(
        choices=[("demo", "demo (minutes)"), ("full", "full CPU preset (tens of minutes)")],
        initial="demo",
        help_text="the demo preset is the small model a fresh portal trains on its first start",
    )
    n_models = forms.IntegerField(
        label="Members", min_value=1, max_value=32, initial=2, help_text="ensemble size (paper: 10)"
    )
    epochs = forms.IntegerField(
        min_value=1, max_value=MAX_EPOCHS, required=False, help_text="per member; blank: the preset's"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["n_models"].initial = settings.PORTAL_DEMO_MODEL_MEMBERS
