"""Hosted checkouts created by API (Stripe Checkout; Mollie, PayPal Checkout, eWAY next).

The seed's API stays: ``add_order`` (extras with ``add_fields``), then
``{% render_integration obj %}``. Rendering records the Payment with the order's terms,
as for every gateway, and renders a POST form to the integration's own ``start/`` route
carrying one field, ``token``: the payment's id and reference (and the shop's extras),
signed with SECRET_KEY and salted per integration. Nothing else is in the form, and
nothing in the request is trusted: the start view (billing.start) reads the amount,
currency and reference from the recorded payment, asks the protocol for the session's
parameters, creates the session with an idempotency key derived from the payment, stores
the gateway's id on the payment and answers 303 to the gateway's page.

A gateway module for this flow provides, besides the notification verbs:

- ``form(order, account)``: the session request's parameters for the order (reference,
  amount, currency, description, return/cancel/notify URLs, the shop's extras);
- ``terms(params, account)``: what those parameters ask for (checked against the
  payment before anything is sent);
- ``create_session(params, account, idempotency_key=...)``: ``{"id", "url"}``, raising
  one of the integration's ``api_errors`` when the API fails.
"""

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, NamedTuple, Protocol, cast

from django.core import signing
from django.http import HttpRequest
from django.urls import URLPattern, path

from . import start
from .exceptions import IntegrationNotConfigured, InvalidData
from .integration import Integration, route_path
from .models import Payment, PaymentStatus
from .money import currency_code, exact_amount, to_decimal
from .protocols.base import Account, GatewayProtocol, Notification, PaymentTerms
from .start import CheckoutUnavailable, StartRefused

__all__ = ["ApiCheckoutIntegration", "CheckoutUnavailable", "StartRefused"]

# A payment that can still be paid: a decline or a cancellation may be tried again (the
# ledger lets a later payment of it through); paid, refunded or held ones cannot.
PAYABLE = frozenset({PaymentStatus.PENDING, PaymentStatus.FAILED, PaymentStatus.CANCELLED})
_ORDER_KEYS = ("reference", "amount", "currency")


class CheckoutProtocol(GatewayProtocol, Protocol):
    def create_session(
        self, params: Mapping[str, str], account: Account, *, idempotency_key: str
    ) -> dict[str, str]: ...


class StartClaim(NamedTuple):
    """What a start token names: the payment, and the shop's extras for the session."""

    payment_id: int
    reference: str
    extra: dict[str, str]


