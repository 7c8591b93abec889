"""How each gateway behaves, in one table: read by the conformance mixin, the sandbox
flows and the browser flows, and checked against the stand-ins by a meta-test.

A gateway that a shop or another package adds registers its row with ``register``.
"""

from dataclasses import dataclass

from ..models import PaymentStatus


@dataclass(frozen=True)
class GatewayTraits:
    slug: str
    # What a decline notification says, in the gateway's own words: (field, value) in
    # the notification's fields as its protocol reads them.
    declined_with: tuple[str, str]
    # The gateway reports declines; else only cancellations (Worldpay's transStatus C).
    declines: bool = True
    # The gateway notifies the shop of a declined payment at all (Robokassa does not: it
    # only sends the customer to its fail URL).
    notifies_decline: bool = True
    # How the shop logs the gateway's notification: "notify" for a server-to-server
    # call, or the kind of the customer's return when that is the notification.
    notification_kind: str = "notify"
    # The gateway shows the customer the shop's answer at its own URL (a relay response).
    shows_reply: bool = False
    # The customer's redirection carries a signed copy of the notification (Worldline).
    feedback: bool = False
    # The gateway notifies the shop when the customer cancels on its page.
    notifies_cancel: bool = False
    # The gateway knows no cancel URL: its Cancel ends on its own page, whose link goes
    # back the way the customer came.
    cancel_goes_back: bool = False
    # The notification's amount is signed (else a tampered amount arrives authentic and
    # is held, not rejected).
    amount_signed: bool = True
    # An authentic different amount fails verification like a tampered one (the amount
    # is bound into a signed reference, as with Global Payments' ORDER_ID).
    other_amount_rejected: bool = False
    # The notification names the receiving account; one that cannot proves it by a
    # signature with that account's own secret (another account's is then rejected).
    names_receiver: bool = True
    # The notification names the currency; else it implies the account's own.
    names_currency: bool = True
    # notify/ reads a multipart/form-data body like a form (not PayPal, whose postback
    # needs the exact bytes it sent).
    accepts_multipart: bool = True
    # A MERCHANT_SETTINGS key whose value the gateway sends the shop in the notification
    # (a callback password): the notification log must never show it.
    sent_secret: str = ""
    # With the sandbox's "Send it late", the customer is back before the notification.
    notifies_late: bool = False
    # The HTTP status the gateway expects for a notification it delivered.
    ack_status: int = 200

    @property
    def declined_state(self) -> str:
        return PaymentStatus.FAILED if self.declines else PaymentStatus.CANCELLED


TRAITS: dict[str, GatewayTraits] = {}


def register(traits: GatewayTraits) -> GatewayTraits:
    TRAITS[traits.slug] = traits
    return traits


for _row in (
    GatewayTraits(
        "pay_pal", ("payment_status", "Denied"), accepts_multipart=False, notifies_late=True
    ),
    # Worldpay reports authorised (Y) and cancelled (C) payments only. Its callback is not
    # signed (the password is its only authentication).
    GatewayTraits(
        "world_pay",
        ("transStatus", "C"),
        declines=False,
        shows_reply=True,
        notifies_cancel=True,
        amount_signed=False,
        sent_secret="CALLBACK_PASSWORD",
    ),
    # The HPP reports only a transaction it attempted, and its response hash does not
    # cover AMOUNT: a changed amount fails against the amount the hashed ORDER_ID carries.
    GatewayTraits(
        "global_payments",
        ("RESULT", "101"),
        shows_reply=True,
        cancel_goes_back=True,
        other_amount_rejected=True,
    ),
    # Worldline tells the shop twice, both signed with SHA-OUT: the post-sale request,
    # then the customer's redirection with the same parameters.
    GatewayTraits("ogone_payments", ("STATUS", "2"), feedback=True, names_receiver=False),
    # Authorize.Net posts the relay response and shows the customer the shop's answer.
    GatewayTraits(
        "authorize_net_dpm",
        ("x_response_code", "2"),
        shows_reply=True,
        names_receiver=False,
        names_currency=False,
    ),
    GatewayTraits("dummy", ("status", "failed")),
    # PayFast's ITN names no currency (ZAR only); it is signed and confirmed by postback.
    GatewayTraits("pay_fast", ("payment_status", "FAILED"), names_currency=False),
    # Skrill's md5sig signs merchant_id, mb_amount and mb_currency: all are bound.
    GatewayTraits("skrill", ("status", "-2")),
    GatewayTraits("payu_in", ("status", "failure"), names_currency=False),
    # Robokassa's ResultURL reports paid invoices only; it names neither the shop (its
    # Password#2 proves it) nor a currency (RUB).
    GatewayTraits(
        "robokassa",
        ("", ""),
        notifies_decline=False,
        names_receiver=False,
        names_currency=False,
    ),
    # iPay88 knows no cancel URL: its Cancel posts Status 0 to ResponseURL, not BackendURL.
    GatewayTraits("ipay88", ("Status", "0"), cancel_goes_back=True),
    # LiqPay's checkout has no cancel URL, and says nothing of a customer who leaves it.
    GatewayTraits("liqpay", ("status", "failure"), cancel_goes_back=True),
    # Opayo's only notification is the crypt on the customer's return (ABORT included),
    # stored and processed as a notification; only the encryption password proves the
    # vendor. The currency and mode ride in the VendorTxCode that Opayo echoes.
    GatewayTraits(
        "opayo_form",
        ("Status", "NOTAUTHED"),
        notification_kind="notify",
        notifies_cancel=True,
        names_receiver=False,
    ),
    GatewayTraits("quickpay", ("accepted", "false"), accepts_multipart=False),
    # Stripe Checkout: a session created by API. Its events are JSON signed over the raw
    # body with the endpoint's secret, and name no account; a customer's cancel is not
    # reported (the session expires later); a decline is a delayed payment that failed.
    GatewayTraits(
        "stripe",
        ("type", "checkout.session.async_payment_failed"),
        names_receiver=False,
        accepts_multipart=False,
    ),
    # eWAY Rapid's Responsive Shared Page: an access code created by API. eWAY calls no
    # shop URL; its result, fetched on the customer's return (a "fetch" row), is the
    # notification. It names no account (our key proves it) and is not signed, so an
    # amount changed in the answer arrives authentic and is held.
    GatewayTraits(
        "eway",
        ("ResponseMessage", "D4405"),
        notification_kind="fetch",
        names_receiver=False,
        amount_signed=False,
        accepts_multipart=False,
    ),
    # Mollie: a payment created by API. Its webhook is an unsigned id=tr_...; the shop
    # fetches the payment with its key, so the decline is the fetched status, another
    # account's payment is unknown to that key, and a body with anything but the id
    # (an added amount) is rejected. A customer's cancel is not reported (it expires).
    GatewayTraits(
        "mollie",
        ("status", "failed"),
        names_receiver=False,
        accepts_multipart=False,
    ),
    # PayPal Checkout: an Orders v2 order created by API and captured on the customer's
    # return. Webhooks are confirmed by PayPal (verify-webhook-signature, which covers the
    # app's WEBHOOK_ID: another account's event fails) and name no account; a customer's
    # cancel is not reported. The capture's answer on return is a "capture" row.
    GatewayTraits(
        "pay_pal_checkout",
        ("event.event_type", "PAYMENT.CAPTURE.DENIED"),
        names_receiver=False,
        accepts_multipart=False,
    ),
):
    register(_row)
