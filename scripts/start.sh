#!/usr/bin/env bash
# Set up everything on a fresh machine and run the portal on the embedded default:
# SQLite under var/, a Celery worker per kind of work on kombu's filesystem broker (portal/workers/layout.py), with
# beat inside the interactive one (-B: the recovery sweep that fails the tasks of a killed worker and resumes their
# discovery rounds), the demo catalogue.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export DJANGO_SETTINGS_MODULE=portal.settings.local
PORT=${PORT:-8000}
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py load_demo
# A fresh portal trains its demo structural ensemble on the heavy worker below (a few minutes; progress on /discovery/).
# No worker runs yet, so a training the last stop cut off is queued again.
.venv/bin/python manage.py models_bootstrap --interrupted
mkdir -p var/log
# A worker per queue (interactive, rounds, heavy, background), so that a round launched while the catalogue's
# features compute starts at once and the first start's training waits for nothing; the background worker runs a
# process per core at a lower priority.
workers=()
while read -r kind niceness arguments; do
  # shellcheck disable=SC2086 # the arguments are words without spaces
  nice -n "$niceness" .venv/bin/celery -A portal $arguments --loglevel=INFO </dev/null >"var/log/celery-$kind.log" 2>&1 &
  workers+=($!)
done < <(.venv/bin/python manage.py embedded_workers)
trap 'kill "${workers[@]}" 2>/dev/null || true' EXIT INT TERM
echo
echo "The portal is running at http://127.0.0.1:${PORT}/  (Celery workers pids ${workers[*]}, logs var/log/celery-*.log; Ctrl-C stops them all)"
echo
.venv/bin/python manage.py runserver "127.0.0.1:${PORT}"
