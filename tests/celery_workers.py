"""Real Celery worker processes against real Redis, for the tests of background work."""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from portal.celery import app

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[1]


def require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(
            f"Redis is not reachable at {REDIS_URL} ({exc}); start it (scripts/services.sh) or set PORTAL_TEST_REDIS_URL"
        )


def worker_database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    host = settings.get("HOST") or "127.0.0.1"
    return f"postgres://{user}{password}@{host}:{settings.get('PORT') or 5432}/{settings['NAME']}"


class Worker:
    """``celery -A portal worker`` consuming ``queues``, with its log in ``log_path``."""

    def __init__(self, queues: list[str], log_path: Path, extra_env: dict | None = None) -> None:
        self.queues = queues
        self.log_path = log_path
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.test",
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            **(extra_env or {}),
        }
        self._log = open(log_path, "a")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "-Q",
                ",".join(queues),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: the worker dies mid-task, with no chance to clean up."""
        self.process.kill()
        self.process.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if not self._log.closed:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text()[-5000:]


@contextlib.contextmanager
def sending_to_redis():
    """Make this process's Celery app send its tasks to Redis (the test settings default to memory://)."""
    previous = app.conf.broker_url
    app.conf.broker_url = REDIS_URL
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url = previous
        app._pool = None
        app.amqp._producer_pool = None
