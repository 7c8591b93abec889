"""QuickPay v10 (billing.protocols.quickpay): payment window form, JSON callback."""

from decimal import Decimal
from typing import Any

from ..integration import Integration
from ..money import exact_minor_units
from ..protocols import quickpay


class QuickpayIntegration(Integration):
    slug = "quickpay"
    display_name = "QuickPay"
    protocol = quickpay
    required_settings = ("MERCHANT_ID", "AGREEMENT_ID", "API_KEY", "PRIVATE_KEY")
    secret_settings = ("API_KEY", "PRIVATE_KEY")
    endpoints = {"SERVICE_URL": (quickpay.SERVICE_URL, quickpay.SERVICE_URL)}
    reference_field, amount_field, currency_field = "order_id", "amount", "currency"
    description_field = "description"
    callback_fields = {"continueurl": "return", "cancelurl": "cancel", "callbackurl": "notify"}
    # The callback is JSON signed byte for byte (its checksum is in a header).
    accepts_multipart = False
    verified_headers = (quickpay.CHECKSUM_HEADER,)

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        """``amount`` in minor units, as QuickPay takes it; never rounded."""
        fields = super().order_fields(reference, amount, currency, description)
        fields["amount"] = exact_minor_units(amount, currency)
        return fields
