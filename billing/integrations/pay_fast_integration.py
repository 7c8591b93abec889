"""PayFast (billing.protocols.pay_fast): a signed checkout form, the ITN confirmed by the
signature, the sender's address (live mode) and PayFast's validate postback."""

from ..integration import Integration
from ..protocols import pay_fast


class PayFastIntegration(Integration):
    slug = "pay_fast"
    display_name = "PayFast"
    protocol = pay_fast
    # MERCHANT_KEY is public by design (it is a form field); the passphrase never is.
    required_settings = ("MERCHANT_ID", "MERCHANT_KEY", "PASSPHRASE")
    secret_settings = ("PASSPHRASE",)
    endpoints = {
        "SERVICE_URL": (pay_fast.LIVE_SERVICE_URL, pay_fast.SANDBOX_SERVICE_URL),
        "VALIDATE_URL": (pay_fast.LIVE_VALIDATE_URL, pay_fast.SANDBOX_VALIDATE_URL),
    }
    reference_field, amount_field, description_field = "m_payment_id", "amount", "item_name"
    currencies = (pay_fast.CURRENCY,)  # the form has no currency field: PayFast takes ZAR
    callback_fields = {"notify_url": "notify", "return_url": "return", "cancel_url": "cancel"}
