"""The staff tools, driven through the Django admin as a staff member: every action records
who and why, and goes through the subscription actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission

from masthead.billing.models import EntryKind, LedgerEntry, WebhookEvent, WebhookStatus
from masthead.core import clock
from masthead.subscriptions import actions
from masthead.subscriptions.models import EventKind, Offer, Plan, Status, Subscription
from tests import factories
from tests.subscriptions.conftest import card

pytestmark = pytest.mark.django_db
ADMIN = "/django-admin/subscriptions/subscription"


@pytest.fixture
def staff(client):
    member = factories.user("editor@example.com", staff=True)
    client.force_login(member)
    return member


@pytest.fixture
def paying(catalog):
    reader = factories.user("paying@example.com")
    return actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=clock.now())


def test_staff_refund_through_the_admin_is_a_ledger_row_with_who_and_why(client, staff, paying):
    charge = paying.ledger.get()
    page = client.get(f"{ADMIN}/{paying.pk}/staff/")
    assert page.status_code == 200
    assert charge.receipt_number in page.content.decode()
    response = client.post(
        f"{ADMIN}/{paying.pk}/staff/",
        {"action": "refund", "charge": charge.pk, "amount_minor": 400, "reason": "Late paper"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{ADMIN}/{paying.pk}/change/"
    refund = LedgerEntry.objects.get(kind=EntryKind.REFUND)
    assert (refund.amount_minor, refund.actor, refund.reason) == (-400, staff, "Late paper")
    event = paying.events.last()
    assert (event.kind, event.actor, event.reason) == (EventKind.REFUNDED, staff, "Late paper")


def test_staff_refund_without_a_charge_or_beyond_it_is_refused_on_the_form(client, staff, paying):
    response = client.post(f"{ADMIN}/{paying.pk}/staff/", {"action": "refund", "reason": "Why not"})
    assert response.status_code == 200
    assert "Choose the charge to refund." in response.content.decode()
    charge = paying.ledger.get()
    response = client.post(
        f"{ADMIN}/{paying.pk}/staff/",
        {"action": "refund", "charge": charge.pk, "amount_minor": 1501, "reason": "Too much"},
    )
    assert "Refund between $0.01 and $15." in response.content.decode()
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0


@pytest.mark.parametrize(
    ("choice", "status"), [("cancel", Status.CANCELLED), ("end", Status.EXPIRED)]
)
def test_staff_cancel_or_end_through_the_admin(client, staff, paying, choice, status):
    response = client.post(
        f"{ADMIN}/{paying.pk}/staff/", {"action": choice, "reason": "Reader asked by phone"}
    )
    assert response.status_code == 302
    paying.refresh_from_db()
    assert paying.status == status
    event = paying.events.last()
    assert (event.actor, event.reason) == (staff, "Reader asked by phone")
    again = client.post(f"{ADMIN}/{paying.pk}/staff/", {"action": "cancel", "reason": "Twice"})
    assert "already cancelled" in again.content.decode()


def test_staff_grant_complimentary_access_through_the_admin(client, staff, catalog):
    reader = factories.user("press@example.com")
    page = client.get(f"{ADMIN}/grant/")
    assert page.status_code == 200
    until = (clock.now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S")
    unknown = client.post(
        f"{ADMIN}/grant/",
        {"email": "nobody@example.com", "until": until, "plan": catalog.monthly.pk, "reason": "x"},
    )
    assert "No reader has this e-mail address." in unknown.content.decode()
    response = client.post(
        f"{ADMIN}/grant/",
        {
            "email": "PRESS@example.com",
            "until": until,
            "plan": catalog.annual.pk,
            "reason": "Press",
        },
    )
    sub = Subscription.objects.get(user=reader)
    assert response["Location"] == f"{ADMIN}/{sub.pk}/change/"
    assert (sub.status, sub.plan, sub.events.get().actor) == (
        Status.COMPLIMENTARY,
        catalog.annual,
        staff,
    )
    twice = client.post(
        f"{ADMIN}/grant/",
        {"email": "press@example.com", "until": until, "plan": catalog.annual.pk, "reason": "Re"},
    )
    assert "already has a live subscription" in twice.content.decode()


def test_subscription_list_and_detail_are_read_only_with_the_staff_link(client, staff, paying):
    listing = client.get(f"{ADMIN}/")
    assert listing.status_code == 200
    body = listing.content.decode()
    assert f"{ADMIN}/{paying.pk}/staff/" in body
    assert f"{ADMIN}/grant/" in body
    assert "delete_selected" not in body
    detail = client.get(f"{ADMIN}/{paying.pk}/change/")
    assert detail.status_code == 200
    assert 'name="status"' not in detail.content.decode()  # read-only fields
    assert client.get(f"{ADMIN}/add/").status_code == 403
    assert client.post(f"{ADMIN}/{paying.pk}/delete/").status_code == 403


def test_end_the_selected_plans_and_offers_stops_new_sales(client, staff, catalog):
    response = client.post(
        "/django-admin/subscriptions/plan/",
        {"action": "end_now", "_selected_action": [catalog.annual.pk]},
    )
    assert response.status_code == 302
    assert Plan.objects.get(pk=catalog.annual.pk).ended_at is not None
    assert Plan.objects.get(pk=catalog.monthly.pk).ended_at is None
    client.post(
        "/django-admin/subscriptions/offer/",
        {"action": "end_now", "_selected_action": [catalog.trial.pk]},
    )
    assert not Offer.objects.get(pk=catalog.trial.pk).is_live(clock.now())
    listing = client.get("/django-admin/subscriptions/offer/")
    assert "delete_selected" not in listing.content.decode()


def test_staff_without_the_change_permission_cannot_use_the_staff_tools(client, paying):
    clerk = factories.user("clerk@example.com")
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.add(Permission.objects.get(codename="view_subscription"))
    client.force_login(clerk)
    for url in (f"{ADMIN}/{paying.pk}/staff/", f"{ADMIN}/grant/"):
        response = client.post(url, {"action": "end", "reason": "No"})
        assert response.status_code == 302
        assert response["Location"] == "/django-admin/"
    paying.refresh_from_db()
    assert paying.status == Status.ACTIVE


def test_ledger_and_webhook_admin_are_read_only_and_failed_events_can_be_retried(
    client, staff, paying, settings
):
    assert client.get("/django-admin/billing/ledgerentry/").status_code == 200
    charge = paying.ledger.get()
    detail = client.get(f"/django-admin/billing/ledgerentry/{charge.pk}/change/")
    assert charge.receipt_number in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()
    assert client.get("/django-admin/billing/ledgerentry/add/").status_code == 403
    event = WebhookEvent.objects.create(
        provider="stripe",
        event_id="evt_failed_1",
        event_type="customer.created",
        created=clock.now(),
        status=WebhookStatus.FAILED,
        payload={
            "id": "evt_failed_1",
            "object": "event",
            "type": "customer.created",
            "created": 1_790_000_000,
            "livemode": False,
            "data": {"object": {"id": "cus_1", "object": "customer"}},
        },
    )
    listing = client.get("/django-admin/billing/webhookevent/")
    assert "evt_failed_1" in listing.content.decode()
    detail = client.get(f"/django-admin/billing/webhookevent/{event.pk}/change/")
    assert 'name="_save"' not in detail.content.decode()  # viewable, never editable
    response = client.post(
        "/django-admin/billing/webhookevent/",
        {"action": "retry", "_selected_action": [event.pk]},
        follow=True,
    )
    assert "Retried 1; 1 applied or ignored." in response.content.decode()
    event.refresh_from_db()
    assert (event.status, event.note) == (
        WebhookStatus.IGNORED,
        "event type customer.created is not used",
    )


def test_payments_are_listed_read_only_for_staff(client, staff, paying):
    listing = client.get("/django-admin/billing/payment/?status=succeeded")
    assert listing.status_code == 200
    assert f"checkout-{paying.checkout_key}" in listing.content.decode()
    assert client.get("/django-admin/billing/payment/add/").status_code == 403


def test_staff_list_the_cancellation_reasons_and_save_offer_outcomes(client, staff, catalog):
    """Retention reporting (decision 0035): the history rows, filtered to the retention ones."""
    now = clock.now()
    reader = factories.user("leaving@example.com")
    start = actions.add_months(now, -13)
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader, now=start), now=start)
    actions.advance(sub, now=now)
    sub.refresh_from_db()
    actions.start_cancellation(sub, reason="too_expensive", now=now)
    actions.cancel(sub, now=now, reason="By the reader", declined_offer="discount")
    html = client.get("/django-admin/subscriptions/subscriptionevent/?retention=yes").content
    page = html.decode()
    # Two rows (the reason and the declined offer), not the subscription's 14 charges' rows.
    assert page.count("leaving@example.com") == 2
    assert "too_expensive" in page and "discount" in page
    assert client.get("/django-admin/subscriptions/subscriptionevent/").content.decode().count(
        "leaving@example.com"
    ) == len(sub.events.all())
