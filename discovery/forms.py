"""The form that launches a discovery round, shared by the Django admin and the dashboard page. It only parses;
:func:`discovery.services.round_create` validates the configuration again and creates the round."""

from django import forms
from django.conf import settings

from discovery.config import INTEGER_RANGES, MAX_IQR_WEIGHT, RoundConfig
from discovery.labels import (
    EVALUATOR_LABELS,
    GENERATOR_LABELS,
    HULL_SET_LABELS,
    MODEL_KIND_LABELS,
    SELECTION_LABELS,
    choices,
)
from discovery.models import Round
from discovery.training import MAX_EPOCHS, ModelsMissing, models_check
from hull.errors import CatalogueError
from hull.formulas import parse_chemsys, parse_elements

RANGES = {name: (low, high) for name, low, high in INTEGER_RANGES}

DEFAULTS = RoundConfig()


def paper_count_field(name: str, label: str, help_text: str) -> forms.IntegerField:
    """An optional round setting in its config range; left empty, the round takes the paper's number."""
    low, high = RANGES[name]
    return forms.IntegerField(
        label=label,
        required=False,
        initial=getattr(DEFAULTS, name),
        min_value=low,
        max_value=high,
        help_text=help_text,
    )


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class RoundLaunchForm(forms.ModelForm):
    """What an admin chooses when launching a round; the service validates it again.

    A model form (with no model fields) so that the admin can use it as its add form."""

    elements = forms.CharField(
        label="Elements to explore",
        required=False,
        help_text="comma-separated symbols (e.g. Li, Mn, O): candidates are made of these elements",
    )
    chemsys = forms.CharField(
        label="Chemical systems to explore",
        required=False,
        help_text="comma-separated, elements joined by dashes (e.g. Li-Co-O); give elements, systems or both",
    )
    generators = forms.MultipleChoiceField(
        label="How candidates are made",
        choices=choices(GENERATOR_LABELS),
        initial=DEFAULTS.generators,
        widget=forms.CheckboxSelectMultiple,
        help_text="the candidate budget is shared equally between the chosen generators",
    )
    budget = forms.IntegerField(
        label="Candidates to generate",
        initial=DEFAULTS.budget,
        min_value=1,
        help_text="structures proposed by the generators, all predicted by the model ensemble",
    )
    eval_budget = forms.IntegerField(
        label="Candidates to evaluate",
        initial=DEFAULTS.eval_budget,
        min_value=1,
        help_text="at most this many of the filter's picks are relaxed by the evaluator (the costly step)",
    )
    baseline_size = forms.IntegerField(
        label="Random baseline",
        initial=DEFAULTS.baseline_size,
        min_value=0,
        help_text="unfiltered candidates evaluated too, to measure how much the filter helps (0: none)",
    )
    threshold = forms.FloatField(
        label="Filter threshold (eV/atom)",
        initial=DEFAULTS.threshold,
        help_text="keep candidates predicted at most this far above the hull (0.05 eV/atom = 50 meV/atom)",
    )
    selection = forms.ChoiceField(
        label="Which candidates the filter keeps",
        choices=choices(SELECTION_LABELS),
        initial=DEFAULTS.selection,
        help_text="among those within the threshold",
    )
    evaluator = forms.ChoiceField(
        label="Evaluator",
        choices=choices(EVALUATOR_LABELS),
        initial=DEFAULTS.evaluator,
        help_text="what computes the energies of the kept candidates",
    )
    random_structures = paper_count_field(
        "random_structures",
        "Random structures per composition",
        "symmetric random crystals the new-compositions generator builds for each composition it keeps "
        "(the paper used 100), within the candidate budget",
    )
    ensemble_size = forms.IntegerField(
        label="Models in the ensemble",
        min_value=RANGES["ensemble_size"][0],
        max_value=RANGES["ensemble_size"][1],
        help_text="predictions are the median of exactly this many models (the paper used 10); the round refuses "
        "to start when the active models have fewer",
    )
    volumes = paper_count_field(
        "volumes",
        "Test-time volumes",
        "each candidate is predicted at this many volumes from 80% to 120% of its own and keeps the "
        "lowest energy (the paper used 20; 1: as generated)",
    )
    iqr_weight = forms.FloatField(
        label="Uncertainty weight k",
        required=False,  # left empty: the paper's rule on the median
        initial=DEFAULTS.iqr_weight,
        min_value=-MAX_IQR_WEIGHT,
        max_value=MAX_IQR_WEIGHT,
        help_text="the filter keeps and ranks by median + k x IQR of the ensemble's predictions (0: the median, "
        "as the paper; above 0 distrusts uncertain candidates, below 0 explores them)",
    )
    retrain = forms.BooleanField(
        label="Retrain the model afterwards",
        required=False,
        initial=DEFAULTS.retrain,
        help_text="train the structural model again on the grown catalogue when the round ends",
    )
    launch_hull_set = forms.ChoiceField(
        label="Hull set",
        choices=choices(HULL_SET_LABELS),
        initial="all",
        help_text="the hull the candidates are measured against",
    )

    missing_models: list[str] = []  # the kinds of model the round needs and lacks, once cleaned
    members_needed: int | None = None  # the ensemble size they need, once cleaned

    class Meta:
        model = Round
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the ensemble rounds ask for by default: the paper's 10, the embedded demo's own (settings)
        self.fields["ensemble_size"].initial = settings.PORTAL_ROUND_ENSEMBLE_SIZE

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
            "volumes": data["volumes"] or DEFAULTS.volumes,
            "iqr_weight": data["iqr_weight"] or 0.0,
            "random_structures": data["random_structures"] or DEFAULTS.random_structures,
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
                models_check(generators=list(cleaned["generators"]), ensemble_size=cleaned["ensemble_size"])
            except ModelsMissing as exc:
                self.missing_models = exc.kinds
                self.members_needed = exc.members
                self.add_error(None, forms.ValidationError(str(exc), code="models_missing"))
        return cleaned


class TrainingForm(forms.Form):
    """What staff choose when they train an ensemble from the dashboard; ``training_start`` validates again."""

    kind = forms.ChoiceField(
        label="Model",
        choices=choices(MODEL_KIND_LABELS),
        initial="structural",
        help_text="the structural model filters every round's candidates; the compositional one is needed by the "
        "new-compositions generator",
    )
    preset = forms.ChoiceField(
        label="Size",
        choices=[("demo", "Demo model (minutes)"), ("full", "Full CPU model (tens of minutes)")],
        initial="demo",
        help_text="the demo model is the small one a fresh portal trains on its first start",
    )
    n_models = forms.IntegerField(
        label="Models in the ensemble",
        min_value=1,
        max_value=32,
        initial=2,
        help_text="each is trained on its own; predictions are their median (paper: 10)",
    )
    epochs = forms.IntegerField(
        label="Epochs per model",
        min_value=1,
        max_value=MAX_EPOCHS,
        required=False,
        help_text="passes over the training data; leave blank for the size's default",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["n_models"].initial = settings.PORTAL_DEMO_MODEL_MEMBERS
