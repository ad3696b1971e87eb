"""WSGI entry point: the application, with every view loaded before the first request (portal/warmup.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
application = get_wsgi_application()

from portal.warmup import load_for_serving  # noqa: E402 (needs the settings the application set up)

load_for_serving()
