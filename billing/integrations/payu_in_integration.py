"""PayU India (billing.protocols.payu_in): Hosted Checkout, SHA-512 request and response hashes."""

from ..integration import Integration
from ..protocols import payu_in


class PayuInIntegration(Integration):
    slug = "payu_in"
    display_name = "PayU India"
    protocol = payu_in
    # The merchant key is public by design (it is in every form); the salt is the secret.
    required_settings = ("MERCHANT_KEY", "SALT")
    secret_settings = ("SALT",)
    endpoints = {"SERVICE_URL": (payu_in.LIVE_SERVICE_URL, payu_in.TEST_SERVICE_URL)}
    reference_field, amount_field = "txnid", "amount"
    description_field = "productinfo"
    currencies = (payu_in.CURRENCY,)
    # PayU posts the signed response to the customer's browser at surl or furl; the
    # shop's notify/ gets it as a webhook (set in PayU's dashboard). curl: a cancel.
    callback_fields = {"surl": "return", "furl": "return", "curl": "cancel"}
