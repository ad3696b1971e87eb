"""Test settings: same database choice as the environment says (SQLite by default, PostgreSQL with
DATABASE_URL). The SQLite test database is a file (not in memory) so that a real Celery worker process
can open it."""

import os

from portal.settings.base import *  # noqa: F403
from portal.settings.base import DATABASES, STORAGES, VAR_DIR, env

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
# Models the tests train go to a store of their own (worker processes started by tests read the same one);
# its keys name their content, so runs side by side share it safely.
if "PORTAL_MODEL_STORAGE" not in os.environ:
    STORAGES["models"]["OPTIONS"]["location"] = str(VAR_DIR / "test-model-store")
