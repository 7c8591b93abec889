"""Re-run notifications from their stored raw requests."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Q
from django.utils import timezone

from billing.models import NotificationLog, Outcome
from billing.pipeline import process
from billing.recovery import stale_ids


class Command(BaseCommand):
    help = "Process stored notifications: by id, those due for a retry, or never processed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("ids", nargs="*", type=int, help="notification log ids")
        parser.add_argument("--due", action="store_true", help="retries whose time has come")
        parser.add_argument("--pending", action="store_true", help="never processed")
        parser.add_argument(
            "--stale",
            action="store_true",
            help="unfinished ones nobody works on (killed workers, lost tasks, due retries)",
        )

    def handle(
        self, *args: Any, ids: list[int], due: bool, pending: bool, stale: bool, **options: Any
    ) -> None:
        query = Q(pk__in=ids)
        if stale:
            query |= Q(pk__in=stale_ids(timezone.now(), grace=timedelta(0), limit=100_000))
        if due:
            query |= Q(outcome=Outcome.RETRY, next_attempt_at__lte=timezone.now())
        if pending:
            query |= Q(outcome=Outcome.RECEIVED, kind="notify")
        logs = NotificationLog.objects.filter(query).order_by("pk").values_list("pk", flat=True)
        count = 0
        for pk in logs:
            outcome = process(pk)
            count += 1
            self.stdout.write(f"#{pk}: {outcome}")
        self.stdout.write(self.style.SUCCESS(f"{count} notification(s) processed"))
