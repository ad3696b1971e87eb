"""gunicorn settings of a deployment: ``gunicorn -c python:portal.gunicorn_conf portal.wsgi``.

Command-line options given after ``-c`` win over these; the environment sets them without editing this file:

- ``GUNICORN_BIND`` (default ``127.0.0.1:8000``): where to listen, behind a buffering proxy such as nginx;
- ``WEB_CONCURRENCY`` (default 2 x CPUs + 1): worker processes;
- ``GUNICORN_WORKER_CLASS`` (default ``sync``) and ``GUNICORN_THREADS`` (default 1).

Why sync workers: a request here is CPU work in Python with short database waits, so what decides latency under
load is which request runs next. Sync workers take connections from the one listening socket, in the order
they arrived, one at a time each, and a process's CPU belongs to its one request. Threaded workers (``gthread``)
keep each keep-alive connection in the worker that accepted it: with 20 clients on 2 CPUs, two of four workers
held all the connections, and their threads then queued on one interpreter lock each, so a request's latency
depended on where its connection happened to land. ``bench/api_bench.py --servers sync gthread`` measures both
side by side. Sync workers do not hold keep-alive connections, which the proxy in front of them (nginx) needs
not: it keeps its own to the clients, and it buffers slow ones so a worker never waits on a client's network.

The application is loaded before the workers fork (``preload_app``): the views and the modules they import are
loaded and frozen once (``portal/warmup.py``), and the workers share those pages.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", 1))
preload_app = True
# A sync worker is killed when one response takes longer than this, streamed ones included: the bulk export of
# all 1,000,000 entries of the API benchmark's catalogue took 60 s, so 600 s leaves room for ten times that.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 600))
