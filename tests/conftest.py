import os

import pytest
from django.db import connection

from billing import http
from billing.testing.fakes import FakePayPal, install_transport

REQUIRED = {part for part in os.environ.get("BILLING_REQUIRE", "").split(",") if part}


def skip_or_fail(kind: str, reason: str) -> None:
    """Skip locally; fail where the run declares this kind of test required (CI)."""
    if kind in REQUIRED:
        pytest.fail(f"{kind} tests are required in this run but cannot run: {reason}")
    pytest.skip(reason)


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        skip_or_fail("postgres", "needs DATABASE_URL pointing at PostgreSQL")


@pytest.fixture
def fake_paypal():
    gateway = FakePayPal()
    install_transport(gateway.handler)
    yield gateway
    http.set_client(None)


@pytest.fixture
def no_site_url(settings):
    """Callback URLs from the request's host (tests/settings sets BILLING_SITE_URL)."""
    settings.BILLING_SITE_URL = ""
