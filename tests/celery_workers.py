"""Real Celery worker processes against real Redis, for the tests of background work."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from portal.celery import app

REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Workers with a short visibility timeout restore every message of their Redis database held longer than that
# by a worker that does not beat: the recovery tests keep to a database of their own.
RECOVERY_REDIS_URL = os.environ.get("PORTAL_TEST_RECOVERY_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parents[1]


def require_redis(url: str = REDIS_URL) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(
            f"Redis is not reachable at {url} ({exc}); start it (scripts/services.sh) or set PORTAL_TEST_REDIS_URL"
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
    """``celery -A portal worker`` consuming ``queues``, with its log in ``log_path``; ``name`` gives it a node
    name of its own (``w1@%h``) where several run side by side."""

    def __init__(
        self,
        queues: list[str],
        log_path: Path,
        extra_env: dict | None = None,
        name: str | None = None,
        broker_url: str = REDIS_URL,
    ) -> None:
        self.queues = queues
        self._start(
            [
                "worker",
                "--pool=solo",
                "-Q",
                ",".join(queues),
                *(["-n", name] if name else []),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            log_path,
            extra_env,
            broker_url,
        )

    def _start(
        self, arguments: list[str], log_path: Path, extra_env: dict | None, broker_url: str, nice: int = 0
    ) -> None:
        self.log_path = log_path
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings.test",
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": broker_url,
            **(extra_env or {}),
        }
        self._log = open(log_path, "a")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "portal", *arguments],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
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


class PlannedWorker(Worker):
    """A worker as the embedded default starts it (``portal.workers.layout``: its queue, pool, beat and niceness),
    named ``name``."""

    def __init__(self, plan, log_path: Path, extra_env: dict, name: str, broker_url: str) -> None:
        from portal.workers.routing import queue_of

        self.queues = [queue_of(plan.kind)]
        quiet = ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"]
        self._start([*plan.arguments(name=name), *quiet], log_path, extra_env, broker_url, nice=plan.nice)


class Beat(Worker):
    """``celery -A portal beat``: sends the periodic tasks (the recovery sweep), its schedule in ``log_path``'s
    folder."""

    def __init__(self, log_path: Path, extra_env: dict | None = None, broker_url: str = REDIS_URL) -> None:
        schedule = log_path.with_name(f"{log_path.stem}-schedule")
        self._start(["beat", "-s", str(schedule), "--loglevel=INFO"], log_path, extra_env, broker_url)


def wait_for(condition, timeout: float, what: str, *processes: Worker, interval: float = 0.5):
    """The first true value of ``condition()`` within ``timeout`` seconds; fails with the processes' logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    logs = "\n".join(f"--- {p.log_path.name}:\n{p.log()}" for p in processes)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}\n{logs}")


def forget_redis_keys(url: str, tag: str) -> None:
    """Delete what a test left in Redis: its queues and bindings (named with ``tag``) and the unacknowledged
    messages of its killed workers, which a later worker would otherwise restore."""
    import redis

    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"*{tag}*"):
        client.delete(key)
    for delivery_tag, payload in client.hscan_iter("unacked"):
        if tag.encode() in payload:
            client.hdel("unacked", delivery_tag)
            client.zrem("unacked_index", delivery_tag)


def queues_of_test(settings, tag: str) -> dict[str, str]:
    """Give every queue of the portal (the ``PORTAL_<KIND>_QUEUE`` settings) a name of this test alone; the
    environment that tells worker processes the same."""
    from portal.workers.routing import KINDS

    names = {f"PORTAL_{kind.upper()}_QUEUE": f"{kind}-{tag}" for kind in KINDS}
    for setting, name in names.items():
        setattr(settings, setting, name)
    return names


@contextlib.contextmanager
def sending_to_redis(url: str = REDIS_URL, transport_options: dict | None = None):
    """Make this process's Celery app send its tasks to Redis (the test settings default to memory://), or to
    another broker ``url`` with its ``transport_options``."""
    previous = app.conf.broker_url, app.conf.broker_transport_options
    app.conf.broker_url = url
    if transport_options is not None:
        app.conf.broker_transport_options = transport_options
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = previous
        app._pool = None
        app.amqp._producer_pool = None


def sending_to_filesystem(var_dir: Path):
    """Make this process's Celery app send its tasks to kombu's filesystem broker under ``var_dir`` (the embedded
    default's, as workers with ``PORTAL_VAR_DIR=var_dir`` and ``CELERY_BROKER_URL=filesystem://`` read it)."""
    from portal.settings.base import filesystem_broker_options

    return sending_to_redis("filesystem://", filesystem_broker_options(var_dir))
