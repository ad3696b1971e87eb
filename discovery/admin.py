from django import forms
from django.contrib import admin, messages

from discovery.models import Candidate, Round, RoundStage, TrainedModel
from discovery.services import (
    EVALUATORS,
    GENERATORS,
    SELECTIONS,
    RoundConfig,
    round_cancel,
    round_create,
    round_resume,
    round_retry,
)
from hull.errors import CatalogueError
from hull.hull_sets import HULL_SETS

DEFAULTS = RoundConfig()


class RoundStageInline(admin.TabularInline):
    model = RoundStage
    extra = 0
    fields = ("name", "status", "done", "total", "message", "started_at", "finished_at")
    readonly_fields = fields
    can_delete = False


class RoundLaunchForm(forms.ModelForm):
    """What an admin chooses when launching a round; the service validates it again."""

    elements = forms.CharField(required=False, help_text="scope: elements, comma-separated (e.g. Li, Mn, O)")
    chemsys = forms.CharField(
        required=False, help_text="scope: chemical systems, comma-separated (e.g. Li-Co-O)"
    )
    generators = forms.MultipleChoiceField(
        choices=[(g, g) for g in GENERATORS], initial=DEFAULTS.generators, widget=forms.CheckboxSelectMultiple
    )
    budget = forms.IntegerField(initial=DEFAULTS.budget, min_value=1, help_text="candidates generated")
    eval_budget = forms.IntegerField(
        initial=DEFAULTS.eval_budget, min_value=1, help_text="candidates evaluated"
    )
    baseline_size = forms.IntegerField(initial=DEFAULTS.baseline_size, min_value=0)
    threshold = forms.FloatField(
        initial=DEFAULTS.threshold, help_text="eV/atom above the hull kept by the filter"
    )
    selection = forms.ChoiceField(choices=[(s, s) for s in SELECTIONS], initial=DEFAULTS.selection)
    evaluator = forms.ChoiceField(choices=[(e, e) for e in EVALUATORS], initial=DEFAULTS.evaluator)
    ensemble_size = forms.IntegerField(initial=DEFAULTS.ensemble_size, min_value=1, max_value=32)
    retrain = forms.BooleanField(required=False, initial=DEFAULTS.retrain)
    launch_hull_set = forms.ChoiceField(label="Hull set", choices=[(h, h) for h in HULL_SETS], initial="all")

    class Meta:
        model = Round
        fields = ()

    def config(self) -> dict:
        data = self.cleaned_data
        return {
            "elements": [e.strip() for e in data["elements"].split(",") if e.strip()],
            "chemsys": [c.strip() for c in data["chemsys"].split(",") if c.strip()],
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
                raise forms.ValidationError(str(exc)) from exc
        return cleaned


@admin.register(Round)
class RoundAdmin(admin.ModelAdmin):
    list_display = ("number", "status", "hull_set", "created_by", "created_at", "finished_at")
    list_filter = ("status", "hull_set")
    readonly_fields = (
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
    )
    inlines = [RoundStageInline]
    actions = ["cancel", "retry", "resume"]

    def has_add_permission(self, request):
        return request.user.is_staff

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = RoundLaunchForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(RoundLaunchForm.base_fields)
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def save_model(self, request, obj, form, change):
        if change:
            return
        launched = round_create(config=form.config(), user=request.user)
        obj.pk = launched.pk
        obj.__dict__.update({k: v for k, v in launched.__dict__.items() if not k.startswith("_")})
        messages.success(request, f"Round {launched.number} launched.")

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def _act(self, request, queryset, service, verb):
        for round in queryset:
            try:
                service(round=round)
                messages.success(request, f"Round {round.number} {verb}.")
            except CatalogueError as exc:
                messages.error(request, str(exc))

    @admin.action(description="Cancel the selected rounds")
    def cancel(self, request, queryset):
        self._act(request, queryset, round_cancel, "cancelled")

    @admin.action(description="Retry the selected failed or cancelled rounds")
    def retry(self, request, queryset):
        self._act(request, queryset, round_retry, "retried")

    @admin.action(description="Resume the selected rounds (after a worker died)")
    def resume(self, request, queryset):
        self._act(request, queryset, round_resume, "resumed")


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = (
        "candidate_id",
        "round",
        "generator",
        "composition",
        "status",
        "baseline",
        "predicted_decomposition_energy",
        "decomposition_energy",
    )
    list_filter = ("status", "generator", "baseline", "round")
    search_fields = ("=candidate_id", "composition", "parent_id")
    raw_id_fields = ("round", "entry")


@admin.register(TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "n_models", "n_train", "n_test", "is_active", "created_at")
    list_filter = ("kind", "is_active", "hull_set")
