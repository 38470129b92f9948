"""Staff see failed background tasks and the e-mail outbox, and can retry them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from masthead.core import mail, tasks
from masthead.core.models import OutboxEmail, OutboxStatus, TaskFailure


@admin.register(TaskFailure)
class TaskFailureAdmin(admin.ModelAdmin):
    list_display = ("task_path", "args", "attempts", "error", "failed_at", "resolved_at")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter), "task_path")
    readonly_fields = [f.name for f in TaskFailure._meta.fields]
    actions = ["retry", "mark_resolved"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Retry the selected tasks now")
    def retry(self, request: HttpRequest, queryset: QuerySet[TaskFailure]) -> None:
        user = getattr(request.user, "email", "") or str(request.user)
        for failure in queryset.filter(resolved_at__isnull=True):
            tasks.retry_failure(failure, by=user)
        messages.success(request, "The selected tasks were enqueued again.")

    @admin.action(description="Mark resolved (no retry)")
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[TaskFailure]) -> None:
        queryset.filter(resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolution=f"resolved by {request.user}"[:200]
        )


@admin.register(OutboxEmail)
class OutboxEmailAdmin(admin.ModelAdmin):
    list_display = ("subject", "kind", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("subject",)
    readonly_fields = [f.name for f in OutboxEmail._meta.fields]
    actions = ["resend"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Send the selected failed e-mails again")
    def resend(self, request: HttpRequest, queryset: QuerySet[OutboxEmail]) -> None:
        for row in queryset.filter(status=OutboxStatus.FAILED):
            mail.resend(row)
        messages.success(request, "The selected failed e-mails were queued again.")
