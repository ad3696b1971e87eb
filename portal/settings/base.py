"""Settings shared by every environment, read from the environment (django-environ).

``DATABASE_URL``        default: SQLite file ``var/portal.sqlite3``; production: ``postgres://...`` (psycopg 3)
``CELERY_BROKER_URL``   default: kombu's filesystem transport under ``var/broker`` (no server needed);
                        production: ``redis://127.0.0.1:6379/0``
``PORTAL_SHARED_DATA``  folder with the real data files (default: ``../shared/data`` beside the project root)
"""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_celery_results",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal",
    "hull",
    "discovery",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.ContentSecurityPolicyMiddleware",
    "portal.middleware.RejectNulMiddleware",
    "portal.middleware.ReadOnlyCorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.PageThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
# Keep connections open between requests (a new PostgreSQL connection costs more than most queries).
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a worker writes; the timeout makes writers queue instead of failing, and
    # transactions that take the write lock when they begin queue too (a transaction that read first and then
    # writes after another process wrote fails at once with "database is locked", whatever the timeout: the
    # embedded default's workers write side by side).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
    )
else:
    # Parameters travel apart from the query text, so that psycopg prepares a query the connection has run a few
    # times (its prepare_threshold) and PostgreSQL plans it once instead of on every request.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "server_side_binding", env.bool("DJANGO_DB_SERVER_SIDE_BINDING", default=True)
    )
    # Parallel workers a query of the portal's may start (PostgreSQL's max_parallel_workers_per_gather): none by
    # default. The portal's queries read a page or a system; starting workers for one took longer than the work
    # (1M entries, the first page of Li and O by id: 26 ms with two workers, 12 ms without), and their CPU is
    # taken from the requests running beside it. "server" sends no setting (PgBouncer refuses the startup
    # option unless its ignore_startup_parameters names "options"), leaving the server's own.
    _parallel_workers = env.str("DJANGO_DB_PARALLEL_WORKERS", default="0").strip()
    if _parallel_workers != "server":
        if not _parallel_workers.isdigit():
            raise ImproperlyConfigured(
                f"DJANGO_DB_PARALLEL_WORKERS must be a number of workers or 'server', not {_parallel_workers!r}"
            )
        DATABASES["default"]["OPTIONS"].setdefault(
            "options", f"-c max_parallel_workers_per_gather={_parallel_workers}"
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")


def filesystem_broker_options(var_dir: Path) -> dict:
    """kombu's filesystem transport in folders under ``var_dir/broker`` (made here)."""
    broker_dir = var_dir / "broker"
    for folder in ("queue", "processed", "control"):
        (broker_dir / folder).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(broker_dir / "queue"),
        "data_folder_out": str(broker_dir / "queue"),
        "processed_folder": str(broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(broker_dir / "control"),
    }


if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR)
# Workers that recover (portal.workers): every worker process writes a heartbeat for the tasks it runs every
# PORTAL_TASK_HEARTBEAT_SECONDS and, on Redis, keeps the messages it holds from being redelivered; a task with
# no heartbeat for PORTAL_TASK_LOST_AFTER seconds lost its worker. Redis then redelivers its message after the
# visibility timeout (a live worker's messages never reach it, however long their tasks run), and the
# recovery sweep, sent by beat every PORTAL_RECOVERY_SWEEP_SECONDS, marks its result failed and resumes its
# round. The filesystem broker forgets a message once a worker took it: there the sweep alone recovers.
PORTAL_TASK_HEARTBEAT_SECONDS = env.float("PORTAL_TASK_HEARTBEAT_SECONDS", default=10.0)
PORTAL_TASK_LOST_AFTER = env.float("PORTAL_TASK_LOST_AFTER", default=60.0)
PORTAL_TASK_VISIBILITY_TIMEOUT = env.int("PORTAL_TASK_VISIBILITY_TIMEOUT", default=300)
PORTAL_RECOVERY_SWEEP_SECONDS = env.float("PORTAL_RECOVERY_SWEEP_SECONDS", default=30.0)
if min(PORTAL_TASK_LOST_AFTER, PORTAL_TASK_VISIBILITY_TIMEOUT) < 3 * PORTAL_TASK_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "PORTAL_TASK_LOST_AFTER and PORTAL_TASK_VISIBILITY_TIMEOUT must be at least 3 heartbeats "
        f"(PORTAL_TASK_HEARTBEAT_SECONDS={PORTAL_TASK_HEARTBEAT_SECONDS:g})"
    )
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": PORTAL_TASK_VISIBILITY_TIMEOUT,
        # an idle worker looks for messages past their timeout this often (kombu's default: every 100 s)
        "unacked_restore_interval": max(1, min(10, PORTAL_TASK_VISIBILITY_TIMEOUT // 6)),
        "unacked_restore_throttle": 1,
    }
INSTALLED_APPS += ["portal.workers"]  # task heartbeats and the recovery sweep
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_TRACK_STARTED = True
CELERY_TASK_ACKS_LATE = True
# a task whose worker process died (prefork: the pool's child was killed) goes back to the queue, not to FAILURE
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Queues by kind of work, each with workers of its own, so that no kind waits behind another
# (portal/workers/routing.py sends every task to one): interactive (hull updates, the recovery sweep), rounds
# (the stages that move a discovery round on), heavy (evaluation, retraining, model training: a GPU host's
# worker takes it) and background (structure features of new entries).
PORTAL_INTERACTIVE_QUEUE = env.str("PORTAL_INTERACTIVE_QUEUE", default="interactive")
PORTAL_ROUNDS_QUEUE = env.str("PORTAL_ROUNDS_QUEUE", default="rounds")
PORTAL_HEAVY_QUEUE = env.str("PORTAL_HEAVY_QUEUE", default="heavy")
PORTAL_BACKGROUND_QUEUE = env.str("PORTAL_BACKGROUND_QUEUE", default="background")
CELERY_TASK_ROUTES = ["portal.workers.routing.route_task"]
# a worker started without -Q takes every kind of work; a task the table does not name goes with the rounds
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in (PORTAL_INTERACTIVE_QUEUE, PORTAL_ROUNDS_QUEUE, PORTAL_HEAVY_QUEUE, PORTAL_BACKGROUND_QUEUE)
]
CELERY_TASK_DEFAULT_QUEUE = PORTAL_ROUNDS_QUEUE
# beat (`celery worker -B`, or `celery beat` beside the workers) sends the recovery sweep
CELERY_BEAT_SCHEDULE = {
    "recover-lost-work": {
        "task": "portal.recover_lost_work",
        "schedule": PORTAL_RECOVERY_SWEEP_SECONDS,
        "options": {"expires": PORTAL_RECOVERY_SWEEP_SECONDS},
    }
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
PORTAL_VASP_COMMAND = env.str("PORTAL_VASP_COMMAND", default="")
# torch threads per worker process for CHGNet relaxations: a prefork worker runs one process per core, and
# more threads than that oversubscribe the cores (on this 2-core machine 2 threads each were 10x slower).
PORTAL_EVALUATOR_THREADS = env.int("PORTAL_EVALUATOR_THREADS", default=1)

# --- REST API (Django REST framework, drf-spectacular) -----------------------------------------------
# Proxies of our own in front of the server, each appending to X-Forwarded-For: the client's address is the entry
# that many hops from the right (portal/client_address.py); 0: REMOTE_ADDR.
PORTAL_TRUSTED_PROXIES = env.int("PORTAL_TRUSTED_PROXIES", default=0)
# Rate limits per throttle scope (portal/api/throttling.py): the environment variable that sets each, and its default
THROTTLE_RATE_DEFAULTS = {
    "anon": ("PORTAL_ANON_THROTTLE", "120/min"),
    "user": ("PORTAL_USER_THROTTLE", "1200/min"),
    # the pages (search, material, phase diagram, ..., the admin) and sign-in attempts (POSTs, per address)
    "page_anon": ("PORTAL_PAGE_THROTTLE", "60/min"),
    "page_user": ("PORTAL_PAGE_USER_THROTTLE", "600/min"),
    "login": ("PORTAL_LOGIN_THROTTLE", "10/min"),
    # OPTIMADE (per address, or per user where one signs in): clients such as the official validator and pymatgen's
    # OptimadeRester page through results unpaced
    "optimade": ("PORTAL_OPTIMADE_THROTTLE", "1200/min"),
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # enforces CSRF for session users
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.KeysetCursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.api.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # ?format= selects a structure file format on material pages, not a renderer.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.AnonThrottle",
        "portal.api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        scope: env.str(variable, default=rate) for scope, (variable, rate) in THROTTLE_RATE_DEFAULTS.items()
    },
    # DRF's rule for the client address; every throttle of ours uses portal.client_address, the same rule
    "NUM_PROXIES": PORTAL_TRUSTED_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Materials discovery portal API",
    "DESCRIPTION": "Computed crystal structures, convex-hull stability per hull set, phase diagrams and discovery rounds.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Two choice sets of hull sets: every hull set (catalogue reads, the stability check) and the GGA-scale ones that
    # discovery rounds may use; each gets a name of its own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "HullSetEnum": "hull.models.ALL_HULL_SET_CHOICES",
        "RoundHullSetEnum": "hull.models.HULL_SET_CHOICES",
    },
}

