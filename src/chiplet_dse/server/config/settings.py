"""Django settings, read from the environment.

``CHIPLET_DSE_HOME`` (default ``./chiplet-server``) is the data directory: ``db.sqlite3``,
``media/exports/``, ``analytics/``, ``results/`` and the generated ``secret_key``.
``DATABASE_URL`` (``postgres://user:password@host:port/name``) selects PostgreSQL instead of
SQLite. ``CHIPLET_DSE_DEBUG=1`` turns DEBUG on.
"""

from __future__ import annotations

import os
from pathlib import Path

from chiplet_dse.server.config.environment import (
    data_home,
    database_from_env,
    env_flag,
    plotly_bundle_dir,
    secret_key,
)

HOME = data_home()
MEDIA_ROOT = HOME / "media"
EXPORTS_DIR = MEDIA_ROOT / "exports"
ANALYTICS_DIR = HOME / "analytics"
RESULTS_DIR = HOME / "results"
for _directory in (HOME, EXPORTS_DIR, ANALYTICS_DIR, RESULTS_DIR):
    _directory.mkdir(parents=True, exist_ok=True)

SECRET_KEY = secret_key(HOME)
DEBUG = env_flag("CHIPLET_DSE_DEBUG")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"] + [
    h for h in os.environ.get("CHIPLET_DSE_ALLOWED_HOSTS", "").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    "chiplet_dse.server.runs",
    "chiplet_dse.server.analytics",
    "chiplet_dse.server.exports",
    "chiplet_dse.server.api",
    "chiplet_dse.server.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "chiplet_dse.server.config.urls"
WSGI_APPLICATION = "chiplet_dse.server.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {"default": database_from_env(HOME)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {
    "default": {
        "BACKEND": os.environ.get("CHIPLET_DSE_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("CHIPLET_DSE_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = HOME / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True  # serve app static files without a collectstatic step
# Plotly's browser bundle ships inside the plotly package from PyPI: served locally, never
# fetched from a CDN.
STATICFILES_DIRS = [("vendor", plotly_bundle_dir())]
MEDIA_URL = "media/"

# A running run writes a heartbeat this often; a run whose heartbeat is older than the stale
# limit is considered abandoned by a dead worker.
CHIPLET_DSE_HEARTBEAT_SECONDS = float(os.environ.get("CHIPLET_DSE_HEARTBEAT_SECONDS", "5"))
CHIPLET_DSE_STALE_SECONDS = float(os.environ.get("CHIPLET_DSE_STALE_SECONDS", "60"))
CHIPLET_DSE_MAX_ATTEMPTS = int(os.environ.get("CHIPLET_DSE_MAX_ATTEMPTS", "3"))
# Processes that evaluate designs for one run (0 = all cores).
CHIPLET_DSE_EVAL_WORKERS = int(os.environ.get("CHIPLET_DSE_EVAL_WORKERS", "0"))

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["chiplet_dse.server.api.permissions.TokenForChanges"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "chiplet_dse.server.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Chiplet DSE API",
    "DESCRIPTION": "Optimisation runs of heterogeneous chiplet systems: store, search, compare, "
    "analyse and export (zip) every run and design.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}
#: When set, every request that changes anything needs ``Authorization: Bearer <token>``.
CHIPLET_DSE_API_TOKEN = os.environ.get("CHIPLET_DSE_API_TOKEN", "")
#: Export zips older than this many days are deleted by the workers (unset: never).
CHIPLET_DSE_EXPORT_MAX_AGE_DAYS = (
    float(os.environ["CHIPLET_DSE_EXPORT_MAX_AGE_DAYS"])
    if os.environ.get("CHIPLET_DSE_EXPORT_MAX_AGE_DAYS")
    else None
)
#: Compute every analytics type when a run completes (the worker does it after the run).
CHIPLET_DSE_AUTO_ANALYTICS = os.environ.get("CHIPLET_DSE_AUTO_ANALYTICS", "1") != "0"
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 2**20
FILE_UPLOAD_MAX_MEMORY_SIZE = 50 * 2**20

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "chiplet_dse": {"handlers": ["console"], "level": "INFO"},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
    },
}

BASE_DIR = Path(__file__).resolve().parent.parent
