"""pytest fixtures for a shop's tests (pytest-django): add to your root ``conftest.py``::

    pytest_plugins = ["billing.testing.pytest_plugin"]

- ``billing_fake_paypal``: a ``FakePayPal`` answering billing's postbacks for the test,
  the shop's HTTP client given back afterwards;
- ``billing_notify``: ``notify`` bound to pytest-django's ``client`` and that fake::

      def test_paid(billing_notify, db):
          result = billing_notify("pay_pal", reference="ORDER-1", amount="10.00",
                                  currency="EUR")
          assert result.outcome == "applied"
"""

from collections.abc import Iterator
from typing import Any

import pytest

from .fakes import FakePayPal
from .notifications import Notifier


@pytest.fixture
def billing_fake_paypal() -> Iterator[FakePayPal]:
    with FakePayPal() as paypal:
        yield paypal


@pytest.fixture
def billing_notify(client: Any, billing_fake_paypal: FakePayPal) -> Notifier:
    return Notifier(client, billing_fake_paypal)
