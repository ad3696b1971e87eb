"""Test settings: same database choice as the environment says (SQLite by default, PostgreSQL with
DATABASE_URL). The SQLite test database is a file (not in memory) so that a real Celery worker process
can open it."""

import os

from portal.settings.base import *  # noqa: F403
from portal.settings.base import DATABASES, VAR_DIR, env

DEBUG = False
SECRET_KEY = "test-only-not-secret"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# One test database per test process, so that test runs started side by side never share one.
_run = os.environ.get("PORTAL_TEST_RUN_ID", str(os.getpid()))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-portal-{_run}.sqlite3")}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_run}"}
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="memory://")
