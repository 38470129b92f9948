"""The ledger and webhook receipts, read-only for staff; failed webhooks can be retried."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from masthead.billing.models import LedgerEntry, Payment, WebhookEvent, WebhookStatus
from masthead.billing.webhooks import requeue


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records staff list and read, never add, change or delete (the ledger, receipts, the
    subscriptions' evidence rows)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["receipt_number", "at", "user", "kind", "amount_text", "description", "actor"]
    list_filter = ["kind", "provider"]
    search_fields = ["user__email", "provider_ref"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """Provider money movements in two phases; pending ones are settled by the reconcile
    job (docs/billing.md), never by hand."""

    list_display = ["idempotency_key", "at", "user", "kind", "amount_text", "status", "error"]
    list_filter = ["status", "kind", "purpose", "provider"]
    search_fields = ["idempotency_key", "provider_ref", "user__email"]


@admin.action(description="Queue the selected failed events again")
def retry(modeladmin: Any, request: HttpRequest, queryset: Any) -> None:
    failed = [event for event in queryset.filter(status=WebhookStatus.FAILED) if requeue(event)]
    done = WebhookEvent.objects.filter(
        pk__in=[e.pk for e in failed], status__in=[WebhookStatus.APPLIED, WebhookStatus.IGNORED]
    ).count()  # with a worker's queue, the rest are applied shortly
    messages.info(request, f"Retried {len(failed)}; {done} applied or ignored.")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "event_type", "created", "status", "note"]
    list_filter = ["status", "event_type"]
    search_fields = ["event_id"]
    actions = [retry]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None  # the list (and its retry action), never an edit form
