"""E-mail goes through the outbox: written with the state change, sent by a task, retried
against a failing SMTP server until delivered, and never lost when the queue is down."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core import mail as django_mail

from masthead.core import mail
from masthead.core.jobs import run_due_jobs
from masthead.core.models import OutboxEmail, OutboxStatus
from masthead.core.worker import WorkerLoop
from masthead.subscriptions import actions
from tests import factories
from tests.core.test_queue import DATABASE, RQ
from tests.subscriptions.conftest import NOW, card, make_catalog


class FlakySMTP:
    """Answers 451 (try again later) to the first `failures` messages, then accepts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self.delivered: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.attempts <= self.failures:
            return "451 4.3.0 Mailbox busy, try again later"
        self.delivered.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(settings: Any):
    """A local SMTP server on a free 127.0.0.1 port that fails the first two messages."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = FlakySMTP(failures=2)
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    yield handler
    controller.stop()


@pytest.mark.django_db(transaction=True)
def test_a_failed_smtp_send_is_retried_and_delivered_once(settings, smtp):
    settings.TASKS = DATABASE
    settings.TASK_RETRY_BASE_SECONDS = 0.2
    catalog = make_catalog()
    reader = factories.user("maria@example.com")
    actions.subscribe(reader, offer=catalog.one_month, card=card(reader), now=NOW)
    rows = list(OutboxEmail.objects.order_by("pk"))
    assert [(r.kind, r.status) for r in rows] == [
        ("subscriptions.welcome", OutboxStatus.PENDING),
        ("subscriptions.receipt", OutboxStatus.PENDING),
    ]

    assert WorkerLoop(batch=True, scheduler=False, poll=0.05, max_seconds=30).run() == 0

    assert smtp.attempts == 4  # both refused once, both delivered on their retry
    assert sorted(e.rcpt_tos[0] for e in smtp.delivered) == ["maria@example.com"] * 2
    subjects = sorted(
        line
        for e in smtp.delivered
        for line in e.content.decode().splitlines()
        if line.startswith("Subject:")
    )
    assert subjects[0] == "Subject: Welcome to The Meridian Review"
    assert subjects[1].startswith("Subject: Your receipt from The Meridian Review")
    for row in OutboxEmail.objects.all():
        assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 2, "")


@pytest.mark.django_db(transaction=True)
def test_an_e_mail_whose_state_change_rolls_back_is_never_sent():
    from django.db import transaction

    catalog = make_catalog()
    reader = factories.user("ana@example.com")
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.subscribe(reader, offer=catalog.one_month, card=card(reader), now=NOW)
        raise RuntimeError("the request failed after the action")
    assert OutboxEmail.objects.count() == 0
    assert django_mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_an_e_mail_queued_while_the_queue_is_down_is_delivered_by_the_sweep(settings, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on: the Redis queue is down
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    settings.RQ_QUEUES = {"default": {"URL": f"redis://127.0.0.1:{dead}/0"}}
    settings.TASKS = RQ
    catalog = make_catalog()
    reader = factories.user("lin@example.com")
    actions.start_trial(reader, catalog.trial, now=NOW)
    (row,) = OutboxEmail.objects.all()
    assert row.status == OutboxStatus.PENDING and django_mail.outbox == []

    monkeypatch.setattr(mail, "SWEEP_AFTER", mail.SWEEP_AFTER * 0)
    counts = run_due_jobs(NOW)

    assert counts["core.outbox"] == 1
    row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert [m.to for m in django_mail.outbox] == [["lin@example.com"]]
    assert run_due_jobs(NOW)["core.outbox"] == 0  # sent once only


@pytest.mark.django_db(transaction=True)
def test_an_e_mail_that_keeps_failing_is_marked_failed_for_staff(settings, monkeypatch):
    from masthead.core import health

    settings.TASKS = DATABASE
    settings.TASK_RETRY_BASE_SECONDS = 0.01
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # discard port: refused
    monkeypatch.setattr(mail, "DELIVERY_ATTEMPTS", 2)
    mail.queue_email(subject="Hello", body="Body", to=["x@example.com"], kind="test")
    WorkerLoop(batch=True, scheduler=False, poll=0.05, max_seconds=60).run()
    (row,) = OutboxEmail.objects.all()
    assert row.status == OutboxStatus.FAILED
    assert row.last_error.startswith("ConnectionRefusedError")
    assert any("could not be delivered" in p for p in health.problems())
