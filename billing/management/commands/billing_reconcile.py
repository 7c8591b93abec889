"""Fetch the state of pending API checkouts and apply it (see billing.reconcile)."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.reconcile import DEFAULT_AGE, parse_age, reconcile


def _age(text: str) -> timedelta:
    import argparse

    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class Command(BaseCommand):
    help = (
        "For pending payments of checkouts created by API (with the gateway's id), ask the "
        "gateway for the checkout's state and apply it like a notification, at most once. "
        "Exits with status 1 when a gateway could not be asked (the payment stays pending)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=_age,
            default=DEFAULT_AGE,
            metavar="AGE",
            help="only payments made at least this long ago: 10m (default), 90s, 2h, 1d",
        )
        parser.add_argument(
            "--integration",
            action="append",
            default=[],
            metavar="SLUG",
            help="only this integration (repeatable)",
        )

    def handle(
        self, *args: Any, older_than: timedelta, integration: list[str], **options: Any
    ) -> None:
        results = reconcile(older_than, integrations=integration)
        for item in results:
            line = f"{item.integration} {item.reference}: {item.result} (payment {item.status})"
            if item.detail:
                line += f": {item.detail}"
            self.stdout.write(self.style.ERROR(line) if item.trouble else line)
        trouble = sum(item.trouble for item in results)
        applied = sum(item.result == "applied" for item in results)
        summary = f"{len(results)} payment(s) asked, {applied} applied"
        if trouble:
            raise CommandError(
                f"{summary}; {trouble} could not be reconciled (they stay as they are)",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(summary))
