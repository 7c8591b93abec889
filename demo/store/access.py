"""Who may see an order: the browser session that placed it, staff, or a signed link.

An order's reference is not a secret (it goes to the gateway, into URLs, e-mails and
logs), so it never opens anything by itself. The session remembers the orders it
placed; a signed link (``?key=`` on the order page, a TimestampSigner signature of the
reference) lets the customer open one in another browser, which then remembers it.
"""

from datetime import timedelta

from django.core import signing
from django.http import HttpRequest

SESSION_KEY = "store:orders"
KEEP = 20  # the most recent orders a session remembers
LINK_MAX_AGE = timedelta(days=7)
_signer = signing.TimestampSigner(salt="demo.store.order-link")


def owned(request: HttpRequest) -> list[str]:
    """References of the orders this browser session placed (or opened by signed link)."""
    return list(request.session.get(SESSION_KEY, []))


def owns(request: HttpRequest, reference: str) -> bool:
    return reference in owned(request)


def remember(request: HttpRequest, reference: str) -> None:
    kept = [known for known in owned(request) if known != reference]
    request.session[SESSION_KEY] = [*kept, reference][-KEEP:]


def can_see(request: HttpRequest, reference: str) -> bool:
    return request.user.is_staff or owns(request, reference)


def link_key(reference: str) -> str:
    """The ``?key=`` of the order's signed link: a timestamp and signature, not the reference."""
    return _signer.sign(reference).removeprefix(reference + _signer.sep)


def link_opens(reference: str, key: str) -> bool:
    try:
        _signer.unsign(f"{reference}{_signer.sep}{key}", max_age=LINK_MAX_AGE)
    except signing.BadSignature:  # tampered, for another order, or expired
        return False
    return True
