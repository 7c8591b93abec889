"""Authorize.Net SIM / DPM: fingerprinted form, relay response signed with the Signature Key."""

from decimal import Decimal
from typing import Any

from ..integration import Integration
from ..protocols import authorize_net_dpm as anet


class AuthorizeNetDpmIntegration(Integration):
    slug = "authorize_net_dpm"
    display_name = "Authorize.Net (SIM / Direct Post Method)"
    protocol = anet
    required_settings = ("LOGIN_ID", "SIGNATURE_KEY")
    # TRANSACTION_KEY and MD5_HASH are not used, but django-merchant's settings had them.
    secret_settings = ("SIGNATURE_KEY", "TRANSACTION_KEY", "MD5_HASH")
    settings_checks = {"SIGNATURE_KEY": anet.signature_key}
    endpoints = {"SERVICE_URL": (anet.LIVE_SERVICE_URL, anet.TEST_SERVICE_URL)}
    reference_field = "x_invoice_num"
    callback_fields = {"x_relay_url": "notify", "x_cancel_url": "cancel"}
    shows_reply, reply_delay = True, 0  # the relay response is shown to the customer
    receiver_setting = "LOGIN_ID"  # the relay response does not name the account

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        """x_amount stays a Decimal: the protocol formats it for the currency."""
        return {
            "x_invoice_num": reference,
            "x_amount": amount,
            "x_currency_code": currency,
            "x_description": (description or reference)[:255],  # Authorize.Net's limit
        }
