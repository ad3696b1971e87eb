from django.contrib import admin

from portal.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens can be seen (by their first characters) and revoked here; users make their own on /api/token/."""

    list_display = ("prefix", "user", "created")
    search_fields = ("user__username", "prefix")
    readonly_fields = ("user", "prefix", "created")
    exclude = ("digest",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
