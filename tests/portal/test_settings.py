"""Settings come from the environment; production refuses to start without a secret key."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]


def _run_check(env_extra: dict) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL")
    }
    env.update(env_extra)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_needs_a_secret_key():
    result = _run_check({"DJANGO_SETTINGS_MODULE": "portal.settings.production", "DJANGO_ALLOWED_HOSTS": "x"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_reads_database_and_broker_from_the_environment():
    result = _run_check(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "portal.example.org",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "redis://127.0.0.1:6379/0"]


def test_local_default_is_embedded():
    result = _run_check({"DJANGO_SETTINGS_MODULE": "portal.settings.local"})
    assert result.returncode == 0, result.stderr
    engine, broker = result.stdout.split()
    assert engine == "django.db.backends.sqlite3" and broker == "filesystem://"


def test_postgresql_connections_start_no_parallel_workers_unless_told():
    """A PostgreSQL connection of the portal's runs with max_parallel_workers_per_gather 0, the number
    DJANGO_DB_PARALLEL_WORKERS gives, or the server's own with "server" (checked on live connections: the option
    must reach the server); anything else stops the start with a message naming the variable."""
    show = (
        "import django; django.setup(); from django.db import connection; c = connection.cursor(); "
        "c.execute('SHOW max_parallel_workers_per_gather'); print(c.fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_DB_PARALLEL_WORKERS")}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings.local",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
    )
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as plain:
        server_default = plain.execute("SHOW max_parallel_workers_per_gather").fetchone()[0]
    cases = (
        ({}, "0"),
        ({"DJANGO_DB_PARALLEL_WORKERS": "3"}, "3"),
        ({"DJANGO_DB_PARALLEL_WORKERS": "server"}, server_default),
    )
    for extra, expected in cases:
        result = subprocess.run(
            [sys.executable, "-c", show],
            cwd=ROOT,
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == expected
    bad = subprocess.run(
        [sys.executable, "-c", show],
        cwd=ROOT,
        env={**env, "DJANGO_DB_PARALLEL_WORKERS": "two"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        bad.returncode != 0
        and "DJANGO_DB_PARALLEL_WORKERS must be a number of workers or 'server'" in bad.stderr
    )
