from django.apps import AppConfig


class HullConfig(AppConfig):
    name = "hull"
    verbose_name = "Catalogue and thermodynamics"
    default_auto_field = "django.db.models.BigAutoField"
