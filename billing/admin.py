"""Admin for payments and the notification log, with re-verify and re-process actions."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import NotificationLog, Outcome, Payment, PaymentEvent, Verdict
from .pipeline import process
from .recovery import unfinished_counts


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    extra = 0
    can_delete = False
    readonly_fields = ("event_key", "from_status", "to_status", "notification", "created_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("reference", "integration", "amount", "currency", "status", "test", "paid_at")
    list_filter = ("status", "integration", "test", "currency")
    search_fields = ("reference", "transaction_id", "receiver")
    readonly_fields = ("created_at", "updated_at", "paid_at", "transaction_id", "review_reason")
    inlines = [PaymentEventInline]


@admin.register(NotificationLog)
class NotificationLogAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "received_at",
        "integration",
        "kind",
        "verification",
        "outcome",
        "reference",
        "transaction_id",
        "remote_addr",
    )
    list_filter = ("outcome", "verification", "integration", "kind")
    search_fields = ("reference", "transaction_id", "error")
    readonly_fields = [f.name for f in NotificationLog._meta.fields] + ["body_text"]
    exclude = ("body",)
    actions = ["reprocess", "reverify"]

    @admin.display(description="body (as received)")
    def body_text(self, obj: NotificationLog) -> str:
        return bytes(obj.body).decode("latin-1")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Say what waits longer than it should, and what runs it, on the log's first page."""
        counts = unfinished_counts(timezone.now())
        if counts["overdue"]:
            self.message_user(
                request,
                f"{counts['overdue']} notification(s) are overdue: no worker has finished them. "
                "Check that your task workers run, or run `manage.py billing_process --stale`.",
                messages.WARNING,
            )
        if counts["error"]:
            self.message_user(
                request,
                f"{counts['error']} notification(s) ended in error: filter by outcome, fix the "
                "cause, then re-process them (the action below is safe to repeat).",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def _run(self, request: HttpRequest, logs: QuerySet[NotificationLog]) -> None:
        outcomes = [process(log.pk) for log in logs.filter(kind__in=("notify", "pdt"))]
        self.message_user(
            request,
            f"processed {len(outcomes)}: "
            + ", ".join(f"{o} x{outcomes.count(o)}" for o in sorted(set(outcomes))),
            messages.INFO,
        )

    @admin.action(description="Re-process from the stored request (idempotent)")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[NotificationLog]) -> None:
        self._run(request, queryset)

    @admin.action(description="Re-verify notifications whose verification is unknown")
    def reverify(self, request: HttpRequest, queryset: QuerySet[NotificationLog]) -> None:
        self._run(
            request,
            queryset.filter(verification__in=(Verdict.UNKNOWN, Verdict.PENDING)).exclude(
                outcome=Outcome.APPLIED
            ),
        )