class ApiCheckoutIntegration(Integration):
    """Base of the integrations whose hosted page is a session created by API."""

    protocol: CheckoutProtocol | None = None
    reference_field, amount_field, currency_field = "reference", "amount", "currency"
    description_field = "description"
    # The notification is JSON verified over its exact bytes.
    accepts_multipart = False
    # The protocol's errors that mean "the API did not create the session".
    api_errors: ClassVar[tuple[type[Exception], ...]] = ()
    # How long a rendered pay button stays good.
    start_token_max_age: ClassVar[int] = 24 * 3600

    # -- URLs -------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        bound = {"integration": self.slug}
        return [*super().get_urls(), path("start/", start.start, bound, name="start")]

    @property
    def service_url(self) -> str:
        """The shop's own start route: where the rendered form posts."""
        url = route_path(self.slug, "start")
        if url is None:
            raise IntegrationNotConfigured(
                f"{self.display_name} has no start/ route: mount "
                'path("billing/", include("billing.urls")) or include(obj.urls)'
            )
        return url

    # -- rendering --------------------------------------------------------------------

    def receiver(self) -> str:
        """The account recorded on the payment: none. A checkout's events name no account
        in the shop's words; they are proven by the account's own credentials (its
        webhook secret or ID, or billing's own fetch with its key), and another
        account's checkout is unknown to them."""
        return ""

    def receiver_matches(self, asked: str, notification: Notification) -> bool:
        """Nothing to compare (see ``receiver``): verify() proved the account."""
        return True

    def order_terms(self) -> tuple[PaymentTerms, dict[str, str]]:
        """The order's terms from the fields add_order set, and the shop's extras."""
        reference = str(self.fields.get(self.reference_field) or "")
        if not reference:
            raise InvalidData(f"{self.display_name} needs reference (the shop's order reference)")
        currency = currency_code(self.fields.get(self.currency_field, ""))
        if self.currencies and currency not in self.currencies:
            raise InvalidData(f"{self.display_name} takes {', '.join(self.currencies)}")
        amount = exact_amount(to_decimal(self.fields.get(self.amount_field, "")), currency)
        extra = {
            str(k): str(v) for k, v in self.fields.items() if k not in _ORDER_KEYS and v is not None
        }
        return PaymentTerms(reference, amount, currency, self.receiver()), extra

    def generate_form(self, request: HttpRequest | None = None) -> dict[str, str]:
        """Record the payment; the form is its signed token, nothing else."""
        terms, extra = self.order_terms()
        payment = self.record_payment(terms)
        return {"token": self.start_token(payment, extra)}

    def start_checkout(self, request: HttpRequest) -> str:
        """For a view that redirects itself: record the payment, open the session, and
        return the gateway's URL. Raises CheckoutUnavailable when the API fails."""
        terms, extra = self.order_terms()
        payment = self.record_payment(terms)
        return self.open_checkout(payment, extra, request)

    # -- the token ----------------------------------------------------------------------

    @property
    def _salt(self) -> str:
        return f"billing.start.{self.slug}"

    def start_token(self, payment: Payment, extra: Mapping[str, str]) -> str:
        claim = {"p": payment.pk, "r": payment.reference, "x": dict(extra)}
        return signing.dumps(claim, salt=self._salt, compress=True)

    def read_start_token(self, token: str) -> StartClaim:
        try:
            claim = signing.loads(token, salt=self._salt, max_age=self.start_token_max_age)
        except signing.SignatureExpired:
            raise StartRefused(
                "This payment button has expired: go back to the shop and pay from the order."
            ) from None
        except signing.BadSignature:
            raise StartRefused("The shop did not make this payment link.") from None
        try:
            payment_id, reference, extra = claim["p"], claim["r"], claim["x"]
        except (KeyError, TypeError):
            raise StartRefused("The shop did not make this payment link.") from None
        if not isinstance(payment_id, int) or not isinstance(reference, str):
            raise StartRefused("The shop did not make this payment link.")
        return StartClaim(payment_id, reference, {str(k): str(v) for k, v in dict(extra).items()})

    def payable_payment(self, claim: StartClaim) -> Payment:
        payment = Payment.objects.filter(
            pk=claim.payment_id, integration=self.slug, reference=claim.reference
        ).first()
        if payment is None:
            raise StartRefused("The shop has no such payment any more.", status=404)
        if payment.status not in PAYABLE:
            raise StartRefused(
                f"The payment for order {payment.reference} is {payment.get_status_display()}: "
                "there is nothing to pay.",
                status=409,
                heading="Nothing to pay",
            )
        return payment

    # -- opening the session ----------------------------------------------------------------

    def _checkout_protocol(self) -> CheckoutProtocol:
        return cast(CheckoutProtocol, self._protocol())

    def checkout_order(
        self, payment: Payment, extra: Mapping[str, str], request: HttpRequest | None
    ) -> dict[str, Any]:
        """The order as the protocol builds the session from it: the payment's terms,
        billing's URLs for this integration, and the shop's extras."""
        urls = {
            "return_url": self.absolute_url("return", request, payment.reference),
            "cancel_url": self.absolute_url("cancel", request, payment.reference),
            "notify_url": self.absolute_url("notify", request),
        }
        missing = [name for name, url in urls.items() if url is None]
        if missing:
            raise IntegrationNotConfigured(
                f"{self.display_name} cannot build {', '.join(missing)}: set BILLING_SITE_URL "
                "or open the checkout from a request, with billing's routes mounted"
            )
        return {
            **extra,
            **urls,
            "reference": payment.reference,
            "amount": Decimal(payment.amount),
            "currency": payment.currency,
        }

    def idempotency_key(self, payment: Payment, params: Mapping[str, str]) -> str:
        """The same payment, attempt and request: the same key, so a double click, a
        retry after a timeout or the failure page's button opens one session. A new
        attempt (after a decline) or changed terms get a new one."""
        attempt = payment.events.count()
        digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
        return f"billing-{self.slug}-{payment.pk}-{attempt}-{digest[:32]}"

    def open_checkout(
        self, payment: Payment, extra: Mapping[str, str], request: HttpRequest | None
    ) -> str:
        protocol = self._checkout_protocol()
        params = protocol.form(self.checkout_order(payment, extra, request), self.account)
        asked = protocol.terms(params, self.account)
        if (asked.reference, asked.amount, asked.currency) != (
            payment.reference,
            payment.amount,
            payment.currency,
        ):
            raise InvalidData(f"the session would not ask for payment {payment.reference}")
        session = self.create_session(params, self.idempotency_key(payment, params))
        Payment.objects.filter(pk=payment.pk).update(gateway_reference=session["id"])
        payment.gateway_reference = session["id"]
        return session["url"]

    # -- the gateway's own record, fetched ---------------------------------------------------

    def fetch_status(self, payment: Payment) -> bytes | None:
        """The gateway's current record of this payment's checkout
        (``payment.gateway_reference``), fetched with the account's credentials: a body
        that this integration's ``parse_notification`` reads from an Inbound of kind
        ``"fetch"`` (authentic by construction: our request, over TLS, with our key), and
        that becomes a Notification bound and applied like any other. None when there is
        nothing to fetch yet. Raises VerificationUnavailable when the API cannot be asked.

        ``billing reconcile`` calls it for pending payments, and a gateway whose only
        notification is a fetch (Mollie's webhook, eWAY's return) uses it too.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot fetch a checkout's state")

    def create_session(self, params: Mapping[str, str], idempotency_key: str) -> dict[str, str]:
        try:
            return self._checkout_protocol().create_session(
                params, self.account, idempotency_key=idempotency_key
            )
        except self.api_errors as exc:
            raise CheckoutUnavailable(str(exc)) from None