# --- The portal -----------------------------------------------------------------------------------
PORTAL_SHARED_DATA = Path(env.str("PORTAL_SHARED_DATA", default=str(BASE_DIR.parent / "shared" / "data")))
# Prefix of public entry ids ("mdp-3k2j9x...") and of OPTIMADE provider fields.
PORTAL_ID_PREFIX = env.str("PORTAL_ID_PREFIX", default="mdp")
# CORS (django-cors-headers): browser pages on any origin may read the public data of the REST API (v1 and its
# schema) and OPTIMADE: ``Access-Control-Allow-Origin: *`` on their GET, HEAD and OPTIONS responses and preflights
# answered for those methods, without credentials; never on pages, the admin, sign-in or any other method
# (portal.middleware.ReadOnlyCorsMiddleware).
CORS_URLS_REGEX = env.str("PORTAL_CORS_URLS_REGEX", default=r"^/(api/(v1|schema)/|optimade/)")
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_PREFLIGHT_MAX_AGE = 86400
# spglib tolerance (Å) used for the stored space group of every structure.
PORTAL_SYMPREC = env.float("PORTAL_SYMPREC", default=0.1)
# Ingest limits per entry, checked before anything expensive (hull.ingest.checks): elements (a hull update
# enumerates all 2^n subsystems of an n-element entry), sites per cell, and the largest amount of one element.
PORTAL_MAX_ELEMENTS = env.int("PORTAL_MAX_ELEMENTS", default=10)
PORTAL_MAX_SITES = env.int("PORTAL_MAX_SITES", default=500)
PORTAL_MAX_AMOUNT = env.float("PORTAL_MAX_AMOUNT", default=1e6)
# Processes for large hull updates (20,000+ entries, rebuilds) run outside Celery's daemonic workers, which
# cannot fork; 1 computes in the calling process. One by default: since the engine's compiled kernels, shipping
# each level's results back from forked workers costs more than it saves (bench/hull_bench.py, 2 cores: 100k
# entries 3.8 s in one process, 5.6 s with 2 workers; 1M 42 s and 43 s).
PORTAL_HULL_WORKERS = env.int("PORTAL_HULL_WORKERS", default=1)
# Processes that check and prepare the rows of large ingests (20,000+ rows: structure parsing, spglib).
PORTAL_INGEST_WORKERS = env.int("PORTAL_INGEST_WORKERS", default=min(os.cpu_count() or 1, 4))
# Trained model checkpoints live in the storage named "models", shared by every host: a folder (default
# var/model-store; on several hosts a shared mount) or s3://bucket/prefix, S3-compatible object storage through
# django-storages[s3] (endpoint PORTAL_S3_ENDPOINT_URL, credentials AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
# PORTAL_MODEL_DIR is this host's cache of it (discovery/artefacts.py).
PORTAL_MODEL_STORAGE = env.str("PORTAL_MODEL_STORAGE", default=str(VAR_DIR / "model-store"))
PORTAL_MODEL_DIR = Path(env.str("PORTAL_MODEL_DIR", default=str(VAR_DIR / "models")))
if PORTAL_MODEL_STORAGE.startswith("s3://"):
    _bucket, _, _prefix = PORTAL_MODEL_STORAGE.removeprefix("s3://").partition("/")
    _model_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            "location": _prefix,
            "endpoint_url": env.str("PORTAL_S3_ENDPOINT_URL", default="") or None,
            "file_overwrite": True,
        },
    }
