"""Failed tasks and undeliverable e-mail are visible to staff, who can retry them; the health
endpoint and command turn non-zero while they wait."""

from __future__ import annotations

from django.core import mail as django_mail
from django.utils import timezone

from masthead.core.models import OutboxEmail, OutboxStatus, TaskFailure
from tests import factories


def failure(**fields):
    return TaskFailure.objects.create(
        task_path="tests.core.support_tasks.steady",
        args=["from-admin"],
        kwargs={},
        attempts=3,
        error="ValueError: bad data",
        failed_at=timezone.now(),
        **fields,
    )


def test_health_endpoint_is_200_when_healthy_and_503_with_a_count_otherwise(client, db):
    healthy = client.get("/-/health")
    assert (healthy.status_code, healthy.json()) == (200, {"ok": True, "problems": 0})
    assert healthy["Cache-Control"] == "no-store"
    failure()
    unhealthy = client.get("/-/health")
    # The count only: task names and errors are for staff, not for anyone who asks.
    assert (unhealthy.status_code, unhealthy.json()) == (503, {"ok": False, "problems": 1})


def test_staff_see_failed_tasks_and_retry_them(client, db, django_capture_on_commit_callbacks):
    from tests.core.support_tasks import calls

    staff = factories.user(staff=True)
    client.force_login(staff)
    open_failure, done = failure(), failure(resolved_at=timezone.now(), resolution="old")
    page = client.get("/django-admin/core/taskfailure/?resolved_at__isempty=1")
    assert page.status_code == 200
    assert b"ValueError: bad data" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/django-admin/core/taskfailure/",
            {"action": "retry", "_selected_action": [open_failure.pk, done.pk]},
        )
    assert response.status_code == 302
    open_failure.refresh_from_db()
    assert open_failure.resolution == f"retried by {staff.email}"
    assert len(calls("from-admin")) == 1  # ran again (immediate backend); the resolved one not
    assert client.get("/-/health").status_code == 200


def test_staff_mark_a_failure_resolved_without_retrying(client, db):
    client.force_login(factories.user(staff=True))
    row = failure()
    client.post(
        "/django-admin/core/taskfailure/", {"action": "mark_resolved", "_selected_action": [row.pk]}
    )
    row.refresh_from_db()
    assert row.resolved_at is not None and row.resolution.startswith("resolved by")


def test_staff_resend_a_failed_e_mail(client, db, django_capture_on_commit_callbacks):
    client.force_login(factories.user(staff=True))
    now = timezone.now()
    row = OutboxEmail.objects.create(
        subject="Your receipt",
        body="Thanks",
        to=["ana@example.com"],
        status=OutboxStatus.FAILED,
        attempts=8,
        last_error="SMTPServerDisconnected",
        created_at=now,
        next_attempt_at=now,
    )
    assert client.get("/-/health").status_code == 503
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/django-admin/core/outboxemail/", {"action": "resend", "_selected_action": [row.pk]}
        )
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert [m.subject for m in django_mail.outbox] == ["Your receipt"]
    assert client.get("/-/health").status_code == 200


def test_run_jobs_exits_non_zero_when_an_item_failed(db, monkeypatch):
    import pytest
    from django.core.management import CommandError, call_command

    from masthead.subscriptions import actions
    from tests.core.site_script import setup

    setup("run-jobs", 1)

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(actions, "advance", broken)
    with pytest.raises(CommandError, match=r"Failed: subscriptions\.lifecycle \(1\)"):
        call_command("run_jobs", "--inline")
