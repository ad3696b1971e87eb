"""What a web server process loads once, before it serves: every view and the modules they import.

Django imports the URL configuration, and with it the views, the serializers, pymatgen, the OPTIMADE package and
its grammar, on the first request a process serves (1.5 s here). Loaded from the WSGI module instead, a server
that loads the application before it forks its workers (gunicorn's ``preload_app``, as
``portal/gunicorn_conf.py`` sets) does it once, and every worker starts with it in memory shared with the
others. Nothing here touches the database: a connection opened before the fork would be shared by the workers.

The objects loaded so far are then moved out of the garbage collector's reach (``gc.freeze``): they live as
long as the process, and a full collection in a worker scanned all of them (about 150 ms with a quarter of a
million objects, with every thread of that worker stopped), where it now scans what requests made. Frozen
objects are never written by the collector either, so the workers' pages stay shared after the fork.
"""

import gc

from django.urls import get_resolver


def load_for_serving() -> None:
    """Import everything the URL configuration reaches, then freeze what is loaded (see the module's text)."""
    get_resolver().url_patterns  # noqa: B018 (the property imports the URL modules and their views)
    gc.collect()
    gc.freeze()
