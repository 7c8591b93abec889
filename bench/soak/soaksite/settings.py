"""Settings of the fault-soak shop: billing on PostgreSQL, two signature-verified gateways
(Worldline/Ogone and Authorize.Net DPM), django-tasks-db workers, one signal receiver.

Everything that varies between runs comes from the environment set by soak.py:
SOAK_DB_NAME/HOST/PORT/USER, SOAK_PORT (the gunicorn port, for callback URLs),
SOAK_RAISE_RATE (the share of transaction_was_successful calls whose receiver raises)
and SOAK_LEASE_SECONDS / SOAK_RECOVERY_INTERVAL.
"""

import os

import django

SECRET_KEY = "soak-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "soaksite.urls"
WSGI_APPLICATION = "soaksite.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_TASK_APPS = [] if django.VERSION >= (6, 0) else ["django_tasks"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    *_TASK_APPS,
    "django_tasks_db",
    "billing",
    "soaksite",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("SOAK_DB_NAME", "billing_soak"),
        "USER": os.environ.get("SOAK_DB_USER", "postgres"),
        "PASSWORD": os.environ.get("SOAK_DB_PASSWORD", ""),
        "HOST": os.environ.get("SOAK_DB_HOST", "127.0.0.1"),
        "PORT": os.environ.get("SOAK_DB_PORT", "5432"),
        # Persistent connections, as a production site has, checked before reuse: the
        # soak's pg_terminate_backend then hurts what was in flight, not idle sockets.
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        # Warnings and tracebacks of billing go to the process logs (soak results dir).
        "billing": {"handlers": ["console"], "level": "WARNING"},
        "django_tasks_db": {"handlers": ["console"], "level": "WARNING"},
    },
}

SOAK_PORT = int(os.environ.get("SOAK_PORT", "8870"))

# billing (this project). Made-up credentials: the sandbox stand-ins play these accounts.
MERCHANT_TEST_MODE = True
MERCHANT_SETTINGS = {
    "ogone_payments": {
        "PSPID": "soakshop",
        "SHA_IN": "soak-sha-in-passphrase",
        "SHA_OUT": "soak-sha-out-passphrase",
        "HASH_ALGORITHM": "sha512",
    },
    "authorize_net_dpm": {
        "LOGIN_ID": "soak-login",
        # `openssl rand -hex 64`: a made-up Signature Key.
        "SIGNATURE_KEY": (
            "5a0e7f0d2a4c9b11e3f6d8a7c2b49e01f7d3a65c8b2e4f90a1d6c3b7e8f20a4d"
            "9c1e7b3a5f6d2c8e0b4a9f7d1c3e5a6b8d0f2e4c6a8b1d3f5e7a9c0b2d4f6e8a"
        ),
        "CURRENCY": "EUR",
    },
}
BILLING_SITE_URL = f"http://127.0.0.1:{SOAK_PORT}"
BILLING_TASK_BACKEND = "default"

# The lease and the automatic recovery (being added to the library): a processing claim
# lasts BILLING_LEASE_SECONDS before another worker may retry the row, and each process
# sweeps stale rows every BILLING_RECOVERY_INTERVAL seconds. Set here whether or not the
# library reads them yet; the soak runs no billing command to recover anything.
BILLING_LEASE_SECONDS = float(os.environ.get("SOAK_LEASE_SECONDS", "5"))
BILLING_RECOVERY_INTERVAL = float(os.environ.get("SOAK_RECOVERY_INTERVAL", "2"))
# A transient fault's first retry (doubling after): seconds, not the default 30, so a
# bounded soak sees retried rows settle.
BILLING_RETRY_BASE_SECONDS = float(os.environ.get("SOAK_RETRY_BASE_SECONDS", "2"))

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# The soak's own receiver (soaksite.apps): the share of calls that raise (0 = never).
SOAK_RAISE_RATE = float(os.environ.get("SOAK_RAISE_RATE", "0"))
