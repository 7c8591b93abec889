"""IPN bodies shaped like PayPal's, including a windows-1252 one as PayPal sends it; the
order they pay and their post to notify/."""

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.test import Client

from billing import get_integration

NOTIFY = "/billing/pay_pal/notify/"

# Recorded shape of a Buy Now IPN (PayPal IPN simulator, values replaced).
COMPLETED_FIELDS = [
    ("mc_gross", "10.00"),
    ("protection_eligibility", "Eligible"),
    ("payer_id", "LPLWNMTBWMFAY"),
    ("payment_date", "20:12:59 Jan 13, 2026 PST"),
    ("payment_status", "Completed"),
    ("charset", "windows-1252"),
    ("first_name", "Zoë"),
    ("mc_fee", "0.59"),
    ("notify_version", "3.9"),
    ("payer_status", "verified"),
    ("business", "shop@example.com"),
    ("quantity", "1"),
    ("verify_sign", "AtkOfCXbDm2hu0ZELryHFjY-Vb7PAUvS6nMXgysbElEn9v-1XcmSoGtf"),
    ("payer_email", "buyer@example.com"),
    ("txn_id", "61E67681CH3238416"),
    ("payment_type", "instant"),
    ("last_name", "Müller"),
    ("receiver_email", "shop@example.com"),
    ("payment_fee", ""),
    ("receiver_id", "S8XGHLYDW9T3S"),
    ("txn_type", "web_accept"),
    ("item_name", "Café crème mug – 1€"),
    ("mc_currency", "USD"),
    ("item_number", ""),
    ("residence_country", "US"),
    ("test_ipn", "1"),
    ("invoice", "ORDER-1"),
    ("ipn_track_id", "a2f9c1e0b3d44"),
]

STATUS_NAMES = {
    "paid": "Completed",
    "failed": "Denied",
    "cancelled": "Voided",
    "pending": "Pending",
}


def pay_pal_order() -> None:
    """ORDER-1 for 10.00 at PayPal, its payment recorded as rendering its form does."""
    get_integration("pay_pal", {"invoice": "ORDER-1", "amount": "10.00"}).generate_form()


def post_ipn(body: bytes, client: Client | None = None) -> Any:
    """``body`` posted to PayPal's notify/ as PayPal posts an IPN (by ``client``)."""
    return (client or Client()).post(NOTIFY, body, content_type="application/x-www-form-urlencoded")


def ipn_body(
    *,
    reference: str = "ORDER-1",
    amount: Decimal = Decimal("10.00"),
    currency: str = "USD",
    receiver: str = "shop@example.com",
    status: str = "Completed",
    transaction_id: str = "61E67681CH3238416",
    test: bool = True,
    charset: str = "windows-1252",
    extra: dict[str, str] | None = None,
) -> bytes:
    values = dict(COMPLETED_FIELDS)
    values.update(
        invoice=reference,
        mc_gross=f"{amount:.2f}",
        mc_currency=currency,
        receiver_email=receiver,
        business=receiver,
        payment_status=status,
        txn_id=transaction_id,
        charset=charset,
    )
    if not test:
        del values["test_ipn"]
    values.update(extra or {})
    return urlencode(list(values.items()), encoding=charset).encode("ascii")
