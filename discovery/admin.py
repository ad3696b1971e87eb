from django.contrib import admin, messages

from discovery.control import round_act
from discovery.forms import RoundLaunchForm
from discovery.models import Candidate, Round, RoundStage, TrainedModel
from discovery.permissions import round_launch_allowed
from discovery.services import round_create
from hull.errors import CatalogueError


class RoundStageInline(admin.TabularInline):
    model = RoundStage
    extra = 0
    fields = ("name", "status", "done", "total", "message", "started_at", "finished_at")
    readonly_fields = fields
    can_delete = False


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
        "dispatch",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    )
    inlines = [RoundStageInline]
    actions = ["cancel", "retry", "resume"]

    def has_add_permission(self, request):
        return round_launch_allowed(request.user)

    def has_launch_permission(self, request) -> bool:
        return round_launch_allowed(request.user)

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

    def _act(self, request, queryset, action: str) -> None:
        for round in queryset:
            try:
                messages.success(request, round_act(round=round, action=action, user=request.user))
            except CatalogueError as exc:
                messages.error(request, str(exc))

    @admin.action(description="Cancel the selected rounds", permissions=["launch"])
    def cancel(self, request, queryset):
        self._act(request, queryset, "cancel")

    @admin.action(description="Retry the selected failed or cancelled rounds", permissions=["launch"])
    def retry(self, request, queryset):
        self._act(request, queryset, "retry")

    @admin.action(description="Resume the selected rounds (after a worker died)", permissions=["launch"])
    def resume(self, request, queryset):
        self._act(request, queryset, "resume")


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = (
        "candidate_id",
        "round",
        "generator",
        "composition",
        "status",
        "kept",
        "baseline",
        "predicted_formation_energy",
        "predicted_iqr",
        "predicted_decomposition_energy",
        "decomposition_energy",
    )
    list_filter = ("status", "generator", "kept", "baseline", "round")
    search_fields = ("=candidate_id", "composition", "parent_id")
    raw_id_fields = ("round", "entry")


@admin.register(TrainedModel)
class TrainedModelAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "n_models", "n_train", "n_test", "is_active", "created_at")
    list_filter = ("kind", "is_active", "hull_set")
