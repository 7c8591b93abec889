"""A gateway that a shop adds (tests.shop: an integration and a stand-in) gets the
sandbox and the whole conformance suite, like a built-in one."""

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from billing import get_integration
from billing.sandbox.gateways import stand_ins
from billing.testing.conformance import IntegrationConformance
from billing.testing.traits import GatewayTraits

SETTINGS = {"MERCHANT_ID": "HOUSE-1", "SECRET": "house-secret"}


def test_its_stand_in_is_found_in_the_shops_app() -> None:
    assert type(stand_ins()["house_pay"]).__module__ == "tests.shop.stand_ins.house_pay"


@pytest.mark.django_db
def test_its_form_lands_on_its_own_sandbox_page(settings: Any) -> None:
    settings.MERCHANT_SETTINGS = {"house_pay": SETTINGS}
    settings.DEBUG, settings.BILLING_SANDBOX = True, True
    integration = get_integration("house_pay")
    assert integration.service_url.endswith("/sandbox/house_pay/checkout")
    integration.add_order(reference="ORDER-1", amount=Decimal("10.00"), currency="EUR")
    form = integration.generate_form()
    response = Client().post(reverse("billing_sandbox:house_pay:checkout"), form)
    assert response.status_code == 303
    assert "/sandbox/house_pay/checkout/" in response["Location"]


class TestHousePayConformance(IntegrationConformance):
    slug = "house_pay"
    merchant_settings = SETTINGS
    # A shop's gateway would ``register`` its row; kept out of the shared table here.
    traits = GatewayTraits("house_pay", ("status", "failed"))  # type: ignore[assignment]
