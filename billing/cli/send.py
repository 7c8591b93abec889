"""``billing send``: a gateway's notification, built by the sandbox's stand-in, on the wire."""

import argparse
import dataclasses
import logging
import secrets
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urljoin

import httpx

from ..exceptions import BillingError
from ..money import to_minor_units
from ..protocols import global_payments
from ..registry import did_you_mean
from ..sandbox.delivery import post
from ..sandbox.gateways import stand_ins
from ..sandbox.gateways.base import FormRejected, Message, StandIn, Variation
from .output import Printer


def _decimal(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise SystemExit(f"billing send: {option} {text!r} is not an amount") from None
    if not value.is_finite():
        raise SystemExit(f"billing send: {option} {text!r} is not an amount")
    return value


# The header that lets this command find the shop's own record of each delivery.
TRACE_HEADER = "X-Billing-Send"
FINAL_WAIT_SECONDS = 5.0


def _global_payments_order_id(reference: str, amount: Decimal, currency: str) -> str:
    """The shop sends ORDER_ID as <reference>_<AMOUNT><CURRENCY>_<nonce>, which its
    response check relies on; a bare reference would be rejected, so build it."""
    if global_payments.parse_order_id(reference) is not None:
        return reference
    minor = to_minor_units(amount, currency.upper())
    return global_payments.make_order_id(reference, minor, currency.upper(), secrets.token_hex(4))


# The reference as the shop's own form puts it on the wire, where that differs.
WIRE_REFERENCES: dict[str, Callable[[str, Decimal, str], str]] = {
    "global_payments": _global_payments_order_id,
}


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
        hint = did_you_mean(args.slug, list(available))
        printer.mark(
            "bad",
            f"no stand-in for {args.slug!r}{hint} (the sandbox has: {', '.join(available)})",
        )
        return 2
    if args.status not in stand_in.statuses:
        printer.mark("bad", f"--status must be one of {', '.join(stand_in.statuses)}")
        return 2
    amount = _decimal(args.amount, "--amount")
    charged = amount + (_decimal(args.shift, "--shift") if args.shift else Decimal(0))
    receiver = _receiver(stand_in, args.receiver)
    wire = WIRE_REFERENCES.get(stand_in.slug)
    if wire is not None:
        try:
            # The wire reference carries the amount (Global Payments): an authentic report
            # of another amount answers a form made for that amount.
            reference = wire(args.reference, charged, args.currency)
        except BillingError as exc:
            printer.mark("bad", f"--reference {args.reference!r}: {exc}")
            return 2
        if reference != args.reference:
            printer.field("reference", f"{reference} (the shop's wire form of {args.reference})")
            args.reference = reference
    # Only postback gateways need the sandbox to vouch for a body; the others are signed
    # with the shop's secrets, which this command reads from the project's settings.
    issued_by_sandbox = bool(args.sandbox) and stand_in.verified_by == "postback"
    try:
        if issued_by_sandbox:
            message = _issue(args, stand_in, receiver, charged)
        else:
            form = stand_in.form_for(
                reference=args.reference, amount=amount, currency=args.currency, receiver=receiver
            )
            vary = Variation(amount=charged, transaction_id=args.transaction_id)
            message = stand_in.notification(form, status=args.status, vary=vary)
    except FormRejected as exc:
        printer.mark("bad", f"{exc.title}: {' '.join(exc.problems)}")
        return 2
    untampered = message
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
        if issued_by_sandbox:
            printer.field("authentic", f"issued by the sandbox at {args.sandbox}", "ok")
        else:
            printer.field(
                "authentic",
                "no: made here, so a postback answers INVALID (use --sandbox URL)",
                "warn",
            )
    if args.tamper:
        changed = _changed_fields(untampered.body, message.body)
        printer.field("tampered", f"{changed} after issuing: the shop must reject it", "warn")
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
    traces = []
    try:
        for n in range(1, times + 1):
            trace = secrets.token_hex(8)
            traces.append(trace)
            traced = dataclasses.replace(message, headers={**message.headers, TRACE_HEADER: trace})
            attempt = post(args.to, traced, timeout=args.timeout)
            attempts.append(attempt)
            printer.field(f"delivery {n}", attempt.summary(), "ok" if attempt.ok else "bad")
    finally:
        logger.setLevel(level)
    delivered = sum(attempt.ok for attempt in attempts)
    answered = [trace for trace, a in zip(traces, attempts, strict=True) if a.status_code]
    _report_verdicts(printer, stand_in.slug, answered)
    if delivered == times:
        printer.mark("ok", f"delivered {delivered} of {times}")
        return 0
    printer.mark("bad", f"delivered {delivered} of {times}")
    return 1


def _changed_fields(before: bytes, after: bytes) -> str:
    """What tampering changed, e.g. ``mc_gross 10.00 -> 0.01``."""
    old = dict(parse_qsl(before.decode("latin-1"), keep_blank_values=True))
    new = dict(parse_qsl(after.decode("latin-1"), keep_blank_values=True))
    changes = [f"{k} {old.get(k)} -> {v}" for k, v in new.items() if old.get(k) != v]
    return ", ".join(changes) or "the body changed"


def _report_verdicts(printer: Printer, slug: str, traces: list[str]) -> None:
    """What the shop decided, read from its notification log (with the shop's project)."""
    from django.conf import settings

    if not traces:
        return
    if not settings.configured:
        printer.field(
            "verdict", "unknown: give the shop's --settings to read its notification log", "warn"
        )
        return
    from ..models import NotificationLog, Outcome

    deadline = time.monotonic() + FINAL_WAIT_SECONDS
    for n, trace in enumerate(traces, start=1):
        lookup: dict[str, Any] = {"integration": slug, f"headers__{TRACE_HEADER}": trace}
        while True:
            log = NotificationLog.objects.filter(**lookup).first()
            settled = log is not None and log.outcome != Outcome.RECEIVED
            if settled or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if log is None:
            printer.field(
                f"verdict {n}",
                "not in this project's notification log (another shop, or not stored)",
                "warn",
            )
            continue
        style = {
            Outcome.APPLIED: "ok",
            Outcome.DUPLICATE: "ok",
            Outcome.HELD: "warn",
            Outcome.RETRY: "warn",
            Outcome.RECEIVED: "warn",
        }.get(Outcome(log.outcome), "bad")
        reason = f": {log.error}" if log.error else ""
        printer.field(
            f"verdict {n}",
            f"log #{log.pk}, verification {log.verification}, {log.outcome}{reason}",
            style,
        )
