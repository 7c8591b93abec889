"""Mollie (billing.protocols.mollie): a payment created by API; its webhook, an unsigned
``id=tr_...``, is verified by fetching the payment with the shop's key.

How the fetch is used: the webhook's own log row is verified *by* the fetch, and its
Notification is built *from* the fetch (``parse_notification`` reads the id;
``to_notification`` and ``verify`` share one ``GET /v2/payments/{id}`` per reading). The
alternative, storing the fetched JSON as a second row with ``process_fetched``, would
leave every webhook row "ignored" and its payment applied by another row; here the row
Mollie caused is the one that is applied, duplicates of it are duplicates of it, and
an unreachable API leaves that row to be retried. The fetched JSON is not stored: a
re-run (or a review) asks Mollie again, which is what a ping means. Where billing asks on
its own (``fetch_status``, reconciliation; the customer's return) it stores Mollie's
answer with ``process_fetched`` as kind ``fetch``, authentic by construction.
"""

from collections.abc import Callable, Mapping
from datetime import timedelta

from django.utils import timezone

from ..api_checkout import ApiCheckoutIntegration
from ..exceptions import MalformedNotification, VerificationUnavailable
from ..models import NotificationLog, Payment, PaymentStatus
from ..protocols import mollie
from ..protocols.base import Inbound, Notification, Verification

# A return/ for the same payment within this window does not ask Mollie again.
RETURN_FETCH_AFTER = timedelta(minutes=1)


class _Ping(dict[str, str]):
    """A webhook's fields (``id``, ``ping``), and what fetching its payment found: Mollie
    is asked once per reading, the first time anything else is needed. Any other field
    (``ping["status"]``) is the fetched payment's: a ping says nothing by itself."""

    def __init__(self, fields: Mapping[str, str], fetch: Callable[[str], bytes | None]) -> None:
        super().__init__(fields)
        self._fetch = fetch
        self.asked = False
        self.payment: dict[str, str] | None = None
        self.failure = ""

    def ask(self) -> "_Ping":
        if not self.asked:
            try:
                body = self._fetch(self["id"])
                self.payment = None if body is None else mollie.read_payment(body)
            except VerificationUnavailable as exc:
                self.failure = str(exc) or "Mollie could not be asked"
            except MalformedNotification as exc:  # Mollie's 200 that is not a payment
                self.failure = f"Mollie's answer is not a payment: {exc}"
            self.asked = True
        return self

    def __missing__(self, key: str) -> str:
        self.ask()
        if self.failure:
            raise VerificationUnavailable(self.failure)
        if self.payment is None or key not in self.payment:
            raise KeyError(key)
        return self.payment[key]


class MollieIntegration(ApiCheckoutIntegration):
    slug = "mollie"
    display_name = "Mollie"
    protocol = mollie
    required_settings = ("API_KEY",)
    secret_settings = ("API_KEY",)
    settings_checks = {"API_KEY": mollie.check_api_key}
    # One host for test and live: the key says which.
    endpoints = {"API_URL": (mollie.API_URL, mollie.API_URL)}
    api_errors = (mollie.MollieApiError,)

    # -- the webhook: read the id, fetch the payment once, trust only the fetch ----------------

    def parse_notification(self, inbound: Inbound) -> dict[str, str]:
        fields = mollie.read(inbound)
        if not mollie.is_ping(fields):
            return fields
        return _Ping(fields, lambda payment_id: mollie.fetch_payment(payment_id, self.account))

    def to_notification(self, fields: Mapping[str, str]) -> Notification:
        if isinstance(fields, _Ping):
            ping = fields.ask()
            if ping.failure:
                raise VerificationUnavailable(ping.failure)
            if ping.payment is None:
                raise MalformedNotification("Mollie knows no such payment")
            return mollie.notification(ping.payment, self.account, self.slug)
        return mollie.notification(fields, self.account, self.slug)

    def verify(self, inbound: Inbound, fields: Mapping[str, str]) -> Verification:
        if isinstance(fields, _Ping):
            ping = fields.ask()
            if ping.failure:  # could not ask: retried, never accepted
                raise VerificationUnavailable(ping.failure)
            return mollie.ping_verdict(ping, ping.payment)
        return mollie.verify(fields, inbound, self.account)

    # -- the gateway's own record, fetched by billing ----------------------------------------

    def fetch_status(self, payment: Payment) -> bytes | None:
        """``GET /v2/payments/<gateway_reference>``: Mollie's JSON, read as kind
        ``fetch``; None before a payment was created or when Mollie has none."""
        if not mollie.PAYMENT_ID.fullmatch(payment.gateway_reference or ""):
            return None
        return mollie.fetch_payment(payment.gateway_reference, self.account)

    def handle_return(self, log: NotificationLog) -> None:
        """The customer is back (Mollie appends nothing): ask Mollie about the payment the
        signed return URL names, if it is still pending and no webhook for it has come
        (a late or lost one), and apply the answer.

        Anyone can load the return URL of an order they know: Mollie is asked at most
        once a minute per payment from here, so the page cannot make this shop call
        Mollie at will. The webhook still comes either way.
        """
        from ..links import signed_reference

        query = dict(_pairs(log.query_string))
        reference, signature = query.get("ref", ""), query.get("sig", "")
        if not reference or not signature or not signed_reference(self.slug, reference, signature):
            return
        payment = Payment.objects.filter(integration=self.slug, reference=reference).first()
        if payment is None or payment.status != PaymentStatus.PENDING:
            return
        tr = payment.gateway_reference or ""
        if not mollie.PAYMENT_ID.fullmatch(tr) or self._asked_lately(tr, log):
            return
        if self._webhook_came(reference):
            return  # the webhook path is in charge (even of one it rejected)
        log.transaction_id = tr  # marks the attempt
        log.save(update_fields=["transaction_id"])
        try:
            body = self.fetch_status(payment)
        except VerificationUnavailable:
            return  # the webhook will still come; reconciliation asks again
        if body is not None:
            from ..pipeline import process_fetched

            process_fetched(self, log, kind=mollie.FETCHED, body=body)

    def _webhook_came(self, reference: str) -> bool:
        return NotificationLog.objects.filter(
            integration=self.slug, kind="notify", claimed_reference=reference
        ).exists()

    def _asked_lately(self, tr: str, log: NotificationLog) -> bool:
        recent = timezone.now() - RETURN_FETCH_AFTER
        return (
            NotificationLog.objects.filter(
                integration=self.slug, kind="return", transaction_id=tr, received_at__gte=recent
            )
            .exclude(pk=log.pk)
            .exists()
        )


def _pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)
