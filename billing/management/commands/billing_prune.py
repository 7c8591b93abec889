"""Remove old return rows and payer data (see billing.retention)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from billing import conf
from billing.retention import prune


class Command(BaseCommand):
    help = (
        "Delete return rows and scrub payer data of settled notifications older than N days "
        "(--days, default BILLING_RETENTION_DAYS). Unsettled payments' rows are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        days = days if days is not None else conf.retention_days()
        if days is None:
            raise CommandError("give --days or set BILLING_RETENTION_DAYS")
        if days < 1:
            raise CommandError("--days must be at least 1")
        result = prune(timezone.now(), days)
        self.stdout.write(
            f"{result.returns_deleted} return row(s) deleted, "
            f"{result.notifications_scrubbed} notification(s) scrubbed"
        )
