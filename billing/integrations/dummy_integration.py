"""The dummy gateway (billing.protocols.dummy): the integration a contributor copies."""

from ..integration import Integration
from ..protocols import dummy


class DummyIntegration(Integration):
    slug = "dummy"
    display_name = "Dummy gateway"
    protocol = dummy
    required_settings = ("MERCHANT_ID", "SECRET")
    secret_settings = ("SECRET",)
    endpoints = {"SERVICE_URL": (dummy.LIVE_SERVICE_URL, dummy.TEST_SERVICE_URL)}
    reference_field, amount_field, currency_field = "reference", "amount", "currency"
    callback_fields = {"notify_url": "notify", "return_url": "return", "cancel_url": "cancel"}
