"""Commands that look at the shop's own project: list, check, replay."""

import argparse

from django.core import checks

from .. import conf
from ..exceptions import BillingError
from ..registry import built_in_slugs, integration_class
from .output import Cell, Printer


def _known_slugs() -> list[str]:
    """Built-in integrations plus whatever the settings name (shops may add their own)."""
    return sorted(set(built_in_slugs()) | set(conf.merchant_settings()))


def list_integrations(args: argparse.Namespace, printer: Printer) -> int:
    from ..sandbox.gateways import stand_ins

    sandbox = conf.sandbox_enabled()
    rows: list[list[Cell]] = []
    problems: list[tuple[str, str]] = []
    for slug in _known_slugs():
        stand_in = "yes" if slug in stand_ins() else "-"
        try:
            integration = integration_class(slug)()
        except BillingError as exc:
            configured = slug in conf.merchant_settings()
            state: Cell = ("incomplete", "bad") if configured else ("not configured", "dim")
            if configured:
                problems.append((slug, str(exc)))
            rows.append([slug, state, "-", stand_in, "-"])
            continue
        # The sandbox stands in only for an integration in test mode that it has a
        # stand-in for; a live one always talks to the real gateway.
        if sandbox and integration.test_mode and slug in stand_ins():
            mode: Cell = ("sandbox", "info")
        else:
            mode = ("test", "warn") if integration.test_mode else ("live", "ok")
        try:
            url = integration.service_url
        except Exception as exc:  # e.g. the sandbox has no stand-in for it yet
            url = f"({exc})"
        rows.append([slug, ("configured", "ok"), mode, stand_in, url])
    printer.table(["integration", "settings", "mode", "stand-in", "customer goes to"], rows)
    printer.line("  mode: sandbox = the local stand-in is in use; test/live = the gateway's own")
    for slug, message in problems:
        printer.mark("bad", f"{slug}: {message}")
    from ..checks import unreachable_by_gateways

    site = conf.site_url()
    real = [r for r in rows if r[1] == ("configured", "ok") and r[2] != ("sandbox", "info")]
    if site and unreachable_by_gateways(site) and real:
        printer.mark(
            "warn",
            f"BILLING_SITE_URL {site} is {unreachable_by_gateways(site)}: a real gateway "
            "cannot send notifications there",
        )
    if sandbox:
        printer.mark(
            "info",
            "BILLING_SANDBOX is on: integrations in test mode use the local stand-ins "
            "(served only with DEBUG)",
        )
    return 1 if problems else 0


def check(args: argparse.Namespace, printer: Printer) -> int:
    messages = checks.run_checks(tags=["billing"])
    for message in messages:
        style = "bad" if message.is_serious() else "warn"
        printer.mark(style, f"{message.id}: {message.msg}")
        if message.hint:
            printer.field("hint", str(message.hint))
    serious = [m for m in messages if m.is_serious()]
    if not messages:
        printer.mark("ok", "billing settings pass every check")
    elif serious:
        printer.line(printer.paint(f"{len(serious)} error(s)", "bad"))
    return 1 if serious else 0


def replay(args: argparse.Namespace, printer: Printer) -> int:
    """Run stored notifications through the pipeline again; safe, never applies twice."""
    from ..models import NotificationLog, Outcome
    from ..pipeline import process

    good = {Outcome.APPLIED, Outcome.DUPLICATE, Outcome.STALE, Outcome.IGNORED}
    status = 0
    for log_id in args.ids:
        log = NotificationLog.objects.filter(pk=log_id).first()
        if log is None:
            printer.mark("bad", f"#{log_id}: no such notification")
            status = 1
            continue
        if log.kind == "return":  # a customer's visit, not a notification
            printer.mark("info", f"#{log_id} is a return visit: nothing to re-process")
            continue
        before = log.outcome
        outcome = process(log_id)
        log.refresh_from_db()
        rerun = log.outcome == before and before not in (Outcome.RECEIVED, Outcome.RETRY)
        style = (
            "ok"
            if outcome in good
            else ("warn" if outcome in (Outcome.HELD, Outcome.RETRY) else "bad")
        )
        detail = f" ({log.error})" if log.error and not rerun else ""
        if rerun:
            detail = f"; a re-run: the log keeps {before}"
        printer.mark(
            style, f"#{log_id} {log.integration} {log.kind}: {before} -> {outcome}{detail}"
        )
        if style == "bad":
            status = 1
    return status
