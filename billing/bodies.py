"""A stored notification's fields as form pairs, however the sender encoded the form.

For gateways that sign fields rather than the body's bytes (Worldpay, Global Payments,
Worldline, Authorize.Net): a multipart/form-data body (the Django test client's default,
and some proxies' or gateways' choice) carries the same fields. Not for PayPal, whose
postback needs the exact urlencoded bytes it sent.
"""

from io import BytesIO
from urllib.parse import urlencode

from django.core.exceptions import SuspiciousOperation
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.http import parse_header_parameters

from .exceptions import MalformedNotification
from .models import NotificationLog

MULTIPART = "multipart/form-data"


def is_multipart(content_type: str) -> bool:
    try:
        media_type, _ = parse_header_parameters(content_type)
    except ValueError:  # an RFC 2231 parameter in an unknown charset
        return False
    return media_type == MULTIPART


def form_body(log: NotificationLog) -> bytes:
    """The stored body as application/x-www-form-urlencoded bytes.

    A multipart body is read by Django's own parser (its limits on fields and size
    apply; the stored body is already within BILLING_MAX_NOTIFICATION_BYTES) and written
    back as form pairs byte for byte, so each protocol's charset rules apply unchanged.
    Files are dropped: no gateway sends one. Any other body is returned as stored.
    """
    body = bytes(log.body)
    if not is_multipart(log.content_type):
        return body
    # The media type in lower case, which is how Django's parser expects it.
    _, sep, params = log.content_type.partition(";")
    meta = {"CONTENT_TYPE": MULTIPART + sep + params, "CONTENT_LENGTH": str(len(body))}
    try:
        # ISO-8859-1 maps every byte to one character and back: nothing lost or replaced.
        parser = MultiPartParser(meta, BytesIO(body), [], encoding="iso-8859-1")
        fields, _files = parser.parse()
    except (MultiPartParserError, SuspiciousOperation, ValueError) as exc:
        raise MalformedNotification(f"multipart/form-data body: {exc}") from exc
    pairs = [
        (name.encode("iso-8859-1"), value.encode("iso-8859-1"))
        for name, values in fields.lists()
        for value in values
    ]
    return urlencode(pairs).encode("ascii")
