"""Settings of the benchmark site: one Django project for every row of the table.

Only three things vary between gunicorn runs, all through the environment set by
bench.py: the postback server (instant or delayed), the task backend (immediate or
django-tasks-db) and the database name. Everything else is the same for every row.
"""

import os

import django

SECRET_KEY = "bench-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "benchsite.urls"
WSGI_APPLICATION = "benchsite.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_TASK_APPS = [] if django.VERSION >= (6, 0) else ["django_tasks"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    *_TASK_APPS,
    "django_tasks_db",
    "billing",
    "paypal.standard.ipn",
    "benchsite",
]

# What a webhook endpoint of a typical project passes through; the same for every row.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(os.path.dirname(__file__), "templates")],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BENCH_DB_NAME", "bench"),
        "USER": os.environ.get("BENCH_DB_USER", "postgres"),
        "HOST": os.environ.get("BENCH_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("BENCH_DB_PORT", "5432"),
        # Persistent connections, as a production site (or a pooler) would have; without
        # them every row would mostly measure PostgreSQL forking a backend per request.
        "CONN_MAX_AGE": None,
    }
}

# Logging stays Django's default: billing's per-notification INFO lines are not written.

POSTBACK_URL = os.environ.get("BENCH_POSTBACK_URL", "http://127.0.0.1:8801/cgi-bin/webscr")

# billing (this project)
MERCHANT_TEST_MODE = True
MERCHANT_SETTINGS = {
    "pay_pal": {
        "RECEIVER_EMAIL": "shop@example.com",
        "POSTBACK_URL": POSTBACK_URL,
        "SERVICE_URL": "http://127.0.0.1:8800/cgi-bin/webscr",
    }
}
BILLING_SITE_URL = "http://127.0.0.1:8800"
BILLING_TASK_BACKEND = "default"

_TASKS_MODULE = "django.tasks" if django.VERSION >= (6, 0) else "django_tasks"
if os.environ.get("BENCH_TASKS", "immediate") == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
else:
    TASKS = {"default": {"BACKEND": f"{_TASKS_MODULE}.backends.immediate.ImmediateBackend"}}

# django-paypal 2.1: it has no setting for its postback endpoint; benchsite.apps points
# its two module constants at POSTBACK_URL (bench-only monkeypatch, see apps.py).
PAYPAL_TEST = True
