"""What the stand-ins of the gateways whose checkout is made by API do alike, written once.

Stripe, Mollie, eWAY and PayPal Checkout play their gateway's REST API as Django views:
the shop creates a checkout (a session, payment, access code or order) server to server,
the sandbox keeps it as a ``Checkout`` for its hosted page, and the shop fetches it back.
Here are the moves those views share: answering with a refusal from deep inside a view
(``Refusal``, ``api_view``), the played account and its credentials, the JSON body, the
store of created checkouts and the notifications sent for them.

Only the scaffolding is shared. Each stand-in still speaks its own gateway's wire format
(every refusal is built by the stand-in's own error function, passed in) and computes
its own signatures from the gateway's documentation (none are here). Like the rest of
the stand-ins, nothing here imports billing.protocols or billing.integrations, and the
database is touched only inside functions, so a module can be imported without Django
settings (the ``billing`` command builds notifications so).
"""

import base64
import hmac
import json
import re
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt

from .. import guard
from .base import FormRejected, Message, Order, StandIn

if TYPE_CHECKING:
    from ..models import Checkout, SentNotification

T = TypeVar("T")

# The gateway's own JSON error for an HTTP status and a message.
ErrorAnswer = Callable[[int, str], HttpResponse]
# The gateway's own answer to a refused request, given what is wrong in words.
Refuse = Callable[[str], HttpResponse]

ALPHANUMERIC = string.ascii_letters + string.digits


def random_string(length: int, alphabet: str = ALPHANUMERIC) -> str:
    """``length`` random characters of ``alphabet``, as gateways make their ids."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


# -- answering early -------------------------------------------------------------------------


class Refusal(Exception):
    """The API's answer, raised where a check fails (an error in the gateway's own shape)
    so that each view reads as a list of checks; ``api_view`` answers it."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


def api_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """base.gateway_view for a gateway's API, whose views may take URL arguments:
    CSRF-exempt (the shop calls it server to server), 404 unless the sandbox serves this
    gateway's integration (checked on every request), and a ``Refusal`` is the answer."""
    # Each stand-in lives in gateways/<slug>.py (stand_ins() insists).
    slug = view.__module__.rpartition(".")[2]

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not guard.serves(slug):
            return guard.not_enabled()
        try:
            return view(request, *args, **kwargs)
        except Refusal as refusal:
            return refusal.response

    return wrapper


def said(exc: FormRejected) -> str:
    """A refusal's problems as one message, as the gateways' JSON errors carry them."""
    return " ".join(exc.problems)


# -- the played account and its credentials --------------------------------------------------


def account_or_refuse(account: Callable[[], T], error: ErrorAnswer) -> T:
    """``account()``, the account the sandbox plays; a live one (which shop_settings
    refuses) is refused in the gateway's shape."""
    try:
        return account()
    except FormRejected as exc:
        raise Refusal(error(exc.status, said(exc))) from None


def bearer_token(request: HttpRequest) -> str:
    """The token of an ``Authorization: Bearer <token>`` header ("" without one)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token if scheme == "Bearer" else ""


def basic_credentials(request: HttpRequest) -> str | None:
    """The ``user:password`` of an ``Authorization: Basic`` header (None without one, or
    when it is not base64 of UTF-8)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Basic":
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None


def same_secret(given: str, expected: str) -> bool:
    """``given`` is the played account's ``expected`` credential, compared in constant
    time; never when the account has none."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


# -- the request -----------------------------------------------------------------------------


def json_body(request: HttpRequest) -> Any:
    """The request's body as JSON; ValueError when it is not UTF-8 JSON."""
    return json.loads(request.body.decode("utf-8"))


def json_object(request: HttpRequest) -> dict[str, Any] | None:
    """The request's body when it is a JSON object (None otherwise)."""
    try:
        data = json_body(request)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return data if isinstance(data, dict) else None


def checked_order(stand_in: StandIn, fields: Mapping[str, str], refuse: Refuse) -> Order:
    """The order the request asks for, as the stand-in's check_form reads it; what is
    wrong with it is refused in the gateway's shape."""
    try:
        return stand_in.check_form(fields)
    except FormRejected as exc:
        raise Refusal(refuse(said(exc))) from None


