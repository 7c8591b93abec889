"""The demo shop: SQLite, DEBUG, and every gateway replaced by the local sandbox.

Never a template for production settings: the sandbox must stay off there (the
billing.E004/E005 system checks refuse it outside DEBUG and test mode).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
PORT = os.environ.get("PORT", "8000")

SECRET_KEY = "demo-only-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "demo.urls"
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "billing",
    "billing.sandbox",
    "demo.store",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DB", str(BASE_DIR / "db.sqlite3")),
        "OPTIONS": {"timeout": 20},
    }
}

# -- billing ----------------------------------------------------------------------------
MERCHANT_TEST_MODE = True
BILLING_SANDBOX = True
# Where the sandbox is served: this same server (the shop posts back to it).
BILLING_SANDBOX_URL = f"http://127.0.0.1:{PORT}"
MERCHANT_SETTINGS = {
    "pay_pal": {
        "RECEIVER_EMAIL": "shop@kettle-and-quill.example",
        # Bring the customer from billing's return/cancel views to the order page.
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"short": {"format": "[{name}] {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "short"}},
    "loggers": {
        "billing": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
