"""Worldpay Business Gateway: hosted payment page, MD5-signed order, Payment Response."""

from decimal import Decimal
from typing import Any

from ..integration import Integration
from ..protocols import world_pay


class WorldPayIntegration(Integration):
    slug = "world_pay"
    display_name = "Worldpay"
    protocol = world_pay
    required_settings = ("INSTALLATION_ID", "MD5_SECRET", "CALLBACK_PASSWORD")
    secret_settings = ("MD5_SECRET", "CALLBACK_PASSWORD")
    settings_checks = {"SIGNATURE_FIELDS": world_pay.check_signature_fields}
    endpoints = {"SERVICE_URL": (world_pay.LIVE_SERVICE_URL, world_pay.TEST_SERVICE_URL)}
    reference_field = "cartId"
    callback_fields = {"MC_callback": "notify", "MC_return": "return"}
    shows_reply = True  # Worldpay shows the shopper the callback's answer

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        """The amount in major units (the protocol formats and checks it)."""
        return {
            "cartId": reference,
            "amount": amount,
            "currency": currency,
            "desc": description or reference,
        }

    def redact_body(self, body: bytes) -> bytes:
        """The callback password is stored as a digest under the shop's key."""
        return world_pay.redact_password(body, world_pay.redaction_key(self.account.shop_keys[0]))