def refuse_foreign_target(stand_in: StandIn, order: Order, refuse: Refuse) -> None:
    """Refuse (in the gateway's shape) an order whose notification URL is not on one of
    the shop's origins, as the hosted page refuses such a form."""
    from .. import views

    refused = views.foreign_target(stand_in, order)
    if refused is not None:
        raise Refusal(refuse(said(refused)))


def webhook_endpoint(slug: str, back_url: str) -> str:
    """The account's webhook endpoint, as its dashboard would have it (the gateway has
    none per checkout): billing's notify/ on the origin of ``back_url``, the shop's
    return URL (mounted as billing.urls, else beside the return/ it sends back to)."""
    parts = urlsplit(back_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    try:
        notify = reverse("billing:notify", kwargs={"integration": slug})
    except NoReverseMatch:
        base, found, _ = parts.path.rpartition("return/")
        if not found:
            return ""
        notify = base + "notify/"
    return f"{parts.scheme}://{parts.netloc}{notify}"


# -- the created checkouts -------------------------------------------------------------------


def hosted_page(request: HttpRequest, slug: str, token: str) -> str:
    """The absolute URL of the sandbox's hosted page for the checkout ``token``."""
    page = reverse(f"billing_sandbox:{slug}:checkout", kwargs={"token": token})
    return request.build_absolute_uri(page)


def keep(slug: str, token: str, fields: dict[str, Any]) -> "Checkout":
    """Remember a created checkout (its request's fields and what the gateway added),
    for the hosted page and later requests."""
    from ..models import Checkout

    return Checkout.objects.create(token=token, gateway=slug, fields=fields)


def stored(slug: str, token: str, *, for_update: bool = False) -> "Checkout | None":
    """The checkout this gateway made as ``token`` (None: none, or another gateway's);
    ``for_update`` locks it until the transaction ends."""
    from ..models import Checkout

    found = Checkout.objects.select_for_update() if for_update else Checkout.objects.all()
    return found.filter(gateway=slug, token=token).first()


def save_fields(checkout: "Checkout", fields: dict[str, Any]) -> None:
    """Keep ``fields`` as the checkout's from now on (the gateway's record changed)."""
    checkout.fields = fields
    checkout.save(update_fields=["fields"])


def first_with(slug: str, name: str, value: str) -> "Checkout | None":
    """The first checkout this gateway made with ``value`` as its field ``name`` (an
    idempotency key the gateway answers again); None for no value."""
    from ..models import Checkout

    if not value:
        return None
    earlier = Checkout.objects.filter(gateway=slug, **{f"fields__{name}": value})
    return earlier.order_by("pk").first()


def asked(checkout: "Checkout", ours: frozenset[str]) -> dict[str, Any]:
    """The request's parameters a checkout was made from: its fields but ``ours``, what
    the sandbox added when it kept them."""
    return {key: value for key, value in checkout.fields.items() if key not in ours}


def last_sent(checkout: "Checkout", *, authentic: bool = False) -> "SentNotification | None":
    """The latest notification the stand-in issued for the checkout (``authentic``: the
    latest not tampered with on the way), which says what the customer's decision made."""
    from ..models import SentNotification

    sent = SentNotification.objects.filter(gateway=checkout.gateway, checkout=checkout)
    if authentic:
        sent = sent.filter(authentic=True)
    return sent.order_by("-pk").first()


# -- testing options -------------------------------------------------------------------------


def change_json_integer(message: Message, name: str) -> Message:
    """The message with the first ``"<name>": <digits>`` of its JSON body changed after
    the gateway produced it: to 1 (100 where it was 1); every other byte stays."""
    pattern = re.compile(rb'("' + re.escape(name.encode()) + rb'": )(\d+)')

    def other(found: re.Match[bytes]) -> bytes:
        return found.group(1) + (b"100" if found.group(2) == b"1" else b"1")

    return replace(message, body=pattern.sub(other, message.body, count=1))
