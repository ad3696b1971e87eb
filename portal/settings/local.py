"""Local development: the embedded default (SQLite + filesystem broker), debug on."""

from portal.settings.base import *  # noqa: F403
from portal.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"])