else:
    _model_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PORTAL_MODEL_STORAGE},
    }
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "models": _model_storage,
}
# The demo ensemble a fresh portal trains on its first start (manage.py models_bootstrap, run by scripts/start.sh)
# and the dashboard's "demo" preset: a config module under ml_backend/configs, members, epochs (0: the config's).
PORTAL_DEMO_MODEL_CONFIG = env.str("PORTAL_DEMO_MODEL_CONFIG", default="cpu_demo")
PORTAL_DEMO_MODEL_MEMBERS = env.int("PORTAL_DEMO_MODEL_MEMBERS", default=2)
PORTAL_DEMO_MODEL_EPOCHS = env.int("PORTAL_DEMO_MODEL_EPOCHS", default=0)
# Members of the ensemble a round asks for when its launcher does not say (the paper's 10). A round refuses to start
# when the active models have fewer; the embedded demo (settings.local) asks for its demo ensemble's members.
PORTAL_ROUND_ENSEMBLE_SIZE = env.int("PORTAL_ROUND_ENSEMBLE_SIZE", default=10)
# Sites closer than this (Å) make a structure invalid at ingest.
PORTAL_MIN_SITE_DISTANCE = env.float("PORTAL_MIN_SITE_DISTANCE", default=0.5)
# The GNoME release's pseudopotential shift of Materials Project energies (Ga, Ge, Li, Mg, Na; hull.gnome_release),
# applied to MP entries while GNoME entries share their hull set; false leaves MP energies as MP published them.
PORTAL_GNOME_PSEUDOPOTENTIAL_SHIFT = env.bool("PORTAL_GNOME_PSEUDOPOTENTIAL_SHIFT", default=True)

