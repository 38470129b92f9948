"""What `masthead health` and /-/health report: failed tasks, e-mail that cannot be sent."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, JsonResponse
from django.utils import timezone

from masthead.core.models import OutboxEmail, OutboxStatus, TaskFailure

STUCK_AFTER = timedelta(minutes=30)


def problems() -> list[str]:
    found: list[str] = []
    failures = TaskFailure.objects.filter(resolved_at__isnull=True)
    if failures.exists():
        latest = failures.order_by("-failed_at").first()
        assert latest is not None
        found.append(
            f"{failures.count()} failed task(s) unresolved; latest {latest.task_path}: "
            f"{latest.error[:200]} (Admin > Core > Task failures)"
        )
    failed_mail = OutboxEmail.objects.filter(status=OutboxStatus.FAILED).count()
    if failed_mail:
        found.append(f"{failed_mail} e-mail(s) could not be delivered (Admin > Core > Outbox)")
    stuck = OutboxEmail.objects.filter(
        status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING],
        created_at__lt=timezone.now() - STUCK_AFTER,
    ).count()
    if stuck:
        found.append(f"{stuck} e-mail(s) waiting over 30 minutes: is a worker running?")
    return found


def view(request: HttpRequest) -> JsonResponse:
    """Health for a load balancer or monitor: 200 {"ok": true}, or 503 with how many problems
    (the details, which name tasks and errors, are for `masthead health` and the admin)."""
    found = problems()
    response = JsonResponse({"ok": not found, "problems": len(found)}, status=503 if found else 200)
    response["Cache-Control"] = "no-store"
    return response
