"""Local development: the embedded default (SQLite + filesystem broker), debug on."""

from portal.settings.base import *  # noqa: F403
from portal.settings.base import PORTAL_DEMO_MODEL_MEMBERS, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"])
# The embedded demo trains a small ensemble on its first start (PORTAL_DEMO_MODEL_MEMBERS): its rounds ask for
# that many members, and every round and page shows the number (the paper used 10: train_models --models 10).
PORTAL_ROUND_ENSEMBLE_SIZE = env.int("PORTAL_ROUND_ENSEMBLE_SIZE", default=PORTAL_DEMO_MODEL_MEMBERS)
