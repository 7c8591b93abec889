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
# The sandbox delivers only to the shop's own origins; the demo is served under both names.
BILLING_SANDBOX_ALLOWED_ORIGINS = [f"http://localhost:{PORT}"]
MERCHANT_SETTINGS = {
    "pay_pal": {
        "RECEIVER_EMAIL": "shop@kettle-and-quill.example",
        # Bring the customer from billing's return/cancel views to the order page.
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    # Made-up sandbox values, never real credentials: the stand-ins play these accounts.
    "world_pay": {
        "INSTALLATION_ID": "1234",
        "MD5_SECRET": "demo-md5-secret",
        "CALLBACK_PASSWORD": "demo-callback-password",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    "global_payments": {
        "MERCHANT_ID": "demoshop",
        "ACCOUNT": "internet",
        "SHARED_SECRET": "demo-shared-secret",
        "HASH_ALGORITHM": "sha256",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
    },
    "ogone_payments": {
        "PSPID": "demoshop",
        "SHA_IN": "demo-sha-in-passphrase",
        "SHA_OUT": "demo-sha-out-passphrase",
        "HASH_ALGORITHM": "sha512",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    "authorize_net_dpm": {
        "LOGIN_ID": "demo-login",
        # `openssl rand -hex 64`: a made-up Signature Key for the sandbox only.
        "SIGNATURE_KEY": (
            "45d99ebb132bd5da9fd02e6894b1e68c1dcb5f957fd677fbfe2984c19c4a4068"
            "6c61f6a107388dd179a5983f1fa93d9d9885473235c4108b2e59ccdb7756e933"
        ),
        "CURRENCY": "EUR",  # the demo's products are priced in euros
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    # The reference gateway for contributors (docs/adding-a-gateway.md); test mode only.
    "dummy": {
        "MERCHANT_ID": "demo-merchant",
        "SECRET": "demo-dummy-secret",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    "pay_fast": {
        "MERCHANT_ID": "10000100",
        "MERCHANT_KEY": "demomerchantkey",
        "PASSPHRASE": "demo-pay-fast-passphrase",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    "skrill": {
        "PAY_TO_EMAIL": "shop@kettle-and-quill.example",
        "MERCHANT_ID": "12345678",
        "SECRET_WORD": "demo-skrill-secret-word",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    "payu_in": {
        "MERCHANT_KEY": "demokey",
        "SALT": "demo-payu-salt",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    "robokassa": {
        "MERCHANT_LOGIN": "demoshop",
        "PASSWORD1": "demo-robokassa-password-1",
        "PASSWORD2": "demo-robokassa-password-2",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    "ipay88": {
        "MERCHANT_CODE": "M00001",
        "MERCHANT_KEY": "demo-ipay88-merchant-key",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    "liqpay": {
        "PUBLIC_KEY": "demo_public_key",
        "PRIVATE_KEY": "demo-liqpay-private-key",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    "opayo_form": {
        "VENDOR": "demoshop",
        "ENCRYPTION_PASSWORD": "demoOpayoPass123",  # 16 characters: an AES-128 key
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    # A made-up test key: the sandbox plays this account's Payments API and webhooks.
    "mollie": {
        "API_KEY": "test_demo000000000000000000000000",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    # Made-up test-mode values: the sandbox plays this account's API and webhook endpoint.
    "stripe": {
        "SECRET_KEY": "sk_test_demo0000000000000000000000",
        "WEBHOOK_SECRET": "whsec_demo0000000000000000000000",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    # Made-up sandbox values: the sandbox plays this REST app's token, Orders v2 and
    # webhook (signed, and confirmed by verify-webhook-signature).
    "pay_pal_checkout": {
        "CLIENT_ID": "demo-paypal-checkout-client-id",
        "CLIENT_SECRET": "demo-paypal-checkout-client-secret",
        "WEBHOOK_ID": "8PT597110X687430LDEMO0000",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    # Made-up sandbox values: the sandbox plays this account's Rapid API.
    "eway": {
        "API_KEY": "demo-eway-rapid-api-key",
        "API_PASSWORD": "demoEwayPass1",
        "RETURN_REDIRECT_URL": "/orders/{reference}/",
        "CANCEL_REDIRECT_URL": "/orders/{reference}/cancelled/",
    },
    "quickpay": {
        "MERCHANT_ID": "7777",
        "AGREEMENT_ID": "8888",
        "API_KEY": "demo-quickpay-payment-window-key",
        "PRIVATE_KEY": "demo-quickpay-private-key",
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
