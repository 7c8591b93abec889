"""A shop's own test suite (``manage.py test``) with the sandbox on, in a fresh process.

Django's test runner forces DEBUG off; the sandbox and its checks go by the DEBUG the
settings file says, so development settings keep working under test, and production
settings (DEBUG off) never get the sandbox.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SETTINGS = """
DEBUG = {debug}
SECRET_KEY = "shop-tests"
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "shop_urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "billing",
                  "billing.sandbox"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TEMPLATES = [{{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}}]
USE_TZ = True
BILLING_SITE_URL = "http://testserver"
BILLING_SANDBOX = True
BILLING_SANDBOX_URL = "http://testserver"
MERCHANT_SETTINGS = {{"pay_pal": {{"RECEIVER_EMAIL": "shop@example.com"}}}}
"""
URLS = """
from django.urls import include, path
urlpatterns = [path("billing/", include("billing.urls")),
               path("sandbox/", include("billing.sandbox.urls"))]
"""
TESTS = """
from django.test import TestCase

class SandboxInMyTests(TestCase):
    def test_the_sandbox_answers(self):
        self.assertEqual(self.client.get("/sandbox/").status_code, 200)
"""


def run_shop_tests(tmp_path: Path, *, debug: bool) -> subprocess.CompletedProcess[str]:
    (tmp_path / "shop_settings.py").write_text(textwrap.dedent(SETTINGS.format(debug=debug)))
    (tmp_path / "shop_urls.py").write_text(URLS)
    (tmp_path / "test_shop.py").write_text(TESTS)
    checkout = Path(__file__).resolve().parent.parent  # this billing, not another install
    path = os.pathsep.join([str(tmp_path), str(checkout)])
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shop_settings", "PYTHONPATH": path}
    return subprocess.run(
        [sys.executable, "-m", "django", "test", "-v", "1", "test_shop"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip


def test_development_settings_can_use_the_sandbox_under_test(tmp_path: Path) -> None:
    result = run_shop_tests(tmp_path, debug=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "billing.E004" not in result.stderr and "OK" in result.stderr


def test_production_settings_still_refuse_the_sandbox(tmp_path: Path) -> None:
    result = run_shop_tests(tmp_path, debug=False)
    assert result.returncode != 0
    assert "billing.E004" in result.stderr
