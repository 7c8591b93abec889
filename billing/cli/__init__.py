"""The ``billing`` command: look at a shop's integrations and exercise its notify URL.

``list``, ``check`` and ``replay`` load the shop's Django project, so they need
``DJANGO_SETTINGS_MODULE`` (or ``--settings``), run from the project's directory.
``send`` works without a project; given one, it reads the receiver account from
``MERCHANT_SETTINGS``.
"""

import argparse
import os
import sys
from collections.abc import Sequence

from . import reconcile, review
from .output import Printer

DESCRIPTION = """\
Tools for shops using django-billing.

  list     integrations, whether they are configured, where they point
  check    run the billing system checks on your settings
  send     send a gateway notification to a notify URL, as the gateway would
  replay   re-process stored notifications (NotificationLog ids)
  review   list payments held for review, accept or refuse them, add notes
  reconcile  fetch the state of pending API checkouts (Stripe ...) and apply it

list, check, replay, review and reconcile load your Django project: set
DJANGO_SETTINGS_MODULE (or pass --settings) and run from your project's directory. send
needs no project.
"""

SEND_HELP = """\
Builds the notification the gateway would send (with the sandbox's stand-in for that
gateway) and POSTs it to --to, as the gateway's servers would.

How the shop decides it is authentic depends on the gateway:
  PayPal verifies by postback: the shop asks PayPal whether it sent exactly this body.
  A body made here is unknown to PayPal, so a shop posting back to PayPal rejects it.
  With --sandbox URL the body is issued by a running billing sandbox instead (the one
  mounted at URL, e.g. http://127.0.0.1:8000/sandbox/), and the shop's postback is
  VERIFIED when the shop posts back to that sandbox: BILLING_SANDBOX = True with
  BILLING_SANDBOX_URL pointing at it, or MERCHANT_SETTINGS[slug]["POSTBACK_URL"] set to
  its PayPal postback URL. Without --sandbox, expect the shop to reject it: useful to
  see that a forgery changes nothing.

--tamper changes the amount after the notification was issued (the shop must reject
it), --shift reports an authentic but different amount (the shop must hold it for
review), --twice sends it twice (the shop must apply it once).
Exit status: 0 when every delivery got a 2xx answer.
"""


def _settings_option(parser: argparse.ArgumentParser, default: object = None) -> None:
    parser.add_argument(
        "--settings",
        metavar="MODULE",
        default=default,
        help="Django settings module (DJANGO_SETTINGS_MODULE)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="billing", description=DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter
    )
    _settings_option(parser)
    # --settings also after the command, as with manage.py (SUPPRESS keeps one given
    # before the command when none is given after it).
    anywhere = argparse.ArgumentParser(add_help=False)
    _settings_option(anywhere, default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "list", parents=[anywhere], help="integrations and their configuration (needs a project)"
    )
    commands.add_parser(
        "check", parents=[anywhere], help="run the billing system checks (needs a project)"
    )
    replay = commands.add_parser(
        "replay", parents=[anywhere], help="re-process stored notifications (needs a project)"
    )
    replay.add_argument("ids", nargs="+", type=int, metavar="ID", help="NotificationLog id")
    review.add_parser(commands, anywhere)
    reconcile.add_parser(commands, anywhere)

    send = commands.add_parser(
        "send",
        parents=[anywhere],
        help="send a gateway notification to a notify URL",
        description=SEND_HELP,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    send.add_argument("slug", help="integration, e.g. pay_pal")
    send.add_argument("--to", required=True, metavar="URL", help="the shop's notify URL")
    send.add_argument("--reference", default="ORDER-1", help="the shop's order reference")
    send.add_argument("--amount", default="10.00", help="the order's amount (default 10.00)")
    send.add_argument("--currency", default="USD", help="ISO 4217 code (default USD)")
    send.add_argument("--receiver", help="the shop's gateway account (default: from settings)")
    send.add_argument(
        "--status", default="paid", help="paid, failed, pending or cancelled (default paid)"
    )
    send.add_argument("--transaction-id", help="the gateway's transaction id (default: random)")
    send.add_argument("--shift", metavar="DELTA", help="report amount + DELTA (e.g. -1.00)")
    send.add_argument("--tamper", action="store_true", help="alter the amount after signing")
    send.add_argument("--twice", action="store_true", help="deliver the same body twice")
    send.add_argument("--sandbox", metavar="URL", help="issue the body from this running sandbox")
    send.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    send.add_argument("--dry-run", action="store_true", help="print the body, send nothing")
    return parser


def setup_django(printer: Printer, *, required: bool) -> bool:
    """Load the shop's project; False (with a hint printed) when there is none."""
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        if required:
            printer.mark("bad", "no Django project: set DJANGO_SETTINGS_MODULE or pass --settings")
            printer.line("  e.g. DJANGO_SETTINGS_MODULE=mysite.settings billing list")
        return False
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as manage.py would find the project
    import django

    module = os.environ["DJANGO_SETTINGS_MODULE"]
    try:
        django.setup()
    except ImportError as exc:
        printer.mark("bad", f"cannot load the settings module {module!r}: {exc}")
        printer.line("  run from your project's directory, or check --settings")
        raise SystemExit(2) from None
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    printer = Printer()
    if args.settings:
        os.environ["DJANGO_SETTINGS_MODULE"] = args.settings
    if args.command == "send":
        from .send import send

        setup_django(printer, required=False)
        return send(args, printer)
    if not setup_django(printer, required=True):
        return 2
    from . import project

    command = {
        "list": project.list_integrations,
        "check": project.check,
        "replay": project.replay,
        "review": review.run,
        "reconcile": reconcile.run,
    }
    return command[args.command](args, printer)
