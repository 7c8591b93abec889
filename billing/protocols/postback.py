"""Asking a gateway whether it sent a notification: the body (or its pairs) posted back
to the gateway, which answers one word for yes and another for no (PayPal's IPN
postback, PayFast's ITN validation).

Plain Python: no Django; the HTTP client (with billing's timeouts) comes from the caller.
"""

from collections.abc import Mapping

import httpx

from ..exceptions import VerificationUnavailable
from .base import Verification


def confirm(
    client: httpx.Client,
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    *,
    valid: str,
    invalid: str,
    what: str,
) -> Verification:
    """VALID when the gateway answers 200 ``valid``, INVALID for 200 ``invalid``; any other
    answer, or none, raises VerificationUnavailable ("<what> failed/answered ..."): network
    trouble is UNKNOWN, never VALID."""
    try:
        reply = client.post(url, content=content, headers=dict(headers))
    except httpx.HTTPError as exc:
        raise VerificationUnavailable(f"{what} failed: {type(exc).__name__}") from exc
    answer = reply.text.strip()
    if reply.status_code == 200 and answer == valid:
        return Verification.VALID
    if reply.status_code == 200 and answer == invalid:
        return Verification.INVALID
    raise VerificationUnavailable(f"{what} answered HTTP {reply.status_code}")
