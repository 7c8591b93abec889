"""eWAY Rapid Responsive Shared Page (billing.protocols.eway): an access code created by
API; the result, fetched on the customer's return and by reconciliation, is the notification."""

import hashlib
from datetime import timedelta
from urllib.parse import parse_qs

from django.utils import timezone

from ..api_checkout import PAYABLE, ApiCheckoutIntegration
from ..exceptions import MalformedNotification, VerificationUnavailable
from ..models import NotificationLog, Payment
from ..protocols import eway
from ..protocols.base import Status

# A return/ naming the same access code within this window does not ask eWAY again.
FETCH_RETRY_AFTER = timedelta(minutes=1)


class EwayIntegration(ApiCheckoutIntegration):
    slug = "eway"
    display_name = "eWAY"
    protocol = eway
    required_settings = ("API_KEY", "API_PASSWORD")
    secret_settings = ("API_KEY", "API_PASSWORD")
    endpoints = {"API_URL": (eway.LIVE_API_URL, eway.SANDBOX_API_URL)}
    api_errors = (eway.EwayApiError,)

    # -- the gateway's own record, fetched ---------------------------------------------------

    def fetch_status(self, payment: Payment) -> bytes | None:
        """eWAY's result for the payment's access code (``GET /AccessCode/{code}``)."""
        code = payment.gateway_reference
        if not code or not eway.ACCESS_CODE.fullmatch(code):
            return None
        return eway.fetch_result(code, self.account)

    def handle_return(self, log: NotificationLog) -> None:
        """eWAY's only notification: on ``return/?AccessCode=...`` fetch the result and
        process it as a fetched row.

        Anyone can load the return URL, so it cannot make this shop call eWAY at will:
        only an access code this shop created (the gateway reference of a payment that can
        still be paid) is looked up, at most once a minute, and not once a result that
        settles it was fetched; any other code, or a settled payment, changes nothing and
        asks nothing. An unreachable eWAY leaves the payment pending for the
        next return or for ``billing reconcile``.
        """
        code = _access_code(log)
        if not code or not eway.ACCESS_CODE.fullmatch(code):
            return
        payment = Payment.objects.filter(
            integration=self.slug, gateway_reference=code, status__in=PAYABLE
        ).first()
        if payment is None or self._decided(payment, code):
            return
        marker = _marker(code)
        recent = timezone.now() - FETCH_RETRY_AFTER
        asked = NotificationLog.objects.filter(
            integration=self.slug, kind="return", transaction_id=marker, received_at__gte=recent
        )
        if asked.exclude(pk=log.pk).exists():
            return
        log.transaction_id = marker  # marks the attempt
        log.save(update_fields=["transaction_id"])
        try:
            body = self.fetch_status(payment)
        except VerificationUnavailable:
            return
        if body is not None:
            from ..pipeline import process_fetched

            process_fetched(self, log, kind=eway.FETCH_KIND, body=body)

    def _decided(self, payment: Payment, code: str) -> bool:
        """Whether a result of this access code that settles it was fetched already (a
        declined code is not asked again; a new attempt has a new code)."""
        rows = NotificationLog.objects.filter(
            integration=self.slug, kind=eway.FETCH_KIND, payment=payment
        ).order_by("-pk")[:20]
        for row in rows:
            try:
                fields = eway.read(self.inbound(row))
            except MalformedNotification:
                continue
            if fields.get("AccessCode") == code and eway.status_of(fields)[0] is not Status.PENDING:
                return True
        return False


def _access_code(log: NotificationLog) -> str:
    values = parse_qs(log.query_string).get("AccessCode", [])
    return values[0] if len(values) == 1 else ""


def _marker(code: str) -> str:
    """What a return row keeps of the access code it asked about (not the code itself)."""
    return "AccessCode:" + hashlib.sha256(code.encode()).hexdigest()[:40]
