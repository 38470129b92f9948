"""Renewal compliance (docs/renewals.md): express consent at checkout kept as evidence,
renewal notices in their window, price-change notices and the price they hold back, cancel
in no more steps than subscribing, and the staff-only evidence bundle."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction

from masthead.billing.models import EntryKind, LedgerEntry, Payment
from masthead.core import clock
from masthead.core.models import OutboxEmail
from masthead.subscriptions import actions, jobs
from masthead.subscriptions.actions.periods import add_months
from masthead.subscriptions.models import (
    ConsentRecord,
    EventKind,
    NoticeKind,
    Offer,
    OfferKind,
    PlanPriceChange,
    RenewalNotice,
    Status,
    Subscription,
)
from tests import factories
from tests.subscriptions.conftest import NOW, card, consent_for

pytestmark = pytest.mark.django_db

GOOD_CARD = {"number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123"}
UA = "Mozilla/5.0 (Evidence test)"
ANNUAL_TERMS = (
    "You pay $150 today for the first year. Your subscription then renews automatically at "
    "$150 a year, charged to your card every year until you cancel. Cancel any time from your "
    "account page (Your account, then Subscription); you keep access until the end of the "
    "period you paid for."
)
INTRO_TERMS = (
    "You pay $0.99 today. From November 1, 2026 your subscription renews automatically at "
    "$15 a month, charged to your card every month until you cancel. Cancel any time before "
    "November 1, 2026 from your account page and you will not be charged $15 a month."
)


@pytest.fixture(autouse=True)
def at_now(monkeypatch):
    """The Masthead clock stands at NOW unless a test moves it."""
    moment = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    return moment


def annual_subscriber(catalog, email="annual@example.com", at=NOW):
    reader = factories.user(email)
    return actions.subscribe(reader, plan=catalog.annual, card=card(reader, now=at), now=at)


def run_notice_job(now):
    """What the scheduler does: every due item handled once."""
    return sum(jobs.renewal_notice_one(item.key, now) for item in jobs.due_renewal_notices(now))


def run_price_job(now):
    return sum(jobs.price_notice_one(item.key, now) for item in jobs.due_price_notices(now))


# ---- express consent ---------------------------------------------------------------------


def test_checkout_shows_an_unchecked_box_beside_the_exact_terms(client, catalog):
    client.force_login(factories.user())
    html = client.get("/checkout/plan/annual/").content.decode()
    assert f'<p class="consent-terms" id="consent-terms">{ANNUAL_TERMS}</p>' in html
    box = re.search(r'<input type="checkbox" name="consent"[^>]*>', html)[0]
    assert "checked" not in box
    sha = hashlib.sha256(ANNUAL_TERMS.encode()).hexdigest()
    assert f'name="terms_hash" value="{sha}"' in html


def test_anonymous_readers_cannot_check_out_or_consent(client, catalog):
    for url in ("/checkout/plan/annual/", "/checkout/offer/one-month/"):
        response = client.post(url, {"checkout_key": "a" * 32, **GOOD_CARD, "consent": "yes"})
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert not ConsentRecord.objects.exists()
    assert not Subscription.objects.exists()


def test_without_the_ticked_box_nothing_is_charged_and_fields_are_kept(client, catalog):
    reader = factories.user()
    client.force_login(reader)
    url = "/checkout/plan/annual/"
    agreed = consent_for(client, url)
    response = client.post(
        url, {"checkout_key": "a" * 32, **GOOD_CARD, "terms_hash": agreed["terms_hash"]}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Tick the box to agree to the renewal terms before you pay." in html
    assert 'value="12/34"' in html  # the expiry as typed
    assert 'value="4242' not in html and 'value="123"' not in html  # secrets never
    assert 'value="' + "a" * 32 + '"' in html  # the same form key: no second form
    assert not Subscription.objects.exists()
    assert not Payment.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_terms_that_changed_since_the_page_was_shown_are_shown_again(client, catalog):
    client.force_login(factories.user())
    url = "/checkout/plan/annual/"
    stale = {"consent": "yes", "terms_hash": hashlib.sha256(b"older terms").hexdigest()}
    html = client.post(url, {"checkout_key": "a" * 32, **GOOD_CARD, **stale}).content.decode()
    assert "The terms changed since this page was shown." in html
    assert f'id="consent-terms">{ANNUAL_TERMS}</p>' in html
    assert not Subscription.objects.exists()


def test_consent_is_recorded_with_the_subscription_exactly(client, catalog):
    reader = factories.user("consenting@example.com")
    client.force_login(reader)
    url = "/checkout/plan/annual/"
    response = client.post(
        url,
        {"checkout_key": "k" * 32, **GOOD_CARD, **consent_for(client, url)},
        HTTP_USER_AGENT=UA,
        REMOTE_ADDR="203.0.113.77",
    )
    assert response.status_code == 302
    sub = Subscription.objects.get(user=reader)
    row = ConsentRecord.objects.get()
    assert (row.subscription, row.user, row.plan, row.offer) == (sub, reader, catalog.annual, None)
    assert row.terms_text == ANNUAL_TERMS
    assert row.terms_sha256 == hashlib.sha256(ANNUAL_TERMS.encode()).hexdigest()
    assert row.consented_at == NOW
    assert row.network == "203.0.113.0/24"  # coarse: never the address itself
    assert "203.0.113.77" not in json.dumps(list(ConsentRecord.objects.values()), default=str)
    assert row.user_agent == UA
    assert row.checkout_key == "k" * 32
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        ConsentRecord.objects.filter(pk=row.pk).update(terms_text="other")
    with pytest.raises(TypeError):
        row.delete()


def test_intro_offer_and_card_trial_record_their_own_terms(client, catalog):
    reader = factories.user()
    client.force_login(reader)
    url = "/checkout/offer/one-month/"
    client.post(url, {"checkout_key": "k" * 32, **GOOD_CARD, **consent_for(client, url)})
    row = ConsentRecord.objects.get(user=reader)
    assert (row.offer, row.terms_text) == (catalog.one_month, INTRO_TERMS)
    trialist = factories.user()
    client.force_login(trialist)
    url = f"/checkout/offer/{catalog.card_trial.code}/"
    missing = client.post(url, {"checkout_key": "t" * 32, **GOOD_CARD})
    assert "Tick the box" in missing.content.decode()
    assert not Subscription.objects.filter(user=trialist).exists()
    client.post(url, {"checkout_key": "t" * 32, **GOOD_CARD, **consent_for(client, url)})
    trial = Subscription.objects.get(user=trialist)
    assert trial.status == Status.TRIALING
    assert ConsentRecord.objects.get(user=trialist).subscription == trial
    assert ConsentRecord.objects.get(user=trialist).terms_text.startswith(
        "You pay $0 today. From October 8, 2026 your subscription renews automatically at $15"
    )


def test_a_card_less_trial_renews_into_nothing_and_asks_no_renewal_consent(client, catalog):
    reader = factories.user()
    client.force_login(reader)
    html = client.get("/checkout/offer/free-trial/").content.decode()
    assert 'name="consent"' not in html
    client.post("/checkout/offer/free-trial/", {"checkout_key": "f" * 32})
    assert Subscription.objects.get(user=reader).auto_renew is False
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize("state", ["trialist", "subscriber", "past_due"])
def test_readers_with_a_live_subscription_are_refused_before_any_consent(client, catalog, state):
    reader = factories.user()
    if state == "trialist":
        actions.start_trial(reader, catalog.trial, now=NOW)
    else:
        actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    if state == "past_due":
        sub = Subscription.objects.get(user=reader)
        actions.record_payment_failure(sub, now=NOW, reason="Declined")
        assert Subscription.objects.get(user=reader).status == Status.PAST_DUE
    client.force_login(reader)
    response = client.post(
        "/checkout/plan/annual/",
        {"checkout_key": "z" * 32, **GOOD_CARD, "consent": "yes", "terms_hash": "0" * 64},
    )
    assert "You already have a subscription." in response.content.decode()
    assert 'name="consent"' not in response.content.decode()
    assert not ConsentRecord.objects.exists()
    assert Subscription.objects.filter(user=reader).count() == 1


def test_a_lapsed_reader_consents_again_to_the_new_terms(client, catalog, at_now):
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    actions.cancel(sub, now=NOW, actor=reader, reason="")
    later = NOW + timedelta(days=40)
    actions.expire(Subscription.objects.get(pk=sub.pk), now=later)
    at_now["now"] = later
    client.force_login(reader)
    url = "/checkout/plan/annual/"
    refused = client.post(url, {"checkout_key": "l" * 32, **GOOD_CARD})
    assert "Tick the box" in refused.content.decode()
    client.post(url, {"checkout_key": "l" * 32, **GOOD_CARD, **consent_for(client, url)})
    again = Subscription.objects.get(user=reader, status=Status.ACTIVE)
    row = ConsentRecord.objects.get()
    assert (row.subscription, row.consented_at, row.terms_text) == (again, later, ANNUAL_TERMS)


def test_consent_survives_a_checkout_settled_by_the_reconcile_job(catalog):
    """The consent travels in the pending payment: whoever settles it records it."""
    from masthead.subscriptions.consent import Consent

    reader = factories.user()
    consent = Consent(ANNUAL_TERMS, NOW, "198.51.100.0/24", UA)
    sub = actions.subscribe(
        reader,
        plan=catalog.annual,
        card=card(reader),
        now=NOW,
        checkout_key="r" * 32,
        consent=consent,
    )
    payment = Payment.objects.get(user=reader)
    assert payment.context["consent"]["terms_text"] == ANNUAL_TERMS
    row = ConsentRecord.objects.get()
    assert (row.subscription, row.network, row.user_agent) == (sub, "198.51.100.0/24", UA)


# ---- renewal notices ---------------------------------------------------------------------


def test_notice_window_edges_46_none_45_sent_once(catalog):
    sub = annual_subscriber(catalog)
    renews = sub.current_period_end
    assert run_notice_job(renews - timedelta(days=46)) == 0
    assert run_notice_job(renews - timedelta(days=45)) == 1
    assert run_notice_job(renews - timedelta(days=44)) == 0  # one per period
    assert run_notice_job(renews - timedelta(days=15)) == 0
    notice = RenewalNotice.objects.get()
    assert (notice.kind, notice.key, notice.renews_at) == (NoticeKind.RENEWAL, "renewal-1", renews)
    assert (notice.price_minor, notice.currency, notice.late) == (15000, "USD", False)
    assert notice.sent_at == renews - timedelta(days=45)
    assert notice.to_email == "annual@example.com"
    assert notice.subject == "Your subscription to The Meridian Review renews on October 1, 2027"
    assert (
        "Your Annual subscription to The Meridian Review renews automatically on "
        "October 1, 2027. We will then charge $150 to your card for another year, and every "
        "year after that until you cancel."
    ) in notice.body
    assert "/account/subscription/" in notice.body
    mail = OutboxEmail.objects.get(kind="subscriptions.renewal_notice")
    assert (mail.subject, mail.body, mail.to) == (notice.subject, notice.body, [notice.to_email])
    assert "<html" in mail.html_body.lower()  # plain and HTML, like every subscription e-mail
    event = sub.events.get(kind=EventKind.RENEWAL_NOTICE)
    assert event.data == {
        "plan_id": sub.plan_id,  # every history row names the plan in force (insights' MRR)
        "notice": notice.pk,
        "key": "renewal-1",
        "late": False,
    }


def test_notice_at_15_days_is_sent_in_time(catalog):
    sub = annual_subscriber(catalog)
    assert run_notice_job(sub.current_period_end - timedelta(days=15)) == 1
    assert RenewalNotice.objects.get().late is False


def test_notice_at_14_days_after_a_missed_window_is_sent_and_marked_late(catalog):
    sub = annual_subscriber(catalog)
    assert run_notice_job(sub.current_period_end - timedelta(days=14)) == 1
    assert RenewalNotice.objects.get().late is True


def test_a_subscription_created_inside_the_window_is_told_at_once(catalog):
    """A yearly trial with a card renews in 14 days: the notice goes out when it starts."""
    offer = Offer.objects.create(
        code="annual-trial",
        plan=catalog.annual,
        kind=OfferKind.TRIAL,
        trial_days=14,
        card_required=True,
    )
    reader = factories.user()
    sub = actions.start_trial(reader, offer, now=NOW, card=card(reader))
    assert sub.current_period_end - NOW == timedelta(days=14)
    assert run_notice_job(NOW) == 1
    notice = RenewalNotice.objects.get()
    assert (notice.key, notice.renews_at, notice.late) == ("renewal-0", NOW + timedelta(14), False)
    assert notice.price_minor == 15000


def test_each_period_gets_its_own_notice(catalog):
    sub = annual_subscriber(catalog)
    first_end = sub.current_period_end
    run_notice_job(first_end - timedelta(days=45))
    assert actions.renew(Subscription.objects.get(pk=sub.pk), now=first_end)
    second_end = add_months(first_end, 12)
    assert run_notice_job(second_end - timedelta(days=46)) == 0
    assert run_notice_job(second_end - timedelta(days=45)) == 1
    assert list(RenewalNotice.objects.values_list("key", flat=True)) == ["renewal-1", "renewal-2"]


def test_monthly_plans_get_no_renewal_notice_unless_the_setting_says(catalog, settings):
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    assert run_notice_job(sub.current_period_end - timedelta(days=10)) == 0
    settings.RENEWAL_NOTICE_MONTHLY = True
    assert run_notice_job(sub.current_period_end - timedelta(days=10)) == 1
    assert RenewalNotice.objects.get().price_minor == 1500


def test_cancelled_and_card_less_subscriptions_get_no_notice(catalog):
    sub = annual_subscriber(catalog)
    actions.cancel(sub, now=NOW, actor=sub.user, reason="")
    assert run_notice_job(sub.current_period_end - timedelta(days=30)) == 0
    assert not RenewalNotice.objects.exists()


def test_the_window_is_a_setting(catalog, settings):
    settings.RENEWAL_NOTICE_MAX_DAYS = 30
    sub = annual_subscriber(catalog)
    assert run_notice_job(sub.current_period_end - timedelta(days=31)) == 0
    assert run_notice_job(sub.current_period_end - timedelta(days=30)) == 1


def test_two_runs_racing_send_one_notice_and_one_email(catalog, monkeypatch):
    """The loser of a race (its existence check passed before the winner committed) hits the
    unique constraint: no second row, and its e-mail is rolled back with it."""
    from masthead.core.history import AppendOnlyQuerySet

    sub = annual_subscriber(catalog)
    at = sub.current_period_end - timedelta(days=40)
    winner = actions.send_renewal_notice(sub, now=at)
    assert winner is not None
    monkeypatch.setattr(AppendOnlyQuerySet, "exists", lambda self: False)  # the check raced
    assert actions.send_renewal_notice(sub, now=at + timedelta(seconds=1)) is None
    monkeypatch.undo()
    assert list(RenewalNotice.objects.all()) == [winner]
    assert OutboxEmail.objects.filter(kind="subscriptions.renewal_notice").count() == 1
    assert sub.events.filter(kind=EventKind.RENEWAL_NOTICE).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        RenewalNotice.objects.create(
            subscription=sub,
            kind=NoticeKind.RENEWAL,
            key="renewal-1",
            renews_at=at,
            price_minor=1,
            currency="USD",
            sent_at=at,
            subject="x",
            body="x",
        )


def test_the_scheduler_enqueues_a_notice_once_and_runs_it(catalog):
    from masthead.core.jobs import run_due_jobs

    sub = annual_subscriber(catalog)
    at = sub.current_period_end - timedelta(days=45)
    run_due_jobs(at)
    run_due_jobs(at + timedelta(minutes=5))
    assert RenewalNotice.objects.filter(kind=NoticeKind.RENEWAL).count() == 1
    assert OutboxEmail.objects.filter(kind="subscriptions.renewal_notice").count() == 1


# ---- price changes -----------------------------------------------------------------------


def test_price_change_notice_and_the_price_it_holds_back(catalog, settings):
    early = annual_subscriber(catalog, "early@example.com")
    sooner = annual_subscriber(catalog, "sooner@example.com", at=NOW - timedelta(days=5))
    staff = factories.user("staff@example.com", staff=True)
    # Their first renewals are 10 and 5 days after the change: too soon for the new price.
    announced = early.current_period_end - timedelta(days=10)
    change = actions.change_plan_price(
        catalog.annual, 18000, now=announced, actor=staff, reason="Costs"
    )
    assert (change.old_price_minor, change.new_price_minor, change.actor) == (15000, 18000, staff)
    catalog.annual.refresh_from_db()
    assert catalog.annual.price_minor == 18000
    assert run_price_job(announced) == 2
    assert run_price_job(announced + timedelta(hours=1)) == 0  # once per subscriber
    notice = RenewalNotice.objects.get(subscription=early, kind=NoticeKind.PRICE_CHANGE)
    second_renewal = add_months(early.current_period_end, 12)
    assert (notice.key, notice.price_change, notice.price_minor) == (
        f"price-{change.pk}",
        change,
        18000,
    )
    assert notice.renews_at == second_renewal
    told_sooner = RenewalNotice.objects.get(subscription=sooner, kind=NoticeKind.PRICE_CHANGE)
    assert told_sooner.renews_at == add_months(sooner.current_period_end, 12)
    assert notice.subject == "The price of your subscription to The Meridian Review is changing"
    assert (
        "The price of the Annual plan changes from $150 to $180 a year. For you it applies "
        "from your renewal on October 1, 2028; your renewal on October 1, 2027 is still at "
        "$150."
    ) in notice.body
    # The first renewal, 10 days after the notice: the old price. The next: the new one.
    assert actions.renew(Subscription.objects.get(pk=early.pk), now=early.current_period_end)
    assert actions.renew(Subscription.objects.get(pk=early.pk), now=second_renewal)
    charges = LedgerEntry.objects.filter(subscription=early, kind=EntryKind.CHARGE)
    assert list(charges.order_by("period_number").values_list("amount_minor", flat=True)) == [
        15000,
        15000,
        18000,
    ]


def test_new_price_applies_at_the_first_renewal_30_days_after_the_notice(catalog):
    sub = annual_subscriber(catalog)
    announced = NOW + timedelta(days=100)
    actions.change_plan_price(catalog.annual, 18000, now=announced, actor=None)
    run_price_job(announced)
    notice = RenewalNotice.objects.get(kind=NoticeKind.PRICE_CHANGE)
    assert notice.renews_at == sub.current_period_end
    assert "For you it applies from your renewal on October 1, 2027." in notice.body
    assert actions.renew(Subscription.objects.get(pk=sub.pk), now=sub.current_period_end)
    assert sub.ledger.order_by("-pk").first().amount_minor == 18000


def test_a_subscriber_never_told_keeps_the_old_price(catalog):
    sub = annual_subscriber(catalog)
    actions.change_plan_price(catalog.annual, 18000, now=NOW + timedelta(days=100), actor=None)
    # the notice job never ran: the renewal cannot charge the new price
    assert actions.renew(Subscription.objects.get(pk=sub.pk), now=sub.current_period_end)
    assert sub.ledger.order_by("-pk").first().amount_minor == 15000


def test_readers_who_join_after_a_change_pay_it_and_get_no_notice(catalog, client, at_now):
    actions.change_plan_price(catalog.annual, 18000, now=NOW, actor=None)
    at_now["now"] = NOW + timedelta(days=1)
    reader = factories.user()
    client.force_login(reader)
    url = "/checkout/plan/annual/"
    assert "renews automatically at $180 a year" in client.get(url).content.decode()
    client.post(url, {"checkout_key": "n" * 32, **GOOD_CARD, **consent_for(client, url)})
    sub = Subscription.objects.get(user=reader)
    assert sub.ledger.get().amount_minor == 18000
    assert run_price_job(NOW + timedelta(days=2)) == 0
    assert actions.renew(Subscription.objects.get(pk=sub.pk), now=sub.current_period_end)
    assert sub.ledger.order_by("-pk").first().amount_minor == 18000


def test_staff_change_a_price_only_through_the_price_form(client, catalog):
    staff = factories.user("editor@example.com", staff=True)
    client.force_login(staff)
    form = client.get(f"/django-admin/subscriptions/plan/{catalog.annual.pk}/change/")
    assert 'name="price_minor"' not in form.content.decode()  # read-only once sold
    response = client.post(
        f"/django-admin/subscriptions/plan/{catalog.annual.pk}/price/",
        {"new_price_minor": 18000, "reason": "Print costs"},
    )
    assert response.status_code == 302
    change = PlanPriceChange.objects.get()
    assert (change.plan, change.new_price_minor, change.actor, change.reason) == (
        catalog.annual,
        18000,
        staff,
        "Print costs",
    )
    same = client.post(
        f"/django-admin/subscriptions/plan/{catalog.annual.pk}/price/",
        {"new_price_minor": 18000, "reason": "again"},
    )
    assert "The plan already has this price." in same.content.decode()
    reader = factories.user()
    client.force_login(reader)
    refused = client.post(
        f"/django-admin/subscriptions/plan/{catalog.annual.pk}/price/",
        {"new_price_minor": 1, "reason": "x"},
    )
    assert refused.status_code == 302 and "/login/" in refused["Location"]
    assert PlanPriceChange.objects.count() == 1


# ---- cancel online in as few steps as subscribing ----------------------------------------


def test_cancelling_takes_no_more_steps_than_subscribing(client, catalog):
    """A step is one link followed or one form submitted, from the offers page to a paid
    subscription, and from the account page to a cancelled one."""
    reader = factories.user()
    client.force_login(reader)
    subscribe_steps = 0
    offers = client.get("/offers/").content.decode()
    link = re.search(r'href="(/checkout/plan/annual/)"', offers)[1]
    subscribe_steps += 1  # follow "Subscribe to Annual"
    form_page = client.get(link)
    assert form_page.status_code == 200
    subscribe_steps += 1  # tick the box, fill the card, submit
    client.post(link, {"checkout_key": "s" * 32, **GOOD_CARD, **consent_for(client, link)})
    assert Subscription.objects.get(user=reader).status == Status.ACTIVE

    cancel_steps = 0
    account = client.get("/account/subscription/").content.decode()
    form = re.search(
        r'<form method="post" action="(/account/subscription/cancel/)">(.*?)</form>', account, re.S
    )
    assert form is not None
    # A new subscriber gets no save offer: the account page's form is the confirm. The
    # reason is optional: nothing to fill in but the CSRF token, then the button.
    names = re.findall(r"<input[^>]*name=\"([^\"]+)\"", form[2])
    assert set(names) == {"csrfmiddlewaretoken", "reason"}
    assert "required" not in form[2] and "checked" not in form[2]
    assert "Cancel subscription</button>" in form[2]
    cancel_steps += 1
    client.post(form[1])
    assert Subscription.objects.get(user=reader).status == Status.CANCELLED
    assert (cancel_steps, subscribe_steps) == (1, 2)
    assert cancel_steps <= subscribe_steps


# ---- the evidence bundle -----------------------------------------------------------------


def test_evidence_bundle_holds_terms_consent_notices_charges_and_cancellation(client, catalog):
    reader = factories.user("disputing@example.com")
    client.force_login(reader)
    url = "/checkout/plan/annual/"
    client.post(
        url,
        {"checkout_key": "e" * 32, **GOOD_CARD, **consent_for(client, url)},
        HTTP_USER_AGENT=UA,
    )
    sub = Subscription.objects.get(user=reader)
    run_notice_job(sub.current_period_end - timedelta(days=45))
    staff = factories.user("editor@example.com", staff=True)
    charge = sub.ledger.get()
    actions.refund(
        charge, now=NOW + timedelta(days=2), actor=staff, reason="Goodwill", amount_minor=5000
    )
    actions.cancel(
        Subscription.objects.get(pk=sub.pk),
        now=NOW + timedelta(days=3),
        actor=reader,
        reason="By the reader",
    )
    client.force_login(staff)
    response = client.get(f"/django-admin/subscriptions/subscription/{sub.pk}/evidence.json")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="evidence-{sub.pk}.json"'
    assert "public" not in response["Cache-Control"]
    bundle = json.loads(response.content)
    consent = ConsentRecord.objects.get()
    notice = RenewalNotice.objects.get()
    refund = sub.ledger.get(kind=EntryKind.REFUND)
    assert bundle["format"] == "masthead.evidence/1"
    assert bundle["generated_at"] == NOW.isoformat()
    assert bundle["subscription"] == {
        "id": sub.pk,
        "reader": {"id": reader.pk, "email": "disputing@example.com"},
        "plan": {
            "slug": "annual",
            "name": "Annual",
            "interval": "year",
            "price_minor": 15000,
            "currency": "USD",
        },
        "offer": None,
        "status": "cancelled",
        "auto_renew": False,
        "started_at": NOW.isoformat(),
        "current_period_start": NOW.isoformat(),
        "current_period_end": sub.current_period_end.isoformat(),
        "provider": "test",
        "provider_ref": "",
    }
    assert bundle["consent"] == [
        {
            "id": consent.pk,
            "consented_at": NOW.isoformat(),
            "terms_text": ANNUAL_TERMS,
            "terms_sha256": hashlib.sha256(ANNUAL_TERMS.encode()).hexdigest(),
            "plan": "annual",
            "offer": None,
            "network": "127.0.0.0/24",
            "user_agent": UA,
            "checkout_key": "e" * 32,
        }
    ]
    assert bundle["notices"] == [
        {
            "id": notice.pk,
            "kind": "renewal",
            "key": "renewal-1",
            "sent_at": (sub.current_period_end - timedelta(days=45)).isoformat(),
            "renews_at": sub.current_period_end.isoformat(),
            "price_minor": 15000,
            "currency": "USD",
            "late": False,
            "to": "disputing@example.com",
            "subject": notice.subject,
            "body": notice.body,
        }
    ]
    assert [(e["kind"], e["amount_minor"], e["refund_of"]) for e in bundle["ledger"]] == [
        ("charge", 15000, None),
        ("refund", -5000, charge.pk),
    ]
    assert bundle["ledger"][1] == {
        "id": refund.pk,
        "kind": "refund",
        "at": (NOW + timedelta(days=2)).isoformat(),
        "amount_minor": -5000,
        "currency": "USD",
        "period_number": refund.period_number,
        "period_start": refund.period_start and refund.period_start.isoformat(),
        "period_end": refund.period_end and refund.period_end.isoformat(),
        "description": refund.description,
        "refund_of": charge.pk,
        "reason": "Goodwill",
    }
    assert bundle["cancellation"] == {
        "cancelled_at": (NOW + timedelta(days=3)).isoformat(),
        "ended_at": None,
        "events": [
            {
                "at": (NOW + timedelta(days=3)).isoformat(),
                "kind": "cancelled",
                "by": "disputing@example.com",
                "reason": "By the reader",
            }
        ],
    }
    assert [h["kind"] for h in bundle["history"]] == [
        "subscribed",
        "refunded",
        "cancelled",
        "renewal_notice",
    ]
    page = client.get(f"/django-admin/subscriptions/subscription/{sub.pk}/evidence/")
    html = page.content.decode()
    assert page.status_code == 200
    assert ANNUAL_TERMS in html and "127.0.0.0/24" in html and "Goodwill" in html
    assert "renewal-1" in html and "By the reader" in html


def test_evidence_is_for_staff_only(client, catalog):
    sub = annual_subscriber(catalog, "owner@example.com")
    urls = [
        f"/django-admin/subscriptions/subscription/{sub.pk}/evidence.json",
        f"/django-admin/subscriptions/subscription/{sub.pk}/evidence/",
    ]
    for url in urls:  # anonymous
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(sub.user)  # the reader themself: not staff
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    desk = factories.user("desk@example.com")
    desk.is_staff = True
    desk.save()
    client.force_login(desk)  # staff without the permission to view subscriptions
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/django-admin/"
    desk.user_permissions.add(Permission.objects.get(codename="view_subscription"))
    client.force_login(desk)
    for url in urls:
        assert client.get(url).status_code == 200
    missing = client.get("/django-admin/subscriptions/subscription/999999/evidence.json")
    assert missing.status_code == 404


# ---- consent on a plan change ------------------------------------------------------------

CANCEL_TEXT = (
    "Cancel any time from your account page (Your account, then Subscription); you keep "
    "access until the end of the period you paid for."
)


def test_a_subscriber_changing_plan_consents_to_the_new_renewal_terms(client, catalog):
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    client.force_login(reader)
    url = "/account/subscription/change/annual/"
    preview = actions.preview_plan_change(sub, catalog.annual, now=NOW)
    amounts = {
        "immediate": "1",
        "charge_minor": str(preview.charge_minor),
        "credit_minor": str(preview.credit_minor),
    }
    refused = client.post(url, amounts)
    assert "Tick the box to agree to the new renewal terms." in refused.content.decode()
    assert Subscription.objects.get(pk=sub.pk).plan == catalog.monthly
    assert LedgerEntry.objects.count() == 1
    assert not ConsentRecord.objects.exists()
    client.post(url, {**amounts, **consent_for(client, url)}, HTTP_USER_AGENT=UA)
    assert Subscription.objects.get(pk=sub.pk).plan == catalog.annual
    row = ConsentRecord.objects.get()
    assert (row.subscription_id, row.plan, row.offer, row.user_agent) == (
        sub.pk,
        catalog.annual,
        None,
        UA,
    )
    assert row.terms_text == (
        f"You pay {preview.charge_text} today and move to Annual now. Your subscription then "
        "renews automatically at $150 a year, charged to your card every year until you "
        f"cancel. {CANCEL_TEXT}"
    )


def test_a_scheduled_downgrade_records_its_terms(client, catalog):
    sub = annual_subscriber(catalog)
    client.force_login(sub.user)
    url = "/account/subscription/change/monthly/"
    client.post(
        url,
        {"immediate": "0", "charge_minor": "0", "credit_minor": "0", **consent_for(client, url)},
    )
    assert Subscription.objects.get(pk=sub.pk).next_plan == catalog.monthly
    assert ConsentRecord.objects.get().terms_text == (
        "Nothing is charged today; you move to Monthly on October 1, 2027. From October 1, "
        "2027 your subscription renews automatically at $15 a month, charged to your card "
        f"every month until you cancel. {CANCEL_TEXT}"
    )
