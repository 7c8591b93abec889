"""PayPal Payments Standard: Buy Now and cart uploads, IPN, PDT, optional encrypted buttons."""

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from django.utils import timezone

from ..exceptions import IntegrationNotConfigured, VerificationUnavailable
from ..integration import Integration
from ..models import NotificationLog
from ..protocols import pay_pal
from ..protocols.base import Notification
from ..receivers import same_account, same_email

# PayPal transaction ids are short runs of letters and digits (17 today); anything else
# is not worth asking PayPal about.
_TRANSACTION_ID = re.compile(r"[A-Za-z0-9]{1,64}")
# A return/ with the same tx within this window does not ask PayPal again.
PDT_RETRY_AFTER = timedelta(minutes=1)


class PayPalIntegration(Integration):
    slug = "pay_pal"
    protocol = pay_pal
    accepts_multipart = False  # the postback needs the exact urlencoded bytes
    reference_field = "invoice"
    callback_fields = {"notify_url": "notify", "return": "return", "cancel_return": "cancel"}
    display_name = "PayPal Payments Standard"
    required_settings = ("RECEIVER_EMAIL",)
    endpoints = {
        "SERVICE_URL": (pay_pal.LIVE_SERVICE_URL, pay_pal.SANDBOX_SERVICE_URL),
        "POSTBACK_URL": (pay_pal.LIVE_POSTBACK_URL, pay_pal.SANDBOX_POSTBACK_URL),
        # PDT is answered by the host of the payment page, not the IPN postback host.
        "PDT_URL": (pay_pal.LIVE_SERVICE_URL, pay_pal.SANDBOX_SERVICE_URL),
    }

    EWP_KEYS = ("CERT_ID", "CERT", "PRIVATE_KEY", "PAYPAL_CERT")
    # PRIVATE_KEY sits in the EWP dict: a filter must look at nested keys too.
    secret_settings = ("PDT_TOKEN", "PRIVATE_KEY")

    def _load_settings(self) -> dict[str, Any]:
        configured = super()._load_settings()
        ewp = configured.get("EWP")
        if ewp is not None:
            missing = [key for key in self.EWP_KEYS if not (ewp or {}).get(key)]
            if missing:
                raise IntegrationNotConfigured(
                    f"{self.display_name} is missing MERCHANT_SETTINGS[{self.slug!r}]['EWP'] "
                    f"keys: {', '.join(missing)}"
                )
        return configured

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        return {
            "invoice": reference,
            "amount": amount,
            "currency_code": currency,
            "item_name": description or reference,
        }

    def seal(self, final_fields: dict[str, str]) -> dict[str, str]:
        """With EWP settings, the whole button travels encrypted to PayPal's certificate."""
        ewp = self.settings.get("EWP")
        if not ewp:
            return final_fields
        from ..protocols.pay_pal_ewp import encrypt_button

        blob = encrypt_button(
            final_fields,
            cert_id=ewp["CERT_ID"],
            signer_cert_pem=ewp["CERT"],
            signer_key_pem=ewp["PRIVATE_KEY"],
            paypal_cert_pem=ewp["PAYPAL_CERT"],
        )
        return {"cmd": "_s-xclick", "encrypted": blob}

    def receiver_matches(self, asked: str, notification: Notification) -> bool:
        """The account's e-mail (ASCII case-insensitive, as PayPal compares them; never a
        Unicode look-alike such as ``ſhop@``), or its merchant id, exactly."""
        raw = notification.raw
        if any(same_email(raw.get(name, ""), asked) for name in ("receiver_email", "business")):
            return True
        return same_account(raw.get("receiver_id", ""), str(self.settings.get("RECEIVER_ID", "")))

    def handle_return(self, log: NotificationLog) -> None:
        """PDT: with an identity token, ask PayPal for the transaction the customer paid.

        Anyone can load ``return/?tx=...``: PayPal is asked once per transaction, and
        again only a minute after the last attempt, so the page cannot be used to make
        this shop call PayPal at will. The IPN still comes either way.
        """
        token = self.settings.get("PDT_TOKEN")
        tx = _return_transaction(log)
        if not token or not _TRANSACTION_ID.fullmatch(tx) or self._pdt_known(tx, log):
            return
        log.transaction_id = tx  # marks the attempt
        log.save(update_fields=["transaction_id"])
        try:
            body = pay_pal.fetch_pdt(
                tx,
                identity_token=token,
                postback_url=self.endpoint("PDT_URL"),
                client=self.http_client,
            )
        except VerificationUnavailable:
            return  # the IPN will still come
        if body is not None:
            from ..pipeline import process_fetched

            process_fetched(self, log, kind="pdt", body=body)

    def _pdt_known(self, tx: str, log: NotificationLog) -> bool:
        """Whether PayPal's record of tx was fetched, or asked for in the last minute."""
        logs = NotificationLog.objects.filter(integration=self.slug, transaction_id=tx)
        recent = timezone.now() - PDT_RETRY_AFTER
        return (
            logs.filter(kind="pdt").exists()
            or logs.filter(kind="return", received_at__gte=recent).exclude(pk=log.pk).exists()
        )


def _return_transaction(log: NotificationLog) -> str:
    """PDT's ``tx``: on the return URL's query; with ``rm=2`` PayPal may post the payment
    variables instead, so the body's ``tx`` or ``txn_id`` counts too."""
    found = parse_qs(log.query_string).get("tx", [""])[0]
    if found or log.method != "POST":
        return found
    posted = parse_qs(bytes(log.body).decode("latin-1"))
    return (posted.get("tx") or posted.get("txn_id") or [""])[0]
