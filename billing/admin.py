"""Admin: payments and the notification log, read-only; a review desk for held payments.

Nothing here edits a payment's fields: a payment changes only through the ledger, by a
gateway's verified report or by a person's review decision (billing.review).
"""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from . import review
from .exceptions import BillingError
from .models import NotificationLog, Outcome, Payment, PaymentEvent, PaymentStatus, Verdict
from .money import format_amount
from .pipeline import process
from .recovery import unfinished_counts

REVIEW_PERMISSION = "billing.review_payment"


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentEventInline(ReadOnlyInline):
    model = PaymentEvent
    fields = (
        "created_at",
        "event_key",
        "from_status",
        "to_status",
        "actor",
        "note",
        "notification",
    )
    readonly_fields = fields


class NotificationInline(ReadOnlyInline):
    model = NotificationLog
    fields = ("received_at", "kind", "verification", "outcome", "error", "transaction_id")
    readonly_fields = fields
    show_change_link = True
    verbose_name_plural = "notifications behind this payment"


@admin.register(Payment)
class PaymentAdmin(ReadOnly):
    list_display = ("reference", "integration", "money", "status", "test", "paid_at")
    list_filter = ("status", "integration", "test", "currency")
    search_fields = ("reference", "transaction_id", "receiver")
    fields = (
        "integration",
        "reference",
        "money",
        "receiver",
        "test",
        "status",
        "review_desk",
        "transaction_id",
        "created_at",
        "paid_at",
    )
    readonly_fields = fields
    inlines = [NotificationInline, PaymentEventInline]

    @admin.display(description="amount", ordering="amount")
    def money(self, payment: Payment) -> str:
        return f"{format_amount(payment.amount, payment.currency)} {payment.currency}"

    @admin.display(description="review")
    def review_desk(self, payment: Payment) -> str:
        if payment.status != PaymentStatus.REVIEW:
            return payment.review_reason or "-"
        url = reverse("admin:billing_payment_review", args=[payment.pk])
        return format_html(
            '<strong>Held:</strong> {} <a class="button" href="{}">Resolve…</a>',
            payment.review_reason,
            url,
        )

    def get_urls(self) -> list[URLPattern]:
        review_view = self.admin_site.admin_view(self.review_view)
        return [
            path("<int:pk>/review/", review_view, name="billing_payment_review"),
            *super().get_urls(),
        ]

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Accept, refuse or annotate a held payment (POST, CSRF-checked by the admin)."""
        payment = get_object_or_404(Payment, pk=pk)
        if not self.has_view_permission(request, payment):
            raise PermissionDenied
        allowed = request.user.has_perm(REVIEW_PERMISSION)
        if request.method == "POST":
            if not allowed:
                raise PermissionDenied
            return self._decide(request, payment)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Review payment {payment.reference}",
            "payment": payment,
            "money": self.money(payment),
            "held": review.held_notification(payment),
            "notifications": payment.notifications.order_by("pk"),
            "events": payment.events.order_by("pk"),
            "can_decide": allowed and payment.status == PaymentStatus.REVIEW,
            "can_note": allowed,
        }
        return TemplateResponse(request, "admin/billing/payment/review.html", context)

    def _decide(self, request: HttpRequest, payment: Payment) -> HttpResponse:
        decision = request.POST.get("decision", "")
        note = request.POST.get("note", "")
        by = request.user.get_username()
        actions = {"accept": review.accept, "refuse": review.refuse, "note": review.add_note}
        try:
            if decision not in actions:
                raise BillingError(f"unknown decision {decision!r}")
            actions[decision](payment, by=by, note=note)
        except BillingError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request, f"{payment.reference}: {decision} recorded", messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:billing_payment_review", args=[payment.pk]))


@admin.register(NotificationLog)
class NotificationLogAdmin(ReadOnly):
    list_display = (
        "id",
        "received_at",
        "integration",
        "kind",
        "verification",
        "outcome",
        "order",
        "transaction_id",
        "remote_addr",
    )
    list_filter = ("outcome", "verification", "integration", "kind")
    search_fields = ("reference", "claimed_reference", "transaction_id", "error")
    readonly_fields = [f.name for f in NotificationLog._meta.fields if f.name != "body"] + [
        "body_text",
        "attempt_history",
    ]
    exclude = ("body",)
    actions = ["reprocess", "reverify"]

    @admin.display(description="order", ordering="reference")
    def order(self, obj: NotificationLog) -> str:
        if obj.reference:
            return obj.reference
        return f"{obj.claimed_reference} (unverified)" if obj.claimed_reference else "-"

    @admin.display(description="body (as received)")
    def body_text(self, obj: NotificationLog) -> str:
        return bytes(obj.body).decode("latin-1")

    @admin.display(description="later runs")
    def attempt_history(self, obj: NotificationLog) -> str:
        runs = [f"{a.number}: {a.outcome} {a.error}".strip() for a in obj.history.all()]
        return "; ".join(runs) or "-"

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(REVIEW_PERMISSION)

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

    @admin.action(
        description="Re-process from the stored request (idempotent)",
        permissions=["reprocess"],
    )
    def reprocess(self, request: HttpRequest, queryset: QuerySet[NotificationLog]) -> None:
        self._run(request, queryset)

    @admin.action(
        description="Re-verify notifications whose verification is unknown",
        permissions=["reprocess"],
    )
    def reverify(self, request: HttpRequest, queryset: QuerySet[NotificationLog]) -> None:
        self._run(
            request,
            queryset.filter(verification__in=(Verdict.UNKNOWN, Verdict.PENDING)).exclude(
                outcome=Outcome.APPLIED
            ),
        )
