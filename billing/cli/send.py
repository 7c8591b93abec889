"""``billing send``: a gateway's notification, built by the sandbox's stand-in, on the wire."""

import argparse
import logging
from decimal import Decimal, InvalidOperation
from urllib.parse import urljoin

import httpx

from ..sandbox.delivery import post
from ..sandbox.gateways import stand_ins
from ..sandbox.gateways.base import FormRejected, Message, StandIn
from .output import Printer


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SystemExit(f"billing send: {option} {text!r} is not an amount") from None
    if not value.is_finite():
        raise SystemExit(f"billing send: {option} {text!r} is not an amount")
    return value


def _receiver(stand_in: StandIn, given: str | None) -> str:
    if given:
        return given
    from django.conf import settings

    if settings.configured:
        from .. import conf

        configured = conf.integration_settings(stand_in.slug) or {}
        if configured.get(stand_in.receiver_setting):
            return str(configured[stand_in.receiver_setting])
    raise SystemExit(
        f"billing send: --receiver is needed (or a project whose MERCHANT_SETTINGS"
        f"[{stand_in.slug!r}] has {stand_in.receiver_setting})"
    )


def _issue(args: argparse.Namespace, stand_in: StandIn, receiver: str, charged: Decimal) -> Message:
    """Ask a running sandbox to issue (and remember) the notification."""
    url = urljoin(args.sandbox.rstrip("/") + "/", f"{stand_in.slug}/issue/")
    data = {
        "reference": args.reference,
        "amount": args.amount,
        "currency": args.currency,
        "receiver": receiver,
        "status": args.status,
        "charged": str(charged),
        "transaction_id": args.transaction_id or "",
        "target": args.to,
    }
    try:
        reply = httpx.post(url, data=data, timeout=args.timeout)
    except httpx.HTTPError as exc:
        raise SystemExit(f"billing send: the sandbox at {url} cannot be reached: {exc}") from None
    if reply.status_code != 200:
        raise SystemExit(
            f"billing send: the sandbox at {url} answered HTTP {reply.status_code}: "
            f"{reply.text.strip()[:300]}"
        )
    return Message(
        body=reply.content,
        transaction_id=reply.headers.get("X-Sandbox-Transaction", ""),
        status=reply.headers.get("X-Sandbox-Status", args.status),
        content_type=reply.headers.get("Content-Type", "application/x-www-form-urlencoded"),
        method=reply.headers.get("X-Sandbox-Method", "POST"),
    )


def send(args: argparse.Namespace, printer: Printer) -> int:
    available = stand_ins()
    stand_in = available.get(args.slug)
    if stand_in is None:
        printer.mark(
            "bad", f"no stand-in for {args.slug!r}; the sandbox has: {', '.join(available)}"
        )
        return 2
    if args.status not in stand_in.statuses:
        printer.mark("bad", f"--status must be one of {', '.join(stand_in.statuses)}")
        return 2
    amount = _decimal(args.amount, "--amount")
    charged = amount + (_decimal(args.shift, "--shift") if args.shift else Decimal(0))
    receiver = _receiver(stand_in, args.receiver)
    try:
        if args.sandbox:
            message = _issue(args, stand_in, receiver, charged)
        else:
            form = stand_in.form_for(
                reference=args.reference, amount=amount, currency=args.currency, receiver=receiver
            )
            message = stand_in.notification(
                form, status=args.status, amount=charged, transaction_id=args.transaction_id
            )
    except FormRejected as exc:
        printer.mark("bad", f"{exc.title}: {' '.join(exc.problems)}")
        return 2
    if args.tamper:
        message = stand_in.tamper(message)

    printer.line(printer.paint(f"{stand_in.display_name} notification -> {args.to}", "bold"))
    printer.field(
        "says",
        f"{message.status} {charged} {args.currency.upper()} for {args.reference}, "
        f"transaction {message.transaction_id}",
    )
    if args.shift:
        printer.field(
            "amount", f"shifted by {args.shift}: the shop must hold it for review", "warn"
        )
    if stand_in.verified_by == "postback":
        if args.sandbox:
            printer.field("authentic", f"issued by the sandbox at {args.sandbox}", "ok")
        else:
            printer.field(
                "authentic",
                "no: made here, so a postback answers INVALID (use --sandbox URL)",
                "warn",
            )
    if args.tamper:
        printer.field("tampered", "amount changed after issuing: the shop must reject it", "warn")
    if args.dry_run:
        printer.field("body", message.body.decode("ascii"))
        printer.mark("info", "dry run: nothing sent")
        return 0

    # This command reports each delivery itself; the sandbox logger would say it twice.
    logger = logging.getLogger("billing.sandbox")
    level = logger.level
    logger.setLevel(logging.WARNING)
    times = 2 if args.twice else 1
    attempts = []
    try:
        for n in range(1, times + 1):
            attempt = post(args.to, message, timeout=args.timeout)
            attempts.append(attempt)
            printer.field(f"delivery {n}", attempt.summary(), "ok" if attempt.ok else "bad")
    finally:
        logger.setLevel(level)
    delivered = sum(attempt.ok for attempt in attempts)
    if delivered == times:
        printer.mark(
            "ok", f"delivered {delivered} of {times}; the shop's log shows what it made of it"
        )
        return 0
    printer.mark("bad", f"delivered {delivered} of {times}")
    return 1
