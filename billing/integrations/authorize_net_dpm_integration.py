"""Authorize.Net SIM / Direct Post Method with the Signature Key, answered by relay response."""

import secrets
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from ..exceptions import IntegrationNotConfigured, InvalidData
from ..integration import Integration, PaymentTerms
from ..models import Payment
from ..protocols import authorize_net_dpm as anet
from ..protocols.base import Inbound, Notification, Reply, Verification
from ..receivers import same_account


class AuthorizeNetDpmIntegration(Integration):
    slug = "authorize_net_dpm"
    reference_field = "x_invoice_num"
    callback_fields = {"x_relay_url": "notify", "x_cancel_url": "cancel"}
    display_name = "Authorize.Net (SIM / Direct Post Method)"
    required_settings = ("LOGIN_ID", "SIGNATURE_KEY")
    endpoints = {"SERVICE_URL": (anet.LIVE_SERVICE_URL, anet.TEST_SERVICE_URL)}
    # TRANSACTION_KEY and MD5_HASH are not used, but django-merchant's settings had them.
    secret_settings = ("SIGNATURE_KEY", "TRANSACTION_KEY", "MD5_HASH")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        try:
            self.signature_key = anet.signature_key(self.settings["SIGNATURE_KEY"])
        except InvalidData as exc:
            raise IntegrationNotConfigured(
                f"{self.display_name}: MERCHANT_SETTINGS[{self.slug!r}]['SIGNATURE_KEY'] "
                f"is not valid: {exc}"
            ) from None

    @property
    def account_currency(self) -> str:
        """The currency the Authorize.Net account processes (relay responses imply it)."""
        return str(self.settings.get("CURRENCY") or "USD").upper()

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

    def build_fields(self, request: HttpRequest | None) -> dict[str, str]:
        if not self.fields.get("x_invoice_num"):
            raise InvalidData("Authorize.Net needs an x_invoice_num (the shop's order reference)")
        fields = self.with_callbacks(request)
        return anet.build_fields(
            fields,
            login=str(self.settings["LOGIN_ID"]),
            key=self.signature_key,
            test=self.test_mode,
            account_currency=self.account_currency,
            sequence=str(secrets.randbelow(10**9)),
            timestamp=str(int(time.time())),
        )

    def payment_terms(self, final_fields: Mapping[str, str]) -> PaymentTerms:
        return PaymentTerms(
            reference=final_fields["x_invoice_num"],
            amount=anet.expected_amount(final_fields),
            currency=final_fields["x_currency_code"],
            receiver=str(self.settings["LOGIN_ID"]),
        )

    def parse_notification(self, inbound: Inbound) -> dict[str, str]:
        return anet.parse_relay(inbound.body)

    def verify(self, inbound: Inbound, fields: Mapping[str, str]) -> Verification:
        valid = anet.verify_relay(fields, self.signature_key)
        return Verification.VALID if valid else Verification.INVALID

    def to_notification(self, fields: Mapping[str, str]) -> Notification:
        return anet.to_notification(fields, integration=self.slug, currency=self.account_currency)

    def receiver_matches(self, payment: Payment, notification: Notification) -> bool:
        """The relay response does not name the account; the Signature Key proves it.

        A verified relay response therefore comes from the configured LOGIN_ID: it
        belongs to the payment only if the payment was asked of that same account,
        character for character.
        """
        return same_account(str(self.settings["LOGIN_ID"]), payment.receiver)

    def acknowledge(self, fields: Mapping[str, str], request: HttpRequest) -> Reply:
        """Authorize.Net shows this page to the customer: back to the shop, no secrets."""
        reference = fields.get("x_invoice_num") or None
        url = self.absolute_url("return", request, reference)
        return self.back_to_shop(url, delay=0, reported=self.reported_status(fields))
