from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    name = "discovery"
    verbose_name = "Discovery rounds"
    default_auto_field = "django.db.models.BigAutoField"
