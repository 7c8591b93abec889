"""Smoke test of an installed wheel, run outside the source tree.

Checks that what only a packaging mistake could lose is in the wheel: templates,
migrations, py.typed, the sandbox app, the management commands and the script, by
using them: migrate, render a form, call a view, run a command.
"""

import importlib.resources
import io
import pathlib
import sys

import django
from django.conf import settings

here = pathlib.Path.cwd().resolve()
source = pathlib.Path(__file__).resolve().parent.parent
assert source not in (here, *here.parents), "run this outside the source tree"

settings.configure(
    DEBUG=True,
    SECRET_KEY="smoke",
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[
        "django.contrib.admin",
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        "billing",
        "billing.sandbox",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
                "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                   "django.contrib.auth.context_processors.auth",
                                                   "django.contrib.messages.context_processors.messages"]}}],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    USE_TZ=True,
    BILLING_SITE_URL="https://shop.example",
    BILLING_SANDBOX=True,
    MERCHANT_SETTINGS={"pay_pal": {"RECEIVER_EMAIL": "shop@example.com"}},
)
django.setup()

from django.contrib import admin  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.template import Context, Template  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import include, path  # noqa: E402

urlpatterns = [
    path("admin/", admin.site.urls),
    path("billing/", include("billing.urls")),
    path("sandbox/", include("billing.sandbox.urls")),
]

import billing  # noqa: E402

installed = pathlib.Path(billing.__file__).resolve()
assert source not in installed.parents, f"billing imported from the source tree: {installed}"
assert importlib.resources.files("billing").joinpath("py.typed").is_file(), "py.typed missing"

call_command("migrate", verbosity=0)
call_command("check", stdout=io.StringIO())
from billing import get_integration  # noqa: E402

pay_pal = get_integration("pay_pal", {"invoice": "SMOKE-1", "amount": "10.00"})
page = Template("{% load render_integration from billing_tags %}{% render_integration obj %}")
form = page.render(Context({"obj": pay_pal}))
assert 'name="invoice" value="SMOKE-1"' in form and "notify" in form, form
cancel = Client().get("/billing/pay_pal/cancel/")
assert cancel.status_code == 200 and b"Payment cancelled" in cancel.content
assert Client().get("/sandbox/").status_code == 200
out = io.StringIO()
call_command("billing_process", "--stale", stdout=out)
assert "processed" in out.getvalue()
print(f"wheel smoke test passed: billing {installed.parent} on Python {sys.version.split()[0]}")
