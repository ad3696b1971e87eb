from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "portal.workers"
    label = "workers"
    verbose_name = "Celery workers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from portal.workers import heartbeat

        heartbeat.connect_signals()
