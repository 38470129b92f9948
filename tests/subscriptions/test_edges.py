"""Refusals and less-travelled paths of the actions and reader pages, each with the exact
message or state it must produce."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from masthead.billing.models import PaymentMethod
from masthead.billing.providers import (
    TEST_CARD_FAILS_ON_RENEWAL,
    ChargeFailed,
    PaymentPending,
    TestProvider,
)
from masthead.core import clock
from masthead.subscriptions import actions, emails
from masthead.subscriptions.models import EventKind, Offer, OfferKind, Plan, Status, Subscription
from tests import factories
from tests.subscriptions.conftest import NOW, card, consent_for

pytestmark = pytest.mark.django_db
GOOD_CARD = {"number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123"}


@pytest.fixture
def reader(client):
    user = factories.user("edge@example.com")
    client.force_login(user)
    return user


def paid(catalog, reader=None, plan=None, at=NOW):
    reader = reader or factories.user()
    return actions.subscribe(reader, plan=plan or catalog.monthly, card=card(reader), now=at)


def test_starting_refusals_say_why(catalog):
    reader = factories.user()
    with pytest.raises(actions.SubscriptionError, match="not a trial"):
        actions.start_trial(reader, catalog.one_month, now=NOW)
    with pytest.raises(actions.SubscriptionError, match="is a trial"):
        actions.subscribe(reader, offer=catalog.trial, card=card(reader), now=NOW)
    with pytest.raises(actions.SubscriptionError, match="Choose a plan or an offer"):
        actions.subscribe(reader, card=card(reader), now=NOW)
    catalog.annual.ended_at = NOW
    catalog.annual.save()
    with pytest.raises(actions.NotEligible, match="no longer sold"):
        actions.subscribe(reader, plan=catalog.annual, card=card(reader), now=NOW)
    other = factories.user()
    actions.subscribe(other, plan=catalog.monthly, card=card(other), now=NOW, checkout_key="x" * 20)
    with pytest.raises(actions.SubscriptionError, match="checkout form has expired"):
        actions.subscribe(
            reader, plan=catalog.monthly, card=card(reader), now=NOW, checkout_key="x" * 20
        )
    with pytest.raises(actions.SubscriptionError, match="checkout form has expired"):
        actions.start_trial(reader, catalog.trial, now=NOW, checkout_key="x" * 20)


def test_the_same_trial_form_twice_is_one_trial(catalog):
    reader = factories.user()
    first = actions.start_trial(reader, catalog.trial, now=NOW, checkout_key="t" * 20)
    again = actions.start_trial(reader, catalog.trial, now=NOW, checkout_key="t" * 20)
    assert first == again and Subscription.objects.count() == 1


def test_comp_refusals(catalog):
    reader, staff = factories.user(), factories.user(staff=True)
    with pytest.raises(actions.SubscriptionError, match="end in the future"):
        actions.grant_comp(reader, until=NOW, now=NOW, actor=staff, reason="x")
    with pytest.raises(actions.SubscriptionError, match="Say why"):
        actions.grant_comp(reader, until=NOW + timedelta(days=1), now=NOW, actor=staff, reason=" ")
    paid(catalog, reader)
    with pytest.raises(actions.SubscriptionError, match="already has a live subscription"):
        actions.grant_comp(reader, until=NOW + timedelta(days=1), now=NOW, actor=staff, reason="x")


def test_comp_needs_a_plan_to_exist(db):
    reader, staff = factories.user(), factories.user(staff=True)
    with pytest.raises(actions.SubscriptionError, match="Create a plan first"):
        actions.grant_comp(reader, until=NOW + timedelta(days=1), now=NOW, actor=staff, reason="x")


def test_plan_change_refusals(catalog):
    sub = paid(catalog)
    with pytest.raises(actions.SubscriptionError, match="already on this plan"):
        actions.preview_plan_change(sub, catalog.monthly, now=NOW)
    euro = Plan.objects.create(
        name="Euro", slug="euro", price_minor=1000, currency="EUR", benefits="x"
    )
    with pytest.raises(actions.SubscriptionError, match="another currency"):
        actions.preview_plan_change(sub, euro, now=NOW)
    catalog.annual.ended_at = NOW
    catalog.annual.save()
    with pytest.raises(actions.SubscriptionError, match="no longer sold"):
        actions.preview_plan_change(sub, catalog.annual, now=NOW)
    sub = actions.cancel(sub, now=NOW)
    with pytest.raises(actions.SubscriptionError, match="Only an active subscription"):
        actions.preview_plan_change(sub, catalog.monthly, now=NOW)
    with pytest.raises(actions.SubscriptionError, match="already cancelled"):
        actions.cancel(sub, now=NOW)


def test_choosing_the_current_plan_drops_a_scheduled_downgrade(catalog):
    sub = paid(catalog, plan=catalog.annual)
    actions.change_plan(sub, catalog.monthly, now=NOW)
    sub.refresh_from_db()
    assert sub.next_plan == catalog.monthly
    preview = actions.preview_plan_change(sub, catalog.annual, now=NOW)
    assert (preview.charge_text, preview.credit_text, preview.renewal_text) == ("$0", "$0", "$150")
    staff = factories.user(staff=True)
    actions.change_plan(sub, catalog.annual, now=NOW, actor=staff)
    sub.refresh_from_db()
    assert sub.next_plan is None
    assert list(sub.events.values_list("kind", flat=True)) == [
        EventKind.SUBSCRIBED,
        EventKind.PLAN_CHANGE_SCHEDULED,
        EventKind.PLAN_CHANGE_SCHEDULED,
    ]
    # Withdrawing the change is recorded with who did it, like scheduling it.
    assert sub.events.order_by("-pk").first().actor == staff


def test_a_trialist_switches_plan_for_free(catalog):
    sub = actions.start_trial(factories.user(), catalog.trial, now=NOW)
    actions.change_plan(sub, catalog.annual, now=NOW)
    sub.refresh_from_db()
    assert (sub.plan, sub.status, sub.ledger.count()) == (catalog.annual, Status.TRIALING, 0)


def test_an_upgrade_without_a_card_is_refused(catalog):
    sub = paid(catalog)
    PaymentMethod.objects.filter(user=sub.user).update(replaced_at=NOW)
    with pytest.raises(ChargeFailed, match="no card on file"):
        actions.change_plan(sub, catalog.annual, now=NOW + timedelta(days=1))


def test_a_renewal_without_a_card_is_a_payment_failure(catalog):
    sub = paid(catalog)
    PaymentMethod.objects.filter(user=sub.user).update(replaced_at=NOW)
    assert actions.renew(sub, now=NOW + timedelta(days=31)) is False
    sub.refresh_from_db()
    assert sub.status == Status.PAST_DUE
    assert (
        sub.events.filter(kind=EventKind.PAYMENT_FAILED).last().reason
        == "There is no card on file."
    )
    assert actions.renew(sub, now=NOW + timedelta(days=31)) is False  # not due until the retry


def test_past_due_moves_to_expired_at_the_end_of_grace(catalog):
    reader = factories.user()
    sub = actions.subscribe(
        reader, plan=catalog.monthly, card=card(reader, TEST_CARD_FAILS_ON_RENEWAL), now=NOW
    )
    # The renewal and two retries fail (past due); the third retry's failure expires it.
    assert actions.advance(sub, now=NOW + timedelta(days=60)) == 4
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED
    assert actions.next_due_step(sub) is None
    actions.record_payment_failure(sub, now=NOW + timedelta(days=61), reason="late webhook")
    assert sub.events.last().kind == EventKind.EXPIRED  # nothing after the end


def test_past_due_without_retries_left_expires_at_grace_end(catalog):
    sub = paid(catalog)
    Subscription.objects.filter(pk=sub.pk).update(
        status=Status.PAST_DUE, next_retry_at=None, grace_until=NOW + timedelta(days=40)
    )
    sub.refresh_from_db()
    assert actions.next_due_step(sub) == actions.DueStep(NOW + timedelta(days=40), "expire")


def test_advance_stops_after_a_hundred_steps_and_says_so(catalog, monkeypatch, caplog):
    sub = actions.start_trial(factories.user(), catalog.trial, now=NOW)
    monkeypatch.setattr(
        "masthead.subscriptions.actions.schedule.next_due_step",
        lambda s: actions.DueStep(NOW, "remind"),
    )
    monkeypatch.setattr(
        "masthead.subscriptions.actions.schedule.send_trial_reminder", lambda s, now: True
    )
    with caplog.at_level(logging.ERROR, logger="masthead.subscriptions"):
        assert actions.advance(sub, now=NOW) == 100
    assert "more than 100 due steps" in caplog.text


def test_two_renewals_of_the_same_period_settle_once(catalog):
    sub = paid(catalog)
    due = NOW + timedelta(days=31)
    payment_before = actions.renew(sub, now=due)
    assert payment_before is True
    from masthead.billing.models import Payment
    from masthead.subscriptions.actions import lifecycle

    payment = Payment.objects.get(purpose="renew")
    outcome = __import__("masthead.billing.payments", fromlist=["Outcome"]).Outcome(True, "x")
    assert lifecycle.settle_renewal(payment, outcome, now=due) is False
    from masthead.subscriptions.actions import changes, checkout

    sub.refresh_from_db()
    upgrade = actions.preview_plan_change(sub, catalog.annual, now=due)
    actions.change_plan(sub, catalog.annual, now=due, expected=upgrade)
    change = Payment.objects.get(purpose="change_plan")
    assert changes.settle_plan_change(change, outcome, now=due).plan == catalog.annual
    first = Payment.objects.get(purpose="subscribe")
    assert checkout.settle_subscribe(first, outcome, now=due) == sub


def test_emails_skip_readers_without_an_address_and_queue_for_everyone_else(catalog):
    """No address, no e-mail; otherwise one outbox row (delivery and its retries when the mail
    server is down are pinned in tests/core/test_outbox.py)."""
    from masthead.core.models import OutboxEmail

    sub = paid(catalog)
    before = OutboxEmail.objects.count()
    sub.user.email = ""
    emails.on_commit("welcome", sub)
    assert OutboxEmail.objects.count() == before
    sub.user.email = "back@example.com"
    emails.on_commit("welcome", sub)
    queued = OutboxEmail.objects.order_by("-pk").first()
    assert OutboxEmail.objects.count() == before + 1
    assert queued.to == ["back@example.com"]
    assert queued.kind == "subscriptions.welcome"


def test_model_rules_and_labels(catalog):
    from django.core.exceptions import ValidationError

    plan = Plan(name="Bad", slug="bad", price_minor=1, currency="usdx", benefits="x")
    with pytest.raises(ValidationError):
        plan.clean()
    plan.currency = "eur"
    plan.clean()
    assert plan.currency == "EUR"
    assert str(catalog.monthly) == "Monthly ($15 a month)"
    assert catalog.annual.price_text == "$150 a year"
    with pytest.raises(ValidationError):
        Offer(code="t", plan=catalog.monthly, kind=OfferKind.TRIAL, trial_days=0).clean()
    with pytest.raises(ValidationError):
        Offer(code="i", plan=catalog.monthly, intro_periods=0).clean()
    with pytest.raises(ValidationError):
        Offer(code="d", plan=catalog.monthly, starts_at=NOW, ends_at=NOW).clean()
    year = Offer(code="y", plan=catalog.annual, intro_price_minor=5000, intro_periods=2)
    assert year.headline == "Try 2 years for $50"
    assert Offer(code="y1", plan=catalog.annual, intro_price_minor=5000).headline == (
        "Try 1 year for $50"
    )
    assert str(catalog.one_month) == "one-month: Try 1 month for $0.99"
    assert catalog.trial.then_text.startswith("no card needed")
    assert catalog.card_trial.then_text == "then $15 a month, cancel any time"
    ended = Offer(code="e", plan=catalog.monthly, ended_at=NOW)
    assert not ended.is_live(NOW)
    later = Offer(code="l", plan=catalog.monthly, starts_at=NOW + timedelta(days=1))
    assert not later.is_live(NOW)
    sub = paid(catalog)
    assert str(sub) == f"{sub.user} · Monthly · Active"
    assert sub.is_live
    assert str(sub.events.get()) == "2026-10-01 subscribed ->active"


def test_offer_not_started_yet_says_so(catalog):
    catalog.trial.starts_at = NOW + timedelta(days=2)
    catalog.trial.save()
    assert actions.offer_refusal(None, catalog.trial, now=NOW) == "This offer has not started yet."


# ---------------------------------------------------------------- reader pages


def test_checkout_whose_payment_is_still_unknown_keeps_the_form_key(
    client, catalog, reader, monkeypatch
):
    def timing_out(self, **kwargs):
        raise TimeoutError("slow bank")

    monkeypatch.setattr(TestProvider, "charge", timing_out)
    url = "/checkout/plan/monthly/"
    response = client.post(url, {"checkout_key": "p" * 32, **GOOD_CARD, **consent_for(client, url)})
    html = response.content.decode()
    assert PaymentPending().args[0].replace("'", "&#x27;") in html
    assert 'value="' + "p" * 32 + '"' in html
    assert Subscription.objects.count() == 0


def test_return_page_reports_what_is_already_true(client, catalog, reader):
    response = client.get("/checkout/return/")
    assert response.status_code == 200
    assert "waiting for the payment provider" in response.content.decode()
    paid(catalog, reader, at=clock.now())
    assert "you have full access" in client.get("/checkout/return/").content.decode()


def test_an_ended_plan_cannot_be_checked_out(client, catalog, reader):
    catalog.annual.ended_at = clock.now() - timedelta(days=1)
    catalog.annual.save()
    response = client.get("/checkout/plan/annual/")
    assert response.status_code == 404
    assert "We no longer sell this plan" in response.content.decode()


def test_account_page_errors_are_shown_not_raised(client, catalog, reader):
    sub = paid(catalog, reader, at=clock.now())
    response = client.post("/account/subscription/resume/", follow=True)
    assert "Only a cancelled subscription" in response.content.decode()
    client.post("/account/subscription/cancel/")
    again = client.post("/account/subscription/cancel/", follow=True)
    assert "already cancelled" in again.content.decode()
    sub.refresh_from_db()
    assert sub.status == Status.CANCELLED
    change = client.get("/account/subscription/change/annual/", follow=True)
    assert "Only an active subscription" in change.content.decode()


def test_plan_change_with_a_missing_amount_asks_to_confirm(client, catalog, reader):
    paid(catalog, reader, at=clock.now())
    url = "/account/subscription/change/annual/"
    response = client.post(url, {"immediate": "1", **consent_for(client, url)})
    assert response.status_code == 200
    assert "Please confirm the amount shown below." in response.content.decode()


def test_plan_change_that_cannot_be_paid_is_explained(client, catalog, reader):
    sub = paid(catalog, reader, at=clock.now())
    PaymentMethod.objects.filter(user=reader).update(replaced_at=NOW)
    preview = actions.preview_plan_change(sub, catalog.annual, now=clock.now())
    response = client.post(
        "/account/subscription/change/annual/",
        {
            "immediate": "1",
            "charge_minor": preview.charge_minor,
            "credit_minor": preview.credit_minor,
            **consent_for(client, "/account/subscription/change/annual/"),
        },
        follow=True,
    )
    assert "There is no card on file." in response.content.decode()


def test_new_card_form_errors_are_a_400_with_the_form(client, catalog, reader):
    paid(catalog, reader, at=clock.now())
    response = client.post(
        "/account/payment-method/",
        {"checkout_key": "c" * 32, "number": "1", "expiry": "x", "cvc": "1"},
    )
    assert response.status_code == 400
    assert "Enter a valid card number." in response.content.decode()
    declined = client.post(
        "/account/payment-method/",
        {
            "checkout_key": "c" * 32,
            "number": "4000 0000 0000 0002",
            "expiry": "12/34",
            "cvc": "123",
        },
        follow=True,
    )
    assert "Your card was declined." in declined.content.decode()


def test_card_and_checkout_pages_under_stripe_send_the_reader_to_stripe(
    client, catalog, reader, settings, monkeypatch
):
    settings.PAYMENT_PROVIDER = "stripe"
    assert client.post("/account/payment-method/", GOOD_CARD).status_code == 404
    from masthead.billing.providers import StripeProvider

    monkeypatch.setattr(
        StripeProvider, "start_checkout", lambda self, **kw: "https://checkout.stripe.test/s"
    )
    url = "/checkout/plan/monthly/"
    response = client.post(url, {"checkout_key": "s" * 32, **consent_for(client, url)})
    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.test/s"


def test_provider_states_move_through_the_table_and_payments_leave_history(catalog):
    reader = factories.user()
    mirror = {
        "user": reader,
        "plan": catalog.monthly,
        "provider": "stripe",
        "provider_ref": "sub_1",
        "period_start": NOW,
        "period_end": NOW + timedelta(days=30),
        "trial_end": None,
    }
    sub = actions.apply_provider_state(status=Status.ACTIVE, state_at=NOW, **mirror)
    entry = actions.record_provider_charge(
        sub,
        provider_ref="in_1",
        amount_minor=1500,
        currency="usd",
        period_start=NOW,
        period_end=NOW + timedelta(days=30),
        at=NOW,
    )
    assert (entry.amount_minor, entry.currency, entry.period_number) == (1500, "USD", 1)
    again = actions.record_provider_charge(
        sub,
        provider_ref="in_1",
        amount_minor=1500,
        currency="usd",
        period_start=NOW,
        period_end=NOW,
        at=NOW,
    )
    assert again is None
    late = NOW + timedelta(hours=1)
    sub = actions.apply_provider_state(status=Status.PAST_DUE, state_at=late, **mirror)
    assert (sub.status, sub.grace_until) == (Status.PAST_DUE, NOW + timedelta(days=37))
    older = actions.apply_provider_state(status=Status.ACTIVE, state_at=NOW, **mirror)
    assert older is None
    sub = actions.apply_provider_state(
        status=Status.CANCELLED, state_at=late + timedelta(hours=1), **mirror
    )
    assert (sub.status, sub.auto_renew, sub.grace_until) == (Status.CANCELLED, False, None)
    actions.apply_provider_state(
        status=Status.EXPIRED, state_at=late + timedelta(hours=2), **mirror
    )
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED
    assert (
        actions.apply_provider_state(
            status=Status.ACTIVE, state_at=late + timedelta(hours=3), **mirror
        )
        is None
    )
    assert list(sub.events.values_list("kind", "from_status", "to_status")) == [
        (EventKind.PROVIDER_SYNC, "", Status.ACTIVE),
        (EventKind.PAYMENT_RECORDED, Status.ACTIVE, Status.ACTIVE),
        (EventKind.PROVIDER_SYNC, Status.ACTIVE, Status.PAST_DUE),
        (EventKind.PROVIDER_SYNC, Status.PAST_DUE, Status.CANCELLED),
        (EventKind.EXPIRED, Status.CANCELLED, Status.EXPIRED),
    ]
    second = factories.user()
    other = {**mirror, "user": second, "provider_ref": "sub_2"}
    actions.start_trial(second, catalog.trial, now=NOW)
    with pytest.raises(actions.SubscriptionError, match="already has a live subscription"):
        actions.apply_provider_state(status=Status.ACTIVE, state_at=NOW, **other)
