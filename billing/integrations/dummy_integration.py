"""The dummy gateway (billing.protocols.dummy): the integration a contributor copies."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.http import HttpRequest

from ..integration import Integration, PaymentTerms
from ..models import NotificationLog
from ..protocols import dummy
from ..protocols.base import Notification, Verification
from .bodies import form_body


class DummyIntegration(Integration):
    slug = "dummy"
    display_name = "Dummy gateway"
    required_settings = ("MERCHANT_ID", "SECRET")
    secret_settings = ("SECRET",)
    endpoints = {"SERVICE_URL": (dummy.LIVE_SERVICE_URL, dummy.TEST_SERVICE_URL)}
    reference_field = "reference"
    callback_fields = {"notify_url": "notify", "return_url": "return", "cancel_url": "cancel"}

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        return {"reference": reference, "amount": amount, "currency": currency}

    def build_fields(self, request: HttpRequest | None) -> dict[str, str]:
        merchant, secret = str(self.settings["MERCHANT_ID"]), str(self.settings["SECRET"])
        return dummy.build_fields(self.with_callbacks(request), merchant=merchant, secret=secret)

    def payment_terms(self, final_fields: Mapping[str, str]) -> PaymentTerms:
        return PaymentTerms(
            reference=final_fields["reference"],
            amount=Decimal(final_fields["amount"]),
            currency=final_fields["currency"],
            receiver=str(self.settings["MERCHANT_ID"]),
        )

    def parse_notification(self, log: NotificationLog) -> dict[str, str]:
        return dummy.parse(form_body(log))

    def verify(self, log: NotificationLog, fields: Mapping[str, str]) -> Verification:
        return dummy.verify(fields, secret=str(self.settings["SECRET"]))

    def to_notification(self, fields: Mapping[str, str]) -> Notification:
        return dummy.to_notification(fields, integration=self.slug)
