"""Worldpay Business Gateway: hosted payment page, MD5-signed order, Payment Response."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest

from ..exceptions import IntegrationNotConfigured, InvalidData
from ..integration import Integration, PaymentTerms
from ..protocols import world_pay
from ..protocols.base import Inbound, Notification, Reply, Status, Verification


class WorldPayIntegration(Integration):
    slug = "world_pay"
    reference_field = "cartId"
    callback_fields = {"MC_callback": "notify", "MC_return": "return"}
    display_name = "Worldpay"
    required_settings = ("INSTALLATION_ID", "MD5_SECRET", "CALLBACK_PASSWORD")
    endpoints = {"SERVICE_URL": (world_pay.LIVE_SERVICE_URL, world_pay.TEST_SERVICE_URL)}
    secret_settings = ("MD5_SECRET", "CALLBACK_PASSWORD")

    def _load_settings(self) -> dict[str, Any]:
        configured = super()._load_settings()
        try:
            world_pay.signature_field_names(self._signature_fields(configured))
        except InvalidData as exc:
            raise IntegrationNotConfigured(
                f"{self.display_name}: MERCHANT_SETTINGS[{self.slug!r}]['SIGNATURE_FIELDS']: {exc}"
            ) from None
        return configured

    @staticmethod
    def _signature_fields(configured: Mapping[str, Any]) -> str:
        return str(configured.get("SIGNATURE_FIELDS") or world_pay.DEFAULT_SIGNATURE_FIELDS)

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        """Worldpay takes the amount in major units; build_fields formats and checks it."""
        return {
            "cartId": reference,
            "amount": amount,
            "currency": currency,
            "desc": description or reference,
        }

    def build_fields(self, request: HttpRequest | None) -> dict[str, str]:
        # Both URLs are signed (see protocols.world_pay): the shopper cannot replace them.
        fields = self.with_callbacks(request)
        return world_pay.build_fields(
            fields,
            installation_id=str(self.settings["INSTALLATION_ID"]),
            md5_secret=str(self.settings["MD5_SECRET"]),
            signature_fields=self._signature_fields(self.settings),
            test=self.test_mode,
        )

    def payment_terms(self, final_fields: Mapping[str, str]) -> PaymentTerms:
        return PaymentTerms(
            reference=final_fields["cartId"],
            amount=Decimal(final_fields["amount"]),
            currency=final_fields["currency"],
            receiver=str(self.settings["INSTALLATION_ID"]),
        )

    # -- the Payment Response ----------------------------------------------------------

    def _redaction_keys(self) -> list[bytes]:
        """Keys of the stored password digests: SECRET_KEY, then its fallbacks (rotation)."""
        secrets = [
            django_settings.SECRET_KEY,
            *getattr(django_settings, "SECRET_KEY_FALLBACKS", []),
        ]
        return [world_pay.redaction_key(str(secret).encode("utf-8")) for secret in secrets]

    def redact_body(self, body: bytes) -> bytes:
        return world_pay.redact_password(body, self._redaction_keys()[0])

    def parse_notification(self, inbound: Inbound) -> dict[str, str]:
        return world_pay.parse_callback(inbound.body)

    def verify(self, inbound: Inbound, fields: Mapping[str, str]) -> Verification:
        stored = fields.get(world_pay.PASSWORD_FIELD, "")
        password = str(self.settings["CALLBACK_PASSWORD"])
        if world_pay.password_matches(stored, password, self._redaction_keys()):
            return Verification.VALID
        return Verification.INVALID

    def to_notification(self, fields: Mapping[str, str]) -> Notification:
        return world_pay.to_notification(fields, integration=self.slug)

    def acknowledge(self, fields: Mapping[str, str], request: HttpRequest) -> Reply:
        """Worldpay shows this page to the shopper: a link (and refresh) back to the shop."""
        reported = self.reported_status(fields)
        page = "cancel" if reported is Status.CANCELLED else "return"
        url = self.absolute_url(page, request, fields["cartId"])
        return self.back_to_shop(url, reported=reported)
