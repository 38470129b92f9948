"""A reader's data: "Download my data" holds exactly their rows; "Delete my account" leaves
no personal field of theirs in any table (a scan of every model's text fields), keeps the
ledger whole under a pseudonym, cancels a live subscription first and records the erasure;
the permission matrix of both doors (anonymous, another reader, staff through the admin)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.cache import cache
from django.db import models
from django.db.models import Sum
from django.test import Client
from django.urls import reverse

from masthead.accounts import actions as account_actions
from masthead.accounts.erasure import erase_reader, export_reader
from masthead.accounts.models import AccountErasure, AppToken
from masthead.billing.models import LedgerEntry, Payment, PaymentMethod, WebhookEvent
from masthead.core.models import OutboxEmail, ReaderMailbox
from masthead.metering.actions import record_read
from masthead.metering.identity import ReaderIdentity
from masthead.metering.models import MeteredRead, ReaderMeter
from masthead.subscriptions import actions
from masthead.subscriptions.models import EventKind, Status, Subscription, SubscriptionEvent
from tests import factories
from tests.subscriptions.conftest import NOW, card, make_catalog

PASSWORD = "correct-horse-42"
IP = "203.0.113.77"


@dataclass
class Reader:
    user: Any
    email: str
    full_name: str
    last_name: str
    client: Client


@pytest.fixture(autouse=True)
def _quick(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()


def _reader(email: str, first: str, last: str, article: Any, catalog: Any) -> Reader:
    user = factories.user(email, password=PASSWORD)
    user.first_name, user.last_name = first, last
    user.save()
    account_actions.remember_address(user, email, now=NOW)
    actions.subscribe(user, offer=catalog.one_month, card=card(user), now=NOW)
    account_actions.issue_app_token(user, name=f"{first}'s phone", now=NOW)
    record_read(ReaderIdentity(user_id=user.pk, anonymous_id=None), article, now=NOW)
    WebhookEvent.objects.create(
        provider="stripe",
        event_id=f"evt_{user.pk}",
        event_type="customer.updated",
        created=NOW,
        status="applied",
        payload={"data": {"object": {"email": email, "name": f"{first} {last}"}}},
    )
    LogEntry.objects.log_actions(
        user_id=factories.user(staff=True).pk,
        queryset=[user],
        action_flag=CHANGE,
        change_message=f"Changed the name of {email}",
        single_object=True,
    )
    client = Client(REMOTE_ADDR=IP)
    client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert client.get(reverse("account_overview")).status_code == 200
    return Reader(user, email, f"{first} {last}", last, client)


@pytest.fixture
def two_readers(db: Any) -> tuple[Reader, Reader]:
    catalog = make_catalog()
    article = factories.article("Harbour strike ends")
    maria = _reader("maria.kowalska@example.com", "Maria", "Kowalska", article, catalog)
    other = _reader("oskar.lindqvist@example.org", "Oskar", "Lindqvist", article, catalog)
    return maria, other


def _text_fields(model: type[models.Model]) -> list[str]:
    kinds = (models.CharField, models.TextField, models.JSONField)
    return [f.attname for f in model._meta.concrete_fields if isinstance(f, kinds)]


def personal_traces(*needles: str) -> list[str]:
    """Every (table, row, field) of every model whose text holds one of the needles."""
    found = []
    lowered = [n.lower() for n in needles]
    for model in apps.get_models():
        fields = _text_fields(model)
        if not fields or model._meta.proxy or not model._meta.managed:
            continue
        for pk, *values in model._base_manager.values_list("pk", *fields):
            for name, value in zip(fields, values, strict=True):
                text = json.dumps(value) if not isinstance(value, str) else value
                text = (text or "").lower()
                found += [f"{model._meta.label}#{pk}.{name}" for n in lowered if n in text]
    return found


def test_the_scan_finds_every_planted_trace(two_readers):
    maria, _ = two_readers
    traces = personal_traces(maria.email, maria.last_name)
    tables = {t.split("#")[0] for t in traces}
    # The scan would catch a miss in each of these places.
    assert {
        "auth.User",
        "account.EmailAddress",
        "core.ReaderMailbox",
        "core.OutboxEmail",
        "billing.WebhookEvent",
        "admin.LogEntry",
    } <= tables


def test_erasure_leaves_no_personal_field_in_any_table(two_readers):
    maria, other = two_readers
    user = maria.user
    ledger_before = list(
        LedgerEntry.objects.order_by("pk").values_list("pk", "user_id", "amount_minor", "at")
    )
    total_before = LedgerEntry.objects.aggregate(s=Sum("amount_minor"))["s"]
    other_traces = personal_traces(other.email, other.last_name)
    assert OutboxEmail.objects.filter(to__icontains=maria.email).exists()

    erased = erase_reader(
        user, now=NOW + timedelta(days=2), reason="E-mail of 1 Dec", requested_by_reader=True
    )

    assert personal_traces(maria.email, maria.last_name, maria.full_name, IP) == []
    # The ledger balances: same rows, same amounts and dates, still the same account.
    assert LedgerEntry.objects.aggregate(s=Sum("amount_minor"))["s"] == total_before
    assert ledger_before == list(
        LedgerEntry.objects.order_by("pk").values_list("pk", "user_id", "amount_minor", "at")
    )
    user.refresh_from_db()
    pseudonym = erased.record.pseudonym
    assert pseudonym.startswith("erased-") and user.username == pseudonym
    assert user.email == f"{pseudonym}@erased.invalid"
    assert (user.first_name, user.last_name, user.is_active) == ("", "", False)
    assert not user.has_usable_password()
    # Removed: tokens, cards, mailboxes, meter data, sessions; e-mail bodies emptied.
    assert not AppToken.objects.filter(user=user).exists()
    assert not PaymentMethod.objects.filter(user=user).exists()
    assert not ReaderMailbox.objects.filter(user=user).exists()
    assert not MeteredRead.objects.filter(reader_key=f"u:{user.pk}").exists()
    assert not ReaderMeter.objects.filter(reader_key=f"u:{user.pk}").exists()
    sent = OutboxEmail.objects.filter(to__icontains=pseudonym)
    assert sent.exists() and set(sent.values_list("body", "html_body").distinct()) == {("", "")}
    assert maria.client.get(reverse("account_overview")).status_code == 302  # signed out
    # The subscription was cancelled through the action first, with its history row.
    sub = Subscription.objects.get(user=user)
    assert sub.status == Status.EXPIRED
    assert sub.events.filter(to_status=Status.EXPIRED).exists()
    assert Payment.objects.filter(user=user).count() == 1
    # Recorded: when, why, asked by the reader.
    record = AccountErasure.objects.get(user=user)
    assert (record.at, record.reason, record.requested_by_reader) == (
        NOW + timedelta(days=2),
        "E-mail of 1 Dec",
        True,
    )
    # The other reader is untouched.
    assert personal_traces(other.email, other.last_name) == other_traces
    assert Subscription.objects.get(user=other.user).status == Status.ACTIVE
    assert other.client.get(reverse("account_overview")).status_code == 200


def test_a_reason_naming_the_reader_is_pseudonymised_too(two_readers):
    maria, _ = two_readers
    erase_reader(
        maria.user, now=NOW, reason=f"Asked by {maria.email} by phone", requested_by_reader=True
    )
    record = AccountErasure.objects.get(user=maria.user)
    assert maria.email not in record.reason and "@erased.invalid by phone" in record.reason


def test_the_readers_own_words_at_cancellation_are_removed_whole(two_readers):
    maria, other = two_readers
    words = "Moving to Gdansk for the new job at the shipyard"
    for reader in (maria, other):
        sub = Subscription.objects.get(user=reader.user)
        actions.start_cancellation(sub, reason="other", detail=words, now=NOW, actor=reader.user)
    erase_reader(maria.user, now=NOW, reason="Asked by the reader", requested_by_reader=True)
    rows = SubscriptionEvent.objects.filter(kind=EventKind.CANCEL_REASON)
    mine = rows.get(subscription__user=maria.user)
    assert (mine.reason, mine.data["reason"]) == (
        "(removed: the reader's account was erased)",
        "other",
    )
    assert rows.get(subscription__user=other.user).reason == words  # another reader's stay
    kept = rows.get(subscription__user=other.user).pk
    assert personal_traces("Gdansk") == [f"subscriptions.SubscriptionEvent#{kept}.reason"]


def test_staff_accounts_and_a_second_erasure_are_refused(two_readers):
    maria, _ = two_readers
    staff = factories.user(staff=True)
    with pytest.raises(PermissionError):
        erase_reader(staff, now=NOW, reason="x", requested_by_reader=True)
    erase_reader(maria.user, now=NOW, reason="x", requested_by_reader=True)
    with pytest.raises(ValueError, match="erased already"):
        erase_reader(maria.user, now=NOW, reason="x", requested_by_reader=True)


def test_export_holds_exactly_the_readers_rows(two_readers):
    maria, other = two_readers
    data = export_reader(maria.user)
    text = json.dumps(data)
    assert other.email not in text and other.last_name not in text
    assert data["profile"]["email"] == maria.email
    assert data["profile"]["last_name"] == "Kowalska"
    assert [a["email"] for a in data["profile"]["email_addresses"]] == [maria.email]
    assert len(data["reads_counted"]) == 1
    assert [s["status"] for s in data["subscriptions"]] == ["active"]
    assert [p["amount_minor"] for p in data["payments"]] == [99]
    assert [(e["kind"], e["amount_minor"]) for e in data["ledger"]] == [("charge", 99)]
    assert data["emails_sent"] and all(e["to"] == [maria.email] for e in data["emails_sent"])
    assert len(data["sessions"]) == 1
    assert [t["name"] for t in data["app_tokens"]] == ["Maria's phone"]
    assert data["consents"] == []


# ---- the doors ------------------------------------------------------------------------------


def test_download_my_data_is_the_signed_in_readers_own(two_readers):
    maria, other = two_readers
    response = maria.client.get(reverse("account_download_data"), {"user": other.user.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"] or "private" in response["Cache-Control"]
    data = json.loads(response.content)
    assert data["profile"]["id"] == maria.user.pk
    assert other.email not in response.content.decode()


def test_the_account_page_offers_both(two_readers):
    maria, _ = two_readers
    page = maria.client.get(reverse("account_overview")).content.decode()
    assert "Download my data" in page and reverse("account_download_data") in page
    assert "Delete my account" in page and reverse("account_delete") in page


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["account_download_data", "account_delete"])
def test_anonymous_is_sent_to_sign_in(client, name):
    for response in (client.get(reverse(name)), client.post(reverse(name), {"password": "x"})):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    assert not AccountErasure.objects.exists()


def test_delete_page_explains_what_is_kept(two_readers):
    maria, _ = two_readers
    page = maria.client.get(reverse("account_delete")).content.decode()
    assert "What is kept, and why" in page and "pseudonym" in page
    assert 'name="password"' in page


def test_delete_needs_the_readers_own_password(two_readers):
    maria, other = two_readers
    wrong = maria.client.post(reverse("account_delete"), {"password": "not-it"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    assert not AccountErasure.objects.exists()
    # Another reader's password does not erase either account.
    other_password = maria.client.post(reverse("account_delete"), {"password": PASSWORD + "x"})
    assert other_password.status_code == 400
    done = maria.client.post(reverse("account_delete"), {"password": PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/"
    assert AccountErasure.objects.get().user_id == maria.user.pk
    assert AccountErasure.objects.get().actor is None
    other.user.refresh_from_db()
    assert other.user.is_active and other.user.email == other.email


def test_staff_erase_from_the_admin_with_the_reason_recorded(two_readers):
    maria, other = two_readers
    staff = factories.user("desk@example.com", staff=True)
    admin = Client()
    admin.force_login(staff)
    url = reverse("admin:auth_user_changelist")
    confirm = admin.post(url, {"action": "erase_readers", "_selected_action": [maria.user.pk]})
    assert confirm.status_code == 200 and b"Erase these accounts" in confirm.content
    assert not AccountErasure.objects.exists()  # nothing before the confirmation
    done = admin.post(
        url,
        {
            "action": "erase_readers",
            "_selected_action": [maria.user.pk],
            "confirm": "yes",
            "reason": "Written request received 30 Nov",
        },
    )
    assert done.status_code == 302
    record = AccountErasure.objects.get()
    assert (record.user_id, record.actor_id) == (maria.user.pk, staff.pk)
    assert record.reason == "Written request received 30 Nov"
    assert personal_traces(maria.email, maria.last_name) == []
    assert Subscription.objects.get(user=other.user).status == Status.ACTIVE


def test_staff_export_from_the_admin(two_readers):
    maria, _ = two_readers
    admin = Client()
    admin.force_login(factories.user(staff=True))
    url = reverse("admin:auth_user_changelist")
    response = admin.post(
        url, {"action": "export_reader_data", "_selected_action": [maria.user.pk]}
    )
    assert response.status_code == 200
    assert json.loads(response.content)["profile"]["email"] == maria.email


def test_a_reader_cannot_use_the_admin_actions(two_readers):
    maria, other = two_readers
    url = reverse("admin:auth_user_changelist")
    response = maria.client.post(
        url,
        {
            "action": "erase_readers",
            "_selected_action": [other.user.pk],
            "confirm": "yes",
            "reason": "x",
        },
    )
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not AccountErasure.objects.exists()


def test_nothing_is_erased_when_the_provider_cannot_cancel(two_readers, monkeypatch):
    maria, _ = two_readers

    def provider_down(sub: Any, *, immediately: bool) -> None:
        raise actions.SubscriptionError("Stripe is unreachable")

    monkeypatch.setattr("masthead.subscriptions.actions.changes.cancel_at_stripe", provider_down)
    response = maria.client.post(reverse("account_delete"), {"password": PASSWORD})
    assert response.status_code == 503
    assert "nothing was deleted" in response.content.decode()
    maria.user.refresh_from_db()
    assert maria.user.email == maria.email and maria.user.is_active
    assert not AccountErasure.objects.exists()
    assert Subscription.objects.get(user=maria.user).status == Status.ACTIVE
    assert maria.client.get(reverse("account_overview")).status_code == 200