# The default cache holds throttle counters, OPTIMADE counts and kept catalogue reads: per process in memory by
# default; production names a shared one (CACHE_URL=redis://127.0.0.1:6379/1) so throttles count across processes.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# Seconds a catalogue read (API page, material, phase diagram, OPTIMADE) is kept per catalogue state
# (portal/response_cache.py); 0 turns the cache off. Writes through the services are seen at once regardless.
PORTAL_RESPONSE_CACHE_SECONDS = env.int("PORTAL_RESPONSE_CACHE_SECONDS", default=600)
# At most this many kept reads (slots, each overwritten by the next read hashed to it) and bytes per read (larger
# ones are not kept): the cache never holds more than their product.
PORTAL_RESPONSE_CACHE_KEYS = env.int("PORTAL_RESPONSE_CACHE_KEYS", default=1000)
PORTAL_RESPONSE_CACHE_ENTRY_BYTES = env.int("PORTAL_RESPONSE_CACHE_ENTRY_BYTES", default=256 * 1024)
# Seconds the number of rows of a filter is kept per catalogue state (REST lists' count, OPTIMADE's
# data_returned and data_available), so that paging through a result counts once.
PORTAL_COUNT_CACHE_SECONDS = env.int("PORTAL_COUNT_CACHE_SECONDS", default=300)
# REST lists count their rows exactly up to this many; beyond it PostgreSQL's planner estimate is given, with
# count_is_estimate true (hull/counting.py). SQLite always counts exactly.
PORTAL_EXACT_COUNT_LIMIT = env.int("PORTAL_EXACT_COUNT_LIMIT", default=100_000)

# Sign-in lockout (portal/login.py): this many wrong passwords for one username from one address within the
# period lock that username out from that address for the period.
PORTAL_LOGIN_FAILURES = env.int("PORTAL_LOGIN_FAILURES", default=5)
PORTAL_LOGIN_LOCKOUT_SECONDS = env.int("PORTAL_LOGIN_LOCKOUT_SECONDS", default=900)

# Content-Security-Policy of every response (portal/middleware.py): nothing inline, nothing from elsewhere.
# img-src blob: lets plotly.js draw a figure into a PNG in the browser (its SVG is loaded as a blob: image).
PORTAL_CSP = env.str(
    "PORTAL_CSP",
    default="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}
