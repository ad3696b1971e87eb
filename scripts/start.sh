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
# A fresh portal trains its demo structural ensemble on the models worker below (a few minutes; progress on /discovery/).
# No worker runs yet, so a training the last stop cut off is queued again.
.venv/bin/python manage.py models_bootstrap --interrupted
mkdir -p var/log
.venv/bin/celery -A portal worker -B --pool=solo -Q celery,cpu --loglevel=INFO >var/log/celery.log 2>&1 &
worker=$!
# The models' queue (training, and the filter and retrain stages of rounds) has a worker of its own, so the first
# start's training does not wait behind the catalogue's feature computation.
.venv/bin/celery -A portal worker --pool=solo -Q gpu -n models@%h --loglevel=INFO >var/log/celery-models.log 2>&1 &
models_worker=$!
trap 'kill $worker $models_worker 2>/dev/null || true' EXIT INT TERM
echo
echo "The portal is running at http://127.0.0.1:${PORT}/  (Celery workers pids $worker and $models_worker, logs var/log/celery*.log; Ctrl-C stops them all)"
echo
.venv/bin/python manage.py runserver "127.0.0.1:${PORT}"
