"""Global Payments (Realex) Hosted Payment Page: hashed request, hashed response to notify/."""

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from ..exceptions import IntegrationNotConfigured, InvalidData
from ..integration import Integration, PaymentTerms
from ..money import exact_minor_units, from_minor_units
from ..protocols import global_payments
from ..protocols.base import Inbound, Notification, Reply, Verification


class GlobalPaymentsIntegration(Integration):
    slug = "global_payments"
    reference_field = "ORDER_ID"
    callback_fields = {"MERCHANT_RESPONSE_URL": "notify"}
    display_name = "Global Payments"
    required_settings = ("MERCHANT_ID", "ACCOUNT", "SHARED_SECRET")
    endpoints = {
        "SERVICE_URL": (
            global_payments.LIVE_SERVICE_URL,
            global_payments.SANDBOX_SERVICE_URL,
        )
    }
    secret_settings = ("SHARED_SECRET",)

    def _load_settings(self) -> dict[str, Any]:
        configured = super()._load_settings()
        algorithm = str(configured.get("HASH_ALGORITHM") or global_payments.DEFAULT_HASH_ALGORITHM)
        if algorithm.lower() not in global_payments.HASH_FIELDS:
            raise IntegrationNotConfigured(
                f"{self.display_name}: MERCHANT_SETTINGS[{self.slug!r}]['HASH_ALGORITHM'] "
                f"must be {' or '.join(global_payments.HASH_FIELDS)}, not {algorithm!r}"
            )
        return configured

    @property
    def hash_algorithm(self) -> str:
        """sha1 (the default, as in Global Payments' SDKs) or sha256."""
        value = self.settings.get("HASH_ALGORITHM") or global_payments.DEFAULT_HASH_ALGORITHM
        return str(value).lower()

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        """AMOUNT in minor units, as the HPP takes it; the reference checked up front.

        An amount finer than the currency allows is refused rather than rounded, and a
        reference the HPP's ORDER_ID cannot carry fails here, with the rule that broke.
        """
        currency = currency.upper()
        minor = exact_minor_units(amount, currency)
        # The same rules (characters, room left for amount and nonce) as the real ORDER_ID.
        global_payments.make_order_id(reference, minor, currency, "0" * 8)
        fields: dict[str, Any] = {"ORDER_ID": reference, "AMOUNT": str(minor), "CURRENCY": currency}
        if description:
            fields["COMMENT1"] = description[:255]  # the HPP's limit for comments
        return fields

    def build_fields(self, request: HttpRequest | None) -> dict[str, str]:
        fields = self.with_callbacks(request)
        return global_payments.build_fields(
            fields,
            merchant_id=str(self.settings["MERCHANT_ID"]),
            account=str(self.settings["ACCOUNT"]),
            secret=str(self.settings["SHARED_SECRET"]),
            algorithm=self.hash_algorithm,
            now=datetime.now(UTC),
            nonce=secrets.token_hex(4),
        )

    def payment_terms(self, final_fields: Mapping[str, str]) -> PaymentTerms:
        order = global_payments.parse_order_id(final_fields["ORDER_ID"])
        if order is None:  # build_fields always makes a parsable one
            raise InvalidData(f"ORDER_ID {final_fields['ORDER_ID']!r} was not made here")
        return PaymentTerms(
            reference=order.reference,
            amount=from_minor_units(order.amount_minor, order.currency),
            currency=order.currency,
            receiver=global_payments.receiver(
                str(self.settings["MERCHANT_ID"]), str(self.settings["ACCOUNT"])
            ),
        )

    # -- the response -------------------------------------------------------------------

    def parse_notification(self, inbound: Inbound) -> dict[str, str]:
        return global_payments.parse_response(inbound.body)

    def verify(self, inbound: Inbound, fields: Mapping[str, str]) -> Verification:
        return global_payments.verify_response(
            fields, secret=str(self.settings["SHARED_SECRET"]), algorithm=self.hash_algorithm
        )

    def to_notification(self, fields: Mapping[str, str]) -> Notification:
        # The response has no test flag: it is the shop's mode. A sandbox response on a
        # live shop fails the hash, as the sandbox and production secrets differ.
        return global_payments.to_notification(fields, integration=self.slug, test=self.test_mode)

    def acknowledge(self, fields: Mapping[str, str], request: HttpRequest) -> Reply:
        """The HPP shows this page to the customer: a link (and refresh) back to the shop."""
        order = global_payments.parse_order_id(fields["ORDER_ID"])
        if order is None:
            return self.back_to_shop(None)
        url = self.absolute_url("return", request, order.reference)
        return self.back_to_shop(url, reported=self.reported_status(fields))
