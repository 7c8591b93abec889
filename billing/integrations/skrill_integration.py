"""Skrill Quick Checkout (billing.protocols.skrill): an unsigned form, and the status_url
post verified by its md5sig with the secret word."""

from ..integration import Integration
from ..protocols import skrill


class SkrillIntegration(Integration):
    slug = "skrill"
    display_name = "Skrill"
    protocol = skrill
    required_settings = ("PAY_TO_EMAIL", "MERCHANT_ID", "SECRET_WORD")
    secret_settings = ("SECRET_WORD",)
    endpoints = {"SERVICE_URL": (skrill.SERVICE_URL, skrill.TEST_SERVICE_URL)}
    reference_field, amount_field, currency_field = "transaction_id", "amount", "currency"
    description_field = "detail1_text"
    callback_fields = {"status_url": "notify", "return_url": "return", "cancel_url": "cancel"}
