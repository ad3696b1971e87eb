from django.contrib import admin

from hull.models import ChemicalSystem, Entry, HullRecord, HullSetState, IngestBatch, Stability


class StabilityInline(admin.TabularInline):
    model = Stability
    extra = 0
    can_delete = False
    fields = ("hull_set", "formation_energy_per_atom", "e_above_hull", "decomposition_energy", "is_stable")
    readonly_fields = fields


class StableFilter(admin.SimpleListFilter):
    title = "stability (dft hull)"
    parameter_name = "stable"

    def lookups(self, request, model_admin):
        return [("yes", "stable"), ("no", "unstable"), ("unknown", "no reference")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "yes":
            return queryset.filter(stabilities__hull_set="dft", stabilities__is_stable=True)
        if value == "no":
            return queryset.filter(stabilities__hull_set="dft", stabilities__is_stable=False)
        if value == "unknown":
            return queryset.filter(stabilities__hull_set="dft", stabilities__is_stable__isnull=True)
        return queryset


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "reduced_formula",
        "chemsys",
        "nsites",
        "energy_per_atom",
        "source",
        "source_id",
        "method",
    )
    list_filter = (StableFilter, "nelements", "source", "method", "method_family")
    search_fields = ("=public_id", "=source_id", "reduced_formula", "=chemsys__name")
    raw_id_fields = ("batch",)
    readonly_fields = ("public_id", "created_at", "updated_at", "content_hash")
    inlines = [StabilityInline]
    show_full_result_count = False


@admin.register(ChemicalSystem)
class ChemicalSystemAdmin(admin.ModelAdmin):
    list_display = ("name", "nelements")
    list_filter = ("nelements",)
    search_fields = ("name",)


@admin.register(IngestBatch)
class IngestBatchAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "source",
        "fmt",
        "path",
        "status",
        "n_loaded",
        "n_updated",
        "n_skipped",
        "n_rejected",
        "created_at",
    )
    list_filter = ("status", "source", "fmt")
    readonly_fields = ("created_at", "finished_at")


@admin.register(HullRecord)
class HullRecordAdmin(admin.ModelAdmin):
    list_display = ("chemsys", "hull_set", "n_entries", "version", "computed_at")
    list_filter = ("hull_set",)
    search_fields = ("=chemsys__name",)


admin.site.register(HullSetState)
