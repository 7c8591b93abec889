"""Worldline e-Commerce (Ogone): hosted payment page, SHA-IN form, SHA-OUT post-sale feedback."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest

from ..exceptions import IntegrationNotConfigured, InvalidData
from ..integration import Integration, PaymentTerms
from ..models import NotificationLog, Payment
from ..money import exact_minor_units
from ..protocols import ogone_payments as ogone
from ..protocols.base import Inbound, Notification, Verification
from ..receivers import same_account

# The customer comes back to these; Worldline appends the (signed) feedback parameters.


class OgonePaymentsIntegration(Integration):
    slug = "ogone_payments"
    reference_field = "ORDERID"
    callback_fields = {
        "ACCEPTURL": "return",
        "DECLINEURL": "return",
        "EXCEPTIONURL": "return",
        "CANCELURL": "cancel",
    }
    display_name = "Worldline e-Commerce (Ogone)"
    required_settings = ("PSPID", "SHA_IN", "SHA_OUT", "HASH_ALGORITHM")
    endpoints = {"SERVICE_URL": (ogone.LIVE_SERVICE_URL, ogone.TEST_SERVICE_URL)}
    # The post-sale request comes by GET or POST, as the merchant sets it at Worldline.
    notify_methods = ("GET",)
    secret_settings = ("SHA_IN", "SHA_OUT")

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(options)
        try:
            self.algorithm = ogone.normalize_algorithm(self.settings["HASH_ALGORITHM"])
        except InvalidData as exc:
            raise IntegrationNotConfigured(
                f"{self.display_name}: MERCHANT_SETTINGS[{self.slug!r}]['HASH_ALGORITHM'] "
                f"{exc} (the algorithm set in Worldline's back office)"
            ) from None

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        """AMOUNT in minor units, as Worldline defines it; COM is its order description.

        An amount finer than the currency's minor unit is refused rather than rounded:
        the customer must be asked for exactly what the order says.
        """
        fields: dict[str, Any] = {
            "ORDERID": reference,
            "AMOUNT": exact_minor_units(amount, currency),
            "CURRENCY": currency,
        }
        if description:
            fields["COM"] = description[:100]  # Worldline's limit for COM
        return fields

    def build_fields(self, request: HttpRequest | None) -> dict[str, str]:
        fields = ogone.upper_names(self.fields)
        if not fields.get("ORDERID"):
            raise InvalidData("Worldline needs an ORDERID (the shop's order reference)")
        fields = self.with_callbacks(request, fields)
        return ogone.build_fields(
            fields,
            pspid=str(self.settings["PSPID"]),
            sha_in=str(self.settings["SHA_IN"]),
            algorithm=self.algorithm,
            test=self.test_mode,
        )

    def payment_terms(self, final_fields: Mapping[str, str]) -> PaymentTerms:
        return PaymentTerms(
            reference=final_fields["ORDERID"],
            amount=ogone.expected_amount(final_fields),
            currency=final_fields["CURRENCY"],
            receiver=str(self.settings["PSPID"]),
        )

    def parse_notification(self, inbound: Inbound) -> dict[str, str]:
        if inbound.method == "GET":
            return ogone.parse_feedback(inbound.query.encode("utf-8"))
        return ogone.parse_feedback(inbound.body)

    def verify(self, inbound: Inbound, fields: Mapping[str, str]) -> Verification:
        valid = ogone.verify_feedback(
            fields,
            sha_out=str(self.settings["SHA_OUT"]),
            algorithm=self.algorithm,
            extra_parameters=self.settings.get("EXTRA_SHA_OUT_PARAMETERS", ()),
        )
        return Verification.VALID if valid else Verification.INVALID

    def to_notification(self, fields: Mapping[str, str]) -> Notification:
        return ogone.to_notification(fields, integration=self.slug)

    def receiver_matches(self, payment: Payment, notification: Notification) -> bool:
        """The feedback does not name the account; its SHA-OUT passphrase proves it.

        A verified feedback therefore comes from the configured PSPID: it belongs to the
        payment only if the payment was asked of that same account, character for
        character (PSPIDs are case-sensitive at Worldline).
        """
        return same_account(str(self.settings["PSPID"]), payment.receiver)

    def handle_return(self, log: NotificationLog) -> None:
        """The redirection back carries the same SHA-OUT-signed feedback: use it at once.

        The post-sale request stays the backstop; the two are one event, applied once.
        """
        pairs = parse_qsl(log.query_string, keep_blank_values=True)
        if not any(name.upper() == "SHASIGN" for name, _ in pairs):
            return
        from ..pipeline import process_fetched

        process_fetched(self, log, kind="feedback", body=log.query_string.encode("utf-8"))
