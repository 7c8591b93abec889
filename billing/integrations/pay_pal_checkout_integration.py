"""PayPal Checkout (billing.protocols.pay_pal_checkout): an Orders v2 order created by
API, captured on the customer's return, webhooks confirmed by PayPal."""

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs

from django.db.models import Q
from django.utils import timezone

from ..api_checkout import PAYABLE, ApiCheckoutIntegration
from ..exceptions import VerificationUnavailable
from ..models import NotificationLog, Payment
from ..protocols import pay_pal_checkout as paypal
from ..protocols.base import Notification, Status

logger = logging.getLogger("billing.pay_pal_checkout")

# A return/ naming an order asks PayPal again only this long after the last attempt.
CAPTURE_RETRY_AFTER = timedelta(minutes=1)


class PayPalCheckoutIntegration(ApiCheckoutIntegration):
    slug = "pay_pal_checkout"
    display_name = "PayPal Checkout"
    protocol = paypal
    required_settings = ("CLIENT_ID", "CLIENT_SECRET", "WEBHOOK_ID")
    secret_settings = ("CLIENT_SECRET",)
    settings_checks = {"WEBHOOK_ID": paypal.check_webhook_id}
    # The host decides the mode: live and sandbox have their own credentials.
    endpoints = {"API_URL": (paypal.LIVE_API_URL, paypal.TEST_API_URL)}
    verified_headers = paypal.TRANSMISSION_HEADERS
    api_errors = (paypal.PayPalApiError,)

    # -- the customer's return: capture ----------------------------------------------------

    def handle_return(self, log: NotificationLog) -> None:
        """``return/?token=<order id>``: capture the order, and apply PayPal's answer like
        a notification (stored as kind ``capture``).

        Anyone can load this URL, so PayPal is asked only for an order this shop created
        (the payment's stored order id, and the payment the signed ``ref`` names when
        there is one), only while that payment can still be paid, once per order, and
        again only a minute after the last attempt. The capture's PayPal-Request-Id is
        derived from the order, so even two returns at once capture once.
        """
        query = parse_qs(log.query_string)
        order_id = query.get("token", [""])[0]
        if not paypal.valid_order_id(order_id):
            return
        payment = Payment.objects.filter(integration=self.slug, gateway_reference=order_id).first()
        if payment is None or payment.status not in PAYABLE:
            return
        named = query.get("ref", [""])[0]
        if named and named != payment.reference:
            return
        if self._capture_known(order_id, log):
            return
        log.transaction_id = order_id  # marks the attempt
        log.save(update_fields=["transaction_id"])
        try:
            body = paypal.capture(order_id, self.account)
        except VerificationUnavailable as exc:
            logger.warning("%s: could not capture order %s: %s", self.slug, order_id, exc)
            return  # the webhook, or reconciliation, still decides
        if body is None:
            logger.info("%s: order %s had nothing to capture", self.slug, order_id)
            return
        from ..pipeline import process_fetched

        log.reference = payment.reference  # answered: later returns do not ask again
        log.save(update_fields=["reference"])
        process_fetched(self, log, kind="capture", body=body)

    def _capture_known(self, order_id: str, log: NotificationLog) -> bool:
        """Whether PayPal answered a capture of this order already (that return is marked
        with the payment's reference), or was asked within the last minute."""
        recent = timezone.now() - CAPTURE_RETRY_AFTER
        earlier = NotificationLog.objects.filter(
            integration=self.slug, kind="return", transaction_id=order_id
        ).exclude(pk=log.pk)
        return earlier.filter(Q(received_at__gte=recent) | ~Q(reference="")).exists()

    # -- the gateway's own record -------------------------------------------------------------

    def fetch_status(self, payment: Payment) -> bytes | None:
        """The order (``GET /v2/checkout/orders/{id}``); an order the customer approved
        but whose return never came is captured here (with the same PayPal-Request-Id as
        the return's), so a closed tab still ends paid."""
        order_id = payment.gateway_reference
        if not order_id or not paypal.valid_order_id(order_id):
            return None
        body = paypal.fetch_order(order_id, self.account)
        if body is not None and paypal.order_status(body) == "APPROVED":
            return paypal.capture(order_id, self.account)
        return body

    # -- refunds: the capture they belong to ----------------------------------------------------

    def to_notification(self, fields: Mapping[str, str]) -> Notification:
        notification = super().to_notification(fields)
        if notification.status not in (Status.REFUNDED, Status.REVERSED, Status.UNKNOWN):
            return notification
        if not notification.gateway_status.startswith(("refund:", "reversal:")):
            return notification
        payment = None
        captured = paypal.captured_id(fields, "event.resource")
        if captured:
            payment = Payment.objects.filter(integration=self.slug, transaction_id=captured).first()
        if payment is None and notification.reference:
            payment = Payment.objects.filter(
                integration=self.slug, reference=notification.reference
            ).first()
        if payment is None:
            return notification
        if notification.reference and notification.reference != payment.reference:
            return notification  # bound, and held, by the reference it names
        refunded = notification.amount
        if (
            notification.status is Status.REFUNDED
            and refunded is not None
            and Decimal(refunded) < payment.amount
        ):
            # A partial refund: the ledger has no partial state.
            return replace(
                notification,
                reference=payment.reference,
                status=Status.UNKNOWN,
                gateway_status=f"{notification.gateway_status}:partial",
            )
        return replace(notification, reference=payment.reference)
