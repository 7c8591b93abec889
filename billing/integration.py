"""The off-site Integration base class: the seed's API over a protocol module."""

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, URLPattern, path, reverse

from . import conf, ledger
from .bodies import form_body

# IntegrationModuleNotFound is imported from here by the seed's users.
from .exceptions import IntegrationModuleNotFound, IntegrationNotConfigured, InvalidData
from .http import get_client
from .links import reference_signer
from .models import NotificationLog, Payment
from .protocols.base import (
    Account,
    GatewayProtocol,
    Inbound,
    Notification,
    PaymentTerms,
    Reply,
    Status,
    Verification,
)
from .receivers import same_account

__all__ = [
    "Integration",
    "IntegrationModuleNotFound",
    "IntegrationNotConfigured",
    "PaymentTerms",
]


# (integration slug, endpoint key) -> the local stand-in's URL. The sandbox app registers
# it when it is ready, so the core never imports the sandbox.
EndpointResolver = Callable[[str, str], str]
_sandbox_resolver: EndpointResolver | None = None


def register_sandbox(resolver: EndpointResolver | None) -> None:
    global _sandbox_resolver
    _sandbox_resolver = resolver


def route_path(slug: str, name: str) -> str | None:
    """The path of an integration's own route (``notify``, ``return``, ``start`` ...).

    Mounted with ``include("billing.urls")`` it is ``billing:<name>``; mounted seed-style
    with ``include(obj.urls)``, the route is named ``<name>`` in the namespace it was
    given (tried as the slug) or in none. Each of these patterns binds ``integration``,
    so reversing with it picks this integration's route even where several are mounted
    seed-style side by side.
    """
    for view_name in (f"billing:{name}", f"{slug}:{name}", name):
        try:
            return reverse(view_name, kwargs={"integration": slug})
        except NoReverseMatch:
            continue
    return None


_BACK_TO_SHOP = {
    Status.PAID: ("Thank you: your payment was received", "good"),
    Status.PENDING: ("Your payment is being processed", "info"),
    Status.FAILED: ("Your payment did not go through", "bad"),
    Status.CANCELLED: ("Payment cancelled", "neutral"),
}


