"""``billing reconcile``: fetch the state of pending API checkouts (see billing.reconcile).

The parser is built before Django is set up; the models are imported when it runs.
"""

import argparse
from datetime import timedelta

from .output import Cell, Printer

HELP = """\
For pending payments of checkouts created by API (Stripe, ...) that have the gateway's
id and are older than --older-than, asks the gateway for the checkout's state and runs
the answer through the notification pipeline: stored as a fetched notification,
verified, bound to the payment, applied once. A lost webhook, or a customer who closed
the tab, still ends paid. Safe to run again and alongside webhooks.

Exit status: 0 when every due payment was asked; 1 when a gateway could not be asked
(the payment stays pending: run it again) or an answer could not be applied.
"""


def _age(text: str) -> timedelta:
    from ..reconcile import parse_age

    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
    common: argparse.ArgumentParser,
) -> None:
    reconcile = commands.add_parser(
        "reconcile",
        parents=[common],
        help="fetch the state of pending API checkouts (needs a project)",
        description=HELP,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    reconcile.add_argument(
        "--older-than",
        type=_age,
        default=timedelta(minutes=10),
        metavar="AGE",
        help="only payments made at least this long ago: 10m (default), 90s, 2h, 1d",
    )
    reconcile.add_argument(
        "--integration",
        action="append",
        default=[],
        metavar="SLUG",
        help="only this integration (repeatable; default: every API integration)",
    )


_STYLE = {"applied": "ok", "held": "warn", "retry": "warn"}


def run(args: argparse.Namespace, printer: Printer) -> int:
    from ..reconcile import SETTLED, reconcile

    results = reconcile(args.older_than, integrations=args.integration)
    if not results:
        printer.mark("ok", "no pending API checkout is due for reconciliation")
        return 0
    rows: list[list[Cell]] = []
    for item in results:
        style = "bad" if item.trouble else _STYLE.get(item.result, "dim")
        if item.result in SETTLED and item.result != "applied":
            style = "dim"
        rows.append(
            [
                item.integration,
                item.reference,
                (item.result, style),
                item.status,
                item.detail[:120],
            ]
        )
    printer.table(["integration", "reference", "result", "payment", "detail"], rows)
    trouble = [item for item in results if item.trouble]
    applied = sum(item.result == "applied" for item in results)
    printer.mark("info", f"{len(results)} asked, {applied} applied")
    if trouble:
        printer.mark(
            "bad",
            f"{len(trouble)} could not be reconciled: they stay as they are; run again later",
        )
        return 1
    return 0
