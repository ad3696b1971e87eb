#!/usr/bin/env bash
# Set up everything on a fresh machine and run the portal on the embedded default:
# SQLite under var/, a Celery worker on kombu's filesystem broker with beat inside it (-B: the recovery sweep
# that fails the tasks of a killed worker and resumes their discovery rounds), the demo catalogue.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export DJANGO_SETTINGS_MODULE=portal.settings.local
PORT=${PORT:-8000}
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py load_demo
# A fresh portal trains its demo structural ensemble on the worker below (a few minutes; progress on /discovery/).
# No worker runs yet, so a training the last stop cut off is queued again.
.venv/bin/python manage.py models_bootstrap --interrupted
mkdir -p var/log
.venv/bin/celery -A portal worker -B --pool=solo -Q celery,cpu,gpu --loglevel=INFO >var/log/celery.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo
echo "The portal is running at http://127.0.0.1:${PORT}/  (Celery worker pid $worker, log var/log/celery.log; Ctrl-C stops both)"
echo
.venv/bin/python manage.py runserver "127.0.0.1:${PORT}"
