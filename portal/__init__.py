"""The materials-discovery portal: the Django project (settings, URLs, Celery app, pages and APIs)."""

from portal.celery import app as celery_app

__all__ = ("celery_app",)
