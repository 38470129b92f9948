"""The operator's view: each part's state, exact; the permission; the audit's summary kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from masthead.audit.management.commands.paywall_audit import record_run
from masthead.audit.models import AuditRun
from masthead.billing.models import WebhookEvent, WebhookStatus
from masthead.core import events, outage
from masthead.core.models import TaskFailure
from masthead.insights import operations
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/admin/insights/operations/"


@pytest.fixture(autouse=True)
def embedded(settings):
    settings.INSIGHTS_REDIS_URL = ""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    outage.reset()
    yield
    outage.reset()


def staff(*, permitted: bool):
    user = factories.user()
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    if permitted:
        user.user_permissions.add(Permission.objects.get(codename="view_insights"))
    return user


def by_title() -> dict[str, operations.Part]:
    return {p.title: p for p in operations.parts()}


def test_a_healthy_site_with_no_audit_yet():
    parts = by_title()
    assert parts["Meter store"].ok
    assert parts["Insights event buffer"].summary == "0 event(s) waiting to be drained."
    assert parts["Job queue"].ok
    assert parts["Payment webhooks"].summary == (
        "Failed: 0. Received over 15 minutes ago and not yet applied: 0."
    )
    assert not parts["Last paywall audit"].ok
    assert parts["Last paywall audit"].summary == "The paywall audit has not been run here yet."


def test_problems_are_named():
    TaskFailure.objects.create(
        task_path="masthead.x.renew", attempts=5, error="boom", failed_at=timezone.now()
    )
    WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_1",
        event_type="invoice.paid",
        created=timezone.now(),
        status=WebhookStatus.FAILED,
        note="no such customer",
        payload={},
    )
    stuck = WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_2",
        event_type="invoice.paid",
        created=timezone.now(),
        status=WebhookStatus.RECEIVED,
        payload={},
    )
    WebhookEvent.objects.filter(pk=stuck.pk).update(received_at=timezone.now() - timedelta(hours=1))
    events.record(events.ARTICLE_READ, "a:x", after_commit=False, article=1)
    events.flush()
    outage.down("meter", RuntimeError("gone"))
    parts = by_title()
    assert not parts["Meter store"].ok
    assert parts["Insights event buffer"].summary == "1 event(s) waiting to be drained."
    assert not parts["Job queue"].ok and parts["Job queue"].rows[0][0] == "masthead.x.renew"
    assert parts["Payment webhooks"].summary == (
        "Failed: 1. Received over 15 minutes ago and not yet applied: 1."
    )
    assert parts["Payment webhooks"].rows[0][1] == "evt_1"


def test_the_audits_summary_is_kept_and_shown(client):
    record_run(
        "http://127.0.0.1:8000", passed=False, leaks=2, blind=0, summary="90 responses, 2 leak(s)"
    )
    assert AuditRun.objects.get().leaks == 2
    client.force_login(staff(permitted=True))
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "FAILED. 90 responses, 2 leak(s)." in html
    assert "Needs attention" in html


def test_the_permission(client):
    assert client.get(URL).status_code == 302
    client.force_login(staff(permitted=False))
    assert client.get(URL).status_code == 403


def test_the_menu_shows_both_pages_only_to_staff_with_the_permission(client):
    client.force_login(staff(permitted=False))
    html = client.get("/admin/").content.decode()
    assert "/admin/insights/" not in html
    client.force_login(staff(permitted=True))
    html = client.get("/admin/").content.decode()
    assert "/admin/insights/operations/" in html and '"/admin/insights/"' in html.replace(
        "\\u0022", '"'
    )
