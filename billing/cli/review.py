"""``billing review``: the review desk for shops without the admin (see billing.review).

The parser is built before Django is set up; the models are imported when it runs.
"""

import argparse
import getpass

from ..exceptions import BillingError
from ..money import format_amount
from .output import Cell, Printer


def add_parser(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
    common: argparse.ArgumentParser,
) -> None:
    review = commands.add_parser(
        "review", parents=[common], help="list or resolve payments held for review"
    )
    actions = review.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", parents=[common], help="payments held for review, with why")
    for name, help_text in (
        ("accept", "accept a held payment as paid"),
        ("refuse", "refuse a held payment (mark it failed)"),
        ("note", "add a note to a payment's history"),
    ):
        action = actions.add_parser(name, parents=[common], help=help_text)
        action.add_argument("integration", help="integration slug, e.g. pay_pal")
        action.add_argument("reference", help="the shop's order reference")
        action.add_argument("--note", default="", help="why (required for note)")
        action.add_argument("--by", default="", help="who decides (default: your login name)")


def run(args: argparse.Namespace, printer: Printer) -> int:
    from .. import review
    from ..models import Payment

    if args.action == "list":
        return _list(printer)

    payment = Payment.objects.filter(integration=args.integration, reference=args.reference).first()
    if payment is None:
        printer.mark("bad", f"no {args.integration} payment with reference {args.reference!r}")
        return 1
    decide = {"accept": review.accept, "refuse": review.refuse, "note": review.add_note}
    try:
        decide[args.action](payment, by=args.by or getpass.getuser(), note=args.note)
    except BillingError as exc:
        printer.mark("bad", str(exc))
        return 1
    printer.mark("ok", f"{payment.integration} {payment.reference}: {payment.status}")
    return 0


def _list(printer: Printer) -> int:
    from ..models import Payment, PaymentStatus

    held = Payment.objects.filter(status=PaymentStatus.REVIEW).order_by("created_at")
    rows: list[list[Cell]] = [
        [
            p.integration,
            p.reference,
            f"{format_amount(p.amount, p.currency)} {p.currency}",
            (p.review_reason, "warn"),
        ]
        for p in held
    ]
    if not rows:
        printer.mark("ok", "no payment is held for review")
        return 0
    printer.table(["integration", "reference", "asked", "why it is held"], rows)
    return 0
