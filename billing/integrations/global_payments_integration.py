"""Global Payments (Realex) Hosted Payment Page: hashed request, hashed response."""

from decimal import Decimal
from typing import Any

from ..integration import Integration
from ..money import exact_minor_units
from ..protocols import global_payments


class GlobalPaymentsIntegration(Integration):
    slug = "global_payments"
    display_name = "Global Payments"
    protocol = global_payments
    required_settings = ("MERCHANT_ID", "ACCOUNT", "SHARED_SECRET")
    secret_settings = ("SHARED_SECRET",)
    settings_checks = {"HASH_ALGORITHM": global_payments.hash_algorithm}
    endpoints = {
        "SERVICE_URL": (global_payments.LIVE_SERVICE_URL, global_payments.SANDBOX_SERVICE_URL)
    }
    reference_field = "ORDER_ID"
    callback_fields = {"MERCHANT_RESPONSE_URL": "notify"}
    shows_reply = True  # the HPP shows the customer the response URL's answer

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        """AMOUNT in minor units, exactly (never rounded); the reference checked up front
        against the rules of the real ORDER_ID, with the rule that broke."""
        currency = currency.upper()
        minor = exact_minor_units(amount, currency)
        global_payments.make_order_id(reference, minor, currency, "0" * 8)
        fields: dict[str, Any] = {"ORDER_ID": reference, "AMOUNT": str(minor), "CURRENCY": currency}
        if description:
            fields["COMMENT1"] = description[:255]  # the HPP's limit for comments
        return fields
