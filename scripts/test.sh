#!/usr/bin/env bash
# Run the whole test suite on a fresh machine: install what is missing, start PostgreSQL and Redis if they
# are not running, then lint, check migrations and run pytest on SQLite and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/services.sh
# Headless Chromium and its driver for the browser tests (tests/portal/pages/test_browser.py).
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
fi
export PYTHONUNBUFFERED=1
# strict: a test whose data is missing fails, and any skipped test fails the run (tests/conftest.py)
export PORTAL_TESTS_STRICT=1
.venv/bin/ruff check .
.venv/bin/ruff format --check .
DJANGO_SETTINGS_MODULE=portal.settings.test .venv/bin/python manage.py makemigrations --check --dry-run
PG_URL=${PORTAL_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/portal}
echo "=== test suite on SQLite ==="
env -u DATABASE_URL .venv/bin/python -m pytest "$@"
echo "=== test suite on PostgreSQL ($PG_URL) ==="
DATABASE_URL="$PG_URL" .venv/bin/python -m pytest "$@"
