"""Worldline e-Commerce (Ogone): hosted payment page, SHA-IN form, SHA-OUT post-sale feedback."""

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from django.http import HttpRequest

from ..exceptions import InvalidData
from ..integration import Integration
from ..models import NotificationLog
from ..money import exact_minor_units
from ..protocols import ogone_payments as ogone


class OgonePaymentsIntegration(Integration):
    slug = "ogone_payments"
    display_name = "Worldline e-Commerce (Ogone)"
    protocol = ogone
    required_settings = ("PSPID", "SHA_IN", "SHA_OUT", "HASH_ALGORITHM")
    secret_settings = ("SHA_IN", "SHA_OUT")
    settings_checks = {"HASH_ALGORITHM": ogone.normalize_algorithm}
    endpoints = {"SERVICE_URL": (ogone.LIVE_SERVICE_URL, ogone.TEST_SERVICE_URL)}
    # The post-sale request comes by GET or POST, as the merchant sets it at Worldline.
    notify_methods = ("GET",)
    reference_field = "ORDERID"
    # The customer comes back to these; Worldline appends the (signed) feedback parameters.
    callback_fields = {
        "ACCEPTURL": "return",
        "DECLINEURL": "return",
        "EXCEPTIONURL": "return",
        "CANCELURL": "cancel",
    }
    # The feedback does not name the account; its SHA-OUT passphrase proves it
    # (PSPIDs are case-sensitive at Worldline).
    receiver_setting = "PSPID"

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        """AMOUNT in minor units, exactly (never rounded); COM is the description."""
        fields: dict[str, Any] = {
            "ORDERID": reference,
            "AMOUNT": exact_minor_units(amount, currency),
            "CURRENCY": currency,
        }
        if description:
            fields["COM"] = description[:100]  # Worldline's limit for COM
        return fields

    def build_fields(self, request: HttpRequest | None) -> dict[str, str]:
        """Worldline's parameter names are case-insensitive: the shop's are upper-cased
        first, so a callback URL the shop gave in lower case counts as given."""
        fields = ogone.upper_names(self.fields)
        if not fields.get("ORDERID"):
            raise InvalidData("Worldline needs an ORDERID (the shop's order reference)")
        return ogone.form(self.with_callbacks(request, fields), self.account)

    def handle_return(self, log: NotificationLog) -> None:
        """The redirection back carries the same SHA-OUT-signed feedback: use it at once.

        The post-sale request stays the backstop; the two are one event, applied once.
        """
        pairs = parse_qsl(log.query_string, keep_blank_values=True)
        if not any(name.upper() == "SHASIGN" for name, _ in pairs):
            return
        from ..pipeline import process_fetched

        process_fetched(self, log, kind="feedback", body=log.query_string.encode("utf-8"))
