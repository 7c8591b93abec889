"""Stripe Checkout (billing.protocols.stripe): a session created by API, webhooks signed
with the endpoint's secret."""

from ..api_checkout import ApiCheckoutIntegration
from ..models import Payment
from ..protocols import stripe


class StripeIntegration(ApiCheckoutIntegration):
    slug = "stripe"
    display_name = "Stripe"
    protocol = stripe
    required_settings = ("SECRET_KEY", "WEBHOOK_SECRET")
    secret_settings = ("SECRET_KEY", "WEBHOOK_SECRET")
    settings_checks = {"WEBHOOK_SECRET": stripe.check_webhook_secret}
    # One host for test and live: the key says which.
    endpoints = {"API_URL": (stripe.API_URL, stripe.API_URL)}
    verified_headers = (stripe.SIGNATURE_HEADER,)
    api_errors = (stripe.StripeApiError,)

    def fetch_status(self, payment: Payment) -> bytes | None:
        """The payment's Checkout Session as Stripe has it now (``GET
        /v1/checkout/sessions/{id}``), read back as a notification of kind "fetch"; None
        before a session was opened. Raises VerificationUnavailable when Stripe cannot be
        asked (or does not know the session)."""
        if not payment.gateway_reference:
            return None
        return stripe.fetch_session(payment.gateway_reference, self.account)
