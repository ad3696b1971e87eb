"""The Celery application, configured from Django settings (namespace ``CELERY``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["discovery.benchmark"])  # the rediscovery benchmark job