class Integration:
    """Base of every off-site integration.

    A gateway is declared: its class attributes, and ``protocol``, the module that
    speaks its wire format (see ``GatewayProtocol``). The hooks below call the protocol
    with plain values; a gateway overrides one only where it truly differs. The
    notification pipeline, views and template tag only talk to this interface.
    """

    # The module that builds the form and reads and verifies notifications.
    protocol: GatewayProtocol | None = None

    slug: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    required_settings: ClassVar[tuple[str, ...]] = ()
    # Endpoint name -> (live URL, test URL); each is overridable by the settings key.
    endpoints: ClassVar[Mapping[str, tuple[str, str]]] = {}
    service_endpoint: ClassVar[str] = "SERVICE_URL"
    method: ClassVar[str] = "post"
    # Methods besides POST that the gateway uses for notifications (e.g. GET).
    notify_methods: ClassVar[tuple[str, ...]] = ()
    default_fields: ClassVar[Mapping[str, str]] = {}
    # MERCHANT_SETTINGS keys holding secrets: masked in Django's error reports whatever
    # they are called (SHA_IN matches none of Django's own patterns).
    secret_settings: ClassVar[tuple[str, ...]] = ()
    # The form fields that carry the order's reference, amount, currency and description
    # (see add_order). No currency field: the gateway takes only ``currencies``.
    reference_field: ClassVar[str] = ""
    amount_field: ClassVar[str] = ""
    currency_field: ClassVar[str] = ""
    description_field: ClassVar[str] = ""
    # The currencies the gateway accepts for this account; empty: any ISO 4217 code.
    currencies: ClassVar[tuple[str, ...]] = ()
    # Whether notify/ reads a multipart/form-data body like a form: every gateway that
    # signs fields, not one that verifies the body's exact bytes.
    accepts_multipart: ClassVar[bool] = True
    # Form field -> billing page ("notify", "return", "cancel") it points the gateway at;
    # filled in unless the shop gave it (see with_callbacks).
    callback_fields: ClassVar[Mapping[str, str]] = {}
    # Set when the notification cannot name the receiving account: a valid signature with
    # that account's secret proves it came from the account this setting names.
    receiver_setting: ClassVar[str] = ""
    # Settings key -> a check of its value (None when unset) raising InvalidData, so a
    # misconfiguration fails when the integration is built, naming the key.
    settings_checks: ClassVar[Mapping[str, Callable[[Any], object]]] = {}
    # The gateway shows the customer the shop's answer to its notification (a page back
    # to the shop, after ``reply_delay`` seconds), instead of redirecting them itself.
    shows_reply: ClassVar[bool] = False
    reply_delay: ClassVar[int] = 2
    # Request headers the notification is verified by (a webhook signature): stored as
    # received, where headers that look like signatures or passwords are redacted.
    verified_headers: ClassVar[tuple[str, ...]] = ()

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.settings: dict[str, Any] = self._load_settings()
        self.fields: dict[str, Any] = dict(self.default_fields)
        self.fields.update(options or {})
        self._test_mode: bool | None = None

    # -- configuration --------------------------------------------------------------

    def _load_settings(self) -> dict[str, Any]:
        configured = conf.integration_settings(self.slug)
        if configured is None:
            raise IntegrationNotConfigured(
                f"{self.display_name} is not configured: add MERCHANT_SETTINGS[{self.slug!r}] "
                f"with {', '.join(self.required_settings) or 'its settings'}"
            )
        missing = [key for key in self.required_settings if not configured.get(key)]
        if missing:
            raise IntegrationNotConfigured(
                f"{self.display_name} is missing MERCHANT_SETTINGS[{self.slug!r}] keys: "
                f"{', '.join(missing)}"
            )
        for key, check in self.settings_checks.items():
            try:
                check(configured.get(key))
            except InvalidData as exc:
                raise IntegrationNotConfigured(
                    f"{self.display_name}: MERCHANT_SETTINGS[{self.slug!r}][{key!r}]: {exc}"
                ) from None
        return configured

    @property
    def test_mode(self) -> bool:
        """Per instance, else the integration's TEST_MODE setting, else MERCHANT_TEST_MODE."""
        if self._test_mode is not None:
            return self._test_mode
        if "TEST_MODE" in self.settings:
            return bool(self.settings["TEST_MODE"])
        return conf.test_mode()

    @test_mode.setter
    def test_mode(self, value: bool) -> None:
        self._test_mode = bool(value)

    def endpoint(self, key: str) -> str:
        """A gateway URL: the settings override, else the local sandbox, else live or test."""
        if self.settings.get(key):
            return str(self.settings[key])
        # Never for a live integration, whatever the settings say (checks also refuse it).
        if conf.sandbox_enabled() and self.test_mode:
            if _sandbox_resolver is None:
                raise ImproperlyConfigured(
                    'BILLING_SANDBOX is on but "billing.sandbox" is not in INSTALLED_APPS'
                )
            return _sandbox_resolver(self.slug, key)
        live, test = self.endpoints[key]
        return test if self.test_mode else live

    @property
    def service_url(self) -> str:
        return self.endpoint(self.service_endpoint)

    @property
    def http_client(self) -> httpx.Client:
        return get_client()

    @property
    def account(self) -> Account:
        """The settings, mode, endpoints and HTTP client, as the protocol sees them."""
        keys = (django_settings.SECRET_KEY, *getattr(django_settings, "SECRET_KEY_FALLBACKS", []))
        shop_keys = tuple(str(key).encode("utf-8") for key in keys)
        return Account(self.settings, self.test_mode, self.endpoint, self.http_client, shop_keys)

    def _protocol(self) -> GatewayProtocol:
        if self.protocol is None:
            raise NotImplementedError(f"{type(self).__name__} names no protocol module")
        return self.protocol

    # -- the seed's field API --------------------------------------------------------

    def add_field(self, key: str, value: Any) -> None:
        self.fields[key] = value

    def add_fields(self, params: Mapping[str, Any]) -> None:
        self.fields.update(params)

    def add_order(
        self, *, reference: str, amount: Decimal, currency: str, description: str = ""
    ) -> None:
        """Gateway-neutral: put the order's terms into this gateway's own field names."""
        self.add_fields(self.order_fields(reference, amount, currency, description))

    def order_fields(
        self, reference: str, amount: Decimal, currency: str, description: str
    ) -> dict[str, Any]:
        """This gateway's fields for an order's reference, amount, currency, description."""
        if self.currencies and currency.upper() not in self.currencies:
            raise InvalidData(
                f"{self.display_name} takes {', '.join(self.currencies)}, not {currency!r}"
            )
        fields: dict[str, Any] = {self.reference_field: reference, self.amount_field: amount}
        if self.currency_field:
            fields[self.currency_field] = currency
        if self.description_field and description:
            fields[self.description_field] = description
        return fields

    # -- URLs -------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        from . import views

        bound = {"integration": self.slug}
        return [
            path("notify/", views.notify, bound, name="notify"),
            path("return/", views.return_view, bound, name="return"),
            path("cancel/", views.cancel_view, bound, name="cancel"),
        ]

    @property
    def urls(self) -> list[URLPattern]:
        return self.get_urls()

    def absolute_url(
        self, name: str, request: HttpRequest | None, reference: str | None = None
    ) -> str | None:
        """This integration's own callback URL, wherever its routes are mounted (see
        ``route_path``): None when they are not.

        BILLING_SITE_URL, when set, names the public origin (behind proxies); else the
        request's host, which ALLOWED_HOSTS vouches for.

        Customer-facing URLs carry the reference, signed, only to show the right order
        page: a reference typed by someone else shows nothing. Nothing read from them
        changes a payment.
        """
        relative = route_path(self.slug, name)
        if relative is None:
            return None
        if reference is not None:
            query = {"ref": reference, "sig": reference_signer(self.slug).signature(reference)}
            relative = f"{relative}?{urlencode(query)}"
        site = conf.site_url()
        if site:
            return f"{site}{relative}"
        return request.build_absolute_uri(relative) if request is not None else None

    def with_callbacks(
        self, request: HttpRequest | None, fields: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The shop's fields (or ``fields``) plus every callback URL it did not give.

        A URL that cannot be built is an error, never a silent gap: a form without its
        notify URL asks for a payment that can never be confirmed.
        """
        fields = dict(self.fields if fields is None else fields)
        reference = str(fields.get(self.reference_field) or "") if self.reference_field else ""
        missing = []
        for field, page in self.callback_fields.items():
            if field in fields:  # the shop's own value, even an empty one, stands
                continue
            url = self.absolute_url(page, request, None if page == "notify" else reference or None)
            if url is None:
                missing.append(field)
            else:
                fields[field] = url
        if missing:
            raise IntegrationNotConfigured(
                f"{self.display_name} cannot build {', '.join(missing)}: render the form with "
                "the request in the template context or set BILLING_SITE_URL, and mount "
                'path("billing/", include("billing.urls")) (or pass these fields yourself)'
            )
        return fields

    # -- building the form ------------------------------------------------------------

    def generate_form(self, request: HttpRequest | None = None) -> dict[str, str]:
        """The final, signed fields; records the payment they ask for."""
        final = self.build_fields(request)
        self.record_payment(self.payment_terms(final))
        return self.seal(final)

    def seal(self, final_fields: dict[str, str]) -> dict[str, str]:
        """A last transformation of the form, e.g. encryption; default: none."""
        return final_fields

    def record_payment(self, terms: PaymentTerms) -> Payment:
        return ledger.record_payment(self.slug, terms, test=self.test_mode)

    # -- the hooks: the protocol's verbs with this integration's account -----------------

    def build_fields(self, request: HttpRequest | None) -> dict[str, str]:
        if self.reference_field and not self.fields.get(self.reference_field):
            raise InvalidData(
                f"{self.display_name} needs {self.reference_field} (the shop's order reference)"
            )
        return self._protocol().form(self.with_callbacks(request), self.account)

    def payment_terms(self, final_fields: Mapping[str, str]) -> PaymentTerms:
        return self._protocol().terms(final_fields, self.account)

    def inbound(self, log: NotificationLog) -> Inbound:
        """The stored request as the protocol reads it (a multipart form as form pairs)."""
        body = form_body(log) if self.accepts_multipart else bytes(log.body)
        headers = {str(k): str(v) for k, v in (log.headers or {}).items()}
        return Inbound(
            body,
            log.content_type,
            log.method,
            log.query_string,
            headers,
            log.kind,
            log.remote_addr or "",
            log.received_at.timestamp() if log.received_at else None,
        )

    def parse_notification(self, inbound: Inbound) -> dict[str, str]:
        """Decode the request; raise MalformedNotification when it cannot be."""
        return self._protocol().read(inbound)

    def verify(self, inbound: Inbound, fields: Mapping[str, str]) -> Verification:
        """Authenticity: raise VerificationUnavailable when the gateway cannot be asked."""
        return self._protocol().verify(fields, inbound, self.account)

    def to_notification(self, fields: Mapping[str, str]) -> Notification:
        return self._protocol().notification(fields, self.account, self.slug)

    def reported_status(self, fields: Mapping[str, str]) -> Status | None:
        """What the notification says happened, unverified: for wording pages only."""
        try:
            return self.to_notification(fields).status
        except Exception:  # a notification too broken to say
            return None

    def acknowledge(self, fields: Mapping[str, str], request: HttpRequest) -> Reply:
        """The answer the gateway expects once the notification is safely stored.

        A gateway that shows the customer this answer gets a page back to the shop: the
        order page (the cancel page for a cancellation), worded by what it reports.
        """
        if not self.shows_reply:
            return self._protocol().reply(fields, self.account)
        try:
            notification = self.to_notification(fields)
        except Exception:  # too broken to name an order: back to the shop, no link
            return self.back_to_shop(None, delay=self.reply_delay)
        page = "cancel" if notification.status is Status.CANCELLED else "return"
        url = self.absolute_url(page, request, notification.reference or None)
        return self.back_to_shop(url, delay=self.reply_delay, reported=notification.status)

    def back_to_shop(
        self, url: str | None, delay: int = 2, reported: Status | None = None
    ) -> Reply:
        """The small page some gateways show the customer in place of their receipt.

        ``reported`` is what the gateway's notification says happened: only the wording
        depends on it (the payment's state is decided by verification, not by this page).
        """
        default = ("Returning you to the shop", "neutral")
        heading, tone = _BACK_TO_SHOP.get(reported, default) if reported else default
        context = {"url": url, "delay": delay, "heading": heading, "tone": tone}
        page = render_to_string(
            [f"billing/{self.slug}/back_to_shop.html", "billing/back_to_shop.html"], context
        )
        return Reply(page.encode(), content_type="text/html; charset=utf-8")

    def redact_body(self, body: bytes) -> bytes:
        """Replace secrets the gateway sends in the body before it is stored.

        Default: nothing to hide. A gateway that authenticates with a shared password in
        the body replaces it with a keyed digest that verify() can still check.
        """
        return body

    def handle_return(self, log: NotificationLog) -> None:
        """Use a verifiable return (e.g. PayPal PDT) like a notification; default: nothing."""

    def receiver_matches(self, asked: str, notification: Notification) -> bool:
        """The payment was ``asked`` of the account the notification is for, exactly."""
        if self.receiver_setting:
            return same_account(str(self.settings[self.receiver_setting]), asked)
        return same_account(notification.receiver, asked)
