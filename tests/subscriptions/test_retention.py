"""Retention (decision 0035): pause and resume, the save-offer rules, each offer's effect on
money and state, the cancellation flow's history rows and pages, and the win-back e-mail."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from masthead.access.decision import Level, Reason, decide
from masthead.billing.models import EntryKind, LedgerEntry
from masthead.core import clock
from masthead.core.models import OutboxEmail
from masthead.metering.identity import ReaderIdentity
from masthead.newsroom.models import AccessLevel
from masthead.subscriptions import actions, jobs, retention
from masthead.subscriptions.actions.transitions import allowed
from masthead.subscriptions.entitlements import entitlement_for
from masthead.subscriptions.models import (
    EventKind,
    Interval,
    Offer,
    Plan,
    RenewalNotice,
    Status,
    Subscription,
    SubscriptionEvent,
)
from tests import factories
from tests.metering.support import fresh_caches, store  # noqa: F401
from tests.subscriptions.conftest import BENEFITS, NOW, card

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen(monkeypatch):
    """The site's clock stands at NOW (the pages read `clock.now()`)."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return NOW


def events(sub: Subscription) -> list[str]:
    return list(SubscriptionEvent.objects.filter(subscription=sub).values_list("kind", flat=True))


def charges(sub: Subscription) -> list[tuple[int | None, int]]:
    return list(
        LedgerEntry.objects.filter(subscription=sub, kind=EntryKind.CHARGE)
        .order_by("at", "pk")
        .values_list("period_number", "amount_minor")
    )


def subscriber(catalog, *, months_ago: int = 0, plan=None, email: str | None = None):
    """A monthly subscriber who joined `months_ago` months before NOW, renewed up to NOW."""
    reader = factories.user(email)
    start = actions.add_months(NOW, -months_ago)
    sub = actions.subscribe(
        reader, plan=plan or catalog.monthly, card=card(reader, now=start), now=start
    )
    actions.advance(sub, now=NOW)
    sub.refresh_from_db()
    return sub


def started(sub: Subscription, reason: str = "", at: datetime = NOW):
    """Step 1 of the flow (the reason), returning the save offer it shows."""
    return actions.start_cancellation(sub, reason=reason, now=at)


# ---------------------------------------------------------------- the transition table


def test_the_table_allows_pausing_only_an_active_subscription_and_unpausing_a_paused_one():
    assert allowed(EventKind.PAUSED, Status.ACTIVE, Status.PAUSED)
    for status in (Status.TRIALING, Status.PAST_DUE, Status.CANCELLED, Status.EXPIRED):
        assert not allowed(EventKind.PAUSED, status, Status.PAUSED)
    assert allowed(EventKind.UNPAUSED, Status.PAUSED, Status.ACTIVE)
    assert not allowed(EventKind.UNPAUSED, Status.PAUSED, Status.TRIALING)
    assert not allowed(EventKind.UNPAUSED, Status.ACTIVE, Status.ACTIVE)
    assert allowed(EventKind.CANCELLED, Status.PAUSED, Status.CANCELLED)
    assert allowed(EventKind.EXPIRED, Status.PAUSED, Status.EXPIRED)
    # A paused subscription renews nothing and takes no payment failure.
    assert not allowed(EventKind.RENEWED, Status.PAUSED, Status.ACTIVE)
    assert not allowed(EventKind.PAYMENT_FAILED, Status.PAUSED, Status.PAST_DUE)


def test_an_unpause_of_an_active_subscription_is_refused_and_writes_nothing(catalog):
    sub = subscriber(catalog)
    before = events(sub)
    with pytest.raises(actions.SubscriptionError, match="not paused"):
        actions.unpause(sub, now=NOW)
    with pytest.raises(actions.IllegalTransition):
        actions.transition(sub, Status.ACTIVE, EventKind.UNPAUSED, at=NOW)
    assert events(sub) == before


# ---------------------------------------------------------------- pause and resume


def test_a_pause_moves_the_renewal_date_by_the_paused_time_and_charges_nothing(catalog):
    sub = subscriber(catalog)  # paid Oct 1 .. Nov 1
    at = NOW + timedelta(days=10)  # Oct 11
    sub = actions.pause(sub, 2, now=at)
    assert sub.status == Status.PAUSED
    assert sub.paused_until == datetime(2026, 12, 11, 16, 0, tzinfo=UTC)
    assert sub.current_period_end == datetime(2026, 11, 1, 16, 0, tzinfo=UTC) + (
        sub.paused_until - at
    )
    row = SubscriptionEvent.objects.get(subscription=sub, kind=EventKind.PAUSED)
    assert (row.from_status, row.to_status, row.data["months"]) == ("active", "paused", 2)
    # The old renewal date passes: nothing is charged, and the reader reads no more.
    actions.advance(sub, now=datetime(2026, 11, 20, tzinfo=UTC))
    sub.refresh_from_db()
    assert sub.status == Status.PAUSED and charges(sub) == [(1, 1500)]
    assert not entitlement_for(sub.user_id, now=datetime(2026, 11, 20, tzinfo=UTC)).reads_everything


def test_the_job_resumes_a_pause_at_its_end_exactly_once_then_renews_at_the_moved_date(
    catalog, django_capture_on_commit_callbacks
):
    # Paused Oct 1 to Nov 1 (31 days): the renewal moves from Nov 1 by 31 days, to Dec 2.
    sub = actions.pause(subscriber(catalog), 1, now=NOW)
    assert sub.current_period_end == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    later = datetime(2026, 11, 2, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.run_lifecycle(later) == 1
        assert jobs.run_lifecycle(later) == 0  # idempotent
        assert actions.end_pause(sub, now=later) is False
    sub.refresh_from_db()
    assert (sub.status, sub.paused_until, sub.paused_at) == (Status.ACTIVE, None, None)
    unpaused = SubscriptionEvent.objects.filter(subscription=sub, kind=EventKind.UNPAUSED)
    assert [(e.at, e.data["early"]) for e in unpaused] == [
        (datetime(2026, 11, 1, 16, 0, tzinfo=UTC), False)
    ]
    assert sub.current_period_end == datetime(2026, 12, 2, 16, 0, tzinfo=UTC)
    assert actions.advance(sub, now=datetime(2026, 12, 2, 17, 0, tzinfo=UTC)) == 1
    assert charges(sub) == [(1, 1500), (2, 1500)]
    kinds = list(OutboxEmail.objects.values_list("kind", flat=True))
    assert kinds.count("subscriptions.unpaused") == 1


def test_resuming_early_gives_back_the_pause_time_not_used(catalog):
    sub = actions.pause(subscriber(catalog), 3, now=NOW)  # until Jan 1
    assert sub.current_period_end == datetime(2027, 2, 1, 16, 0, tzinfo=UTC)
    sub = actions.unpause(sub, now=NOW + timedelta(days=10))
    assert sub.status == Status.ACTIVE
    # Paused 10 days: the renewal moved from Nov 1 by exactly 10 days.
    assert sub.current_period_end == datetime(2026, 11, 11, 16, 0, tzinfo=UTC)
    row = SubscriptionEvent.objects.get(subscription=sub, kind=EventKind.UNPAUSED)
    assert row.data["early"] is True and row.actor is None
    assert entitlement_for(sub.user_id, now=NOW + timedelta(days=10)).reads_everything


@pytest.mark.parametrize("months", [0, 4, -1])
def test_a_pause_outside_one_to_three_months_is_refused(catalog, months):
    sub = subscriber(catalog)
    with pytest.raises(actions.NotEligible, match="1 to 3 months"):
        actions.pause(sub, months, now=NOW)
    assert events(sub) == [EventKind.SUBSCRIBED]


def test_only_an_active_renewing_subscription_may_pause(catalog):
    trialist = actions.start_trial(factories.user(), catalog.trial, now=NOW)
    with pytest.raises(actions.NotEligible, match="active, renewing"):
        actions.pause(trialist, 1, now=NOW)
    cancelled = actions.cancel(subscriber(catalog), now=NOW)
    with pytest.raises(actions.NotEligible):
        actions.pause(cancelled, 1, now=NOW)
    paused = actions.pause(subscriber(catalog), 1, now=NOW)
    with pytest.raises(actions.NotEligible):  # a second submit of the same pause
        actions.pause(paused, 1, now=NOW)
    assert events(paused).count(EventKind.PAUSED) == 1


def test_the_pause_end_gives_access_back_even_before_the_job_runs(catalog):
    sub = actions.pause(subscriber(catalog), 1, now=NOW)
    during = entitlement_for(sub.user_id, now=NOW + timedelta(days=3))
    assert (during.status, during.reads_everything, during.paused_until) == (
        "paused",
        False,
        sub.paused_until,
    )
    after = entitlement_for(sub.user_id, now=sub.paused_until + timedelta(minutes=1))
    assert after.reads_everything is True


@pytest.mark.usefixtures("fresh_caches")
def test_a_pause_is_seen_on_the_next_request_through_the_subscription_cache(catalog, settings):
    settings.CACHE_SUBSCRIPTIONS = True
    sub = subscriber(catalog)
    assert entitlement_for(sub.user_id, now=NOW).reads_everything  # now cached
    actions.pause(sub, 1, now=NOW)
    assert entitlement_for(sub.user_id, now=NOW).status == "paused"
    actions.unpause(sub, now=NOW + timedelta(hours=1))
    assert entitlement_for(sub.user_id, now=NOW + timedelta(hours=1)).reads_everything


def test_cancelling_a_paused_subscription_ends_the_pause_and_keeps_the_paid_time(catalog):
    sub = actions.pause(subscriber(catalog), 2, now=NOW + timedelta(days=5))
    sub = actions.cancel(sub, now=NOW + timedelta(days=15), reason="By the reader")
    assert (sub.status, sub.paused_until, sub.auto_renew) == (Status.CANCELLED, None, False)
    # Paused 10 days: access until Nov 1 + 10 days.
    assert sub.current_period_end == datetime(2026, 11, 11, 16, 0, tzinfo=UTC)
    assert events(sub)[-1] == EventKind.CANCELLED


# ---------------------------------------------------------------- access while paused


@pytest.fixture
def matrix(catalog):
    """One real reader in each state, by name."""
    readers = {"anonymous": None, "registered": factories.user()}
    readers["trialist"] = actions.start_trial(factories.user(), catalog.trial, now=NOW).user
    readers["subscriber"] = subscriber(catalog).user
    lapsed = subscriber(catalog)
    actions.cancel(lapsed, now=NOW)
    actions.advance(lapsed, now=NOW + timedelta(days=40))
    readers["lapsed"] = lapsed.user
    past_due = factories.user()
    from masthead.billing.providers import TEST_CARD_FAILS_ON_RENEWAL

    due = actions.subscribe(
        past_due, plan=catalog.monthly, card=card(past_due, TEST_CARD_FAILS_ON_RENEWAL), now=NOW
    )
    actions.advance(due, now=NOW + timedelta(days=31))
    readers["past due"] = past_due
    readers["paused"] = actions.pause(subscriber(catalog), 2, now=NOW).user
    readers["staff"] = factories.user(staff=True)
    return readers


def identity(user) -> ReaderIdentity:
    if user is None:
        return ReaderIdentity(user_id=None, anonymous_id="a" * 32, fresh=True)
    return ReaderIdentity(user_id=user.pk, anonymous_id=None, is_staff=user.is_staff)


@pytest.mark.usefixtures("store")
def test_the_permission_matrix_with_a_paused_reader(matrix):
    at = NOW + timedelta(days=32)  # the past-due reader is in their grace period
    for sub in Subscription.objects.all():
        actions.advance(sub, now=at)  # the subscriber renews; the paused one does not
    metered = factories.article("Metered", access_level=AccessLevel.METERED)
    exclusive = factories.article("Exclusive", access_level=AccessLevel.SUBSCRIBERS)
    got = {
        (who, kind): (d.level, d.reason)
        for who, user in matrix.items()
        for kind, article in (("metered", metered), ("subscribers", exclusive))
        for d in [decide(identity(user), article, now=at)]
    }
    P, F = Level.PREVIEW, Level.FULL
    assert got == {
        ("anonymous", "metered"): (F, Reason.METERED),
        ("anonymous", "subscribers"): (P, Reason.SUBSCRIBERS_ONLY),
        ("registered", "metered"): (F, Reason.METERED),
        ("registered", "subscribers"): (P, Reason.SUBSCRIBERS_ONLY),
        ("trialist", "metered"): (P, Reason.LAPSED_TRIAL),  # the 14-day trial has ended
        ("trialist", "subscribers"): (P, Reason.LAPSED_TRIAL),
        ("subscriber", "metered"): (F, Reason.SUBSCRIBER),
        ("subscriber", "subscribers"): (F, Reason.SUBSCRIBER),
        ("lapsed", "metered"): (P, Reason.LAPSED_SUBSCRIPTION),
        ("lapsed", "subscribers"): (P, Reason.LAPSED_SUBSCRIPTION),
        ("past due", "metered"): (F, Reason.SUBSCRIBER),
        ("past due", "subscribers"): (F, Reason.SUBSCRIBER),
        ("paused", "metered"): (P, Reason.PAUSED),
        ("paused", "subscribers"): (P, Reason.PAUSED),
        ("staff", "metered"): (F, Reason.STAFF),
        ("staff", "subscribers"): (F, Reason.STAFF),
    }
    paused = decide(identity(matrix["paused"]), exclusive, now=at)
    assert paused.message == "Your subscription is paused until December 1, 2026"
    assert paused.counts_read is False


def test_the_paused_paywall_says_until_when_and_offers_resume(client, catalog, frozen):
    sub = actions.pause(subscriber(catalog), 2, now=NOW)
    client.force_login(sub.user)
    exclusive = factories.article(
        "Exclusive",
        access_level=AccessLevel.SUBSCRIBERS,
        body=[
            ("paragraph", "<p>Lead one for everyone.</p>"),
            ("paragraph", "<p>Lead two for everyone.</p>"),
            ("paragraph", "<p>The paused reader must not see this line.</p>"),
        ],
    )
    html = client.get(exclusive.url).content.decode()
    assert "Your subscription is paused until" in html
    assert 'href="/account/subscription/#pause">Resume now</a>' in html
    assert "must not see this line" not in html


# ---------------------------------------------------------------- the save-offer rules


@pytest.fixture
def basic(catalog):
    return Plan.objects.create(
        name="Basic", slug="basic", price_minor=900, interval=Interval.MONTH, benefits=BENEFITS
    )


@pytest.mark.parametrize(
    ("months", "reason", "offer"),
    [
        (0, "", None),  # a new subscriber: no offer (tenure)
        (1, "taking_a_break", None),  # pause needs 2 months
        (2, "taking_a_break", "pause"),
        (2, "not_reading", "pause"),
        (2, "too_expensive", None),  # downgrade needs 3 months
        (3, "too_expensive", "downgrade"),
        (5, "", None),
        (6, "", "pause"),  # the catch-all pause
        (6, "coverage", "pause"),
        (12, "", "free_month"),
        (12, "taking_a_break", "pause"),  # the reason's rule comes first
    ],
)
def test_the_rules_table_by_tenure_and_reason(catalog, basic, months, reason, offer):
    sub = subscriber(catalog, months_ago=months)
    chosen = retention.choose(sub, reason, now=NOW)
    assert (chosen.kind if chosen else None) == offer


def test_the_discount_follows_the_downgrade_when_there_is_no_cheaper_plan(catalog):
    sub = subscriber(catalog, months_ago=6)
    chosen = retention.choose(sub, "too_expensive", now=NOW)
    assert (chosen.kind, chosen.percent, chosen.renewals) == ("discount", 50, 3)
    assert chosen.detail == "Pay $7.50 instead of $15 for the next 3 renewals."


def test_no_save_offer_in_the_cooldown_after_one_was_accepted(catalog, settings):
    sub = subscriber(catalog, months_ago=13)
    assert started(sub).kind == "free_month"
    actions.accept_save_offer(sub, "free_month", now=NOW)
    assert retention.choose(sub, "", now=NOW + timedelta(days=1)) is None
    assert retention.might_offer(sub, now=NOW + timedelta(days=1)) is False
    later = actions.add_months(NOW, 12) + timedelta(days=1)
    sub.refresh_from_db()
    assert retention.accepted_recently(sub.user_id, later) is False
    settings.SAVE_OFFER_COOLDOWN_MONTHS = 24
    assert retention.accepted_recently(sub.user_id, later) is True


def test_rules_are_settings_data(catalog, settings):
    settings.SAVE_OFFER_RULES = [{"offer": "free_month", "reasons": [], "min_tenure_months": 0}]
    assert retention.choose(subscriber(catalog), "", now=NOW).kind == "free_month"
    settings.SAVE_OFFER_RULES = [{"offer": "refund", "min_tenure_months": 0}]
    with pytest.raises(ValueError, match="unknown offer"):
        retention.rules()
    settings.SAVE_OFFER_RULES = [{"offer": "discount", "percent": 100, "renewals": 1}]
    with pytest.raises(ValueError, match="percent"):
        retention.rules()


def test_trialists_past_due_and_paused_readers_get_no_save_offer(catalog):
    trialist = actions.start_trial(factories.user(), catalog.trial, now=NOW)
    settings_all = [{"offer": "free_month", "reasons": [], "min_tenure_months": 0}]
    from django.test import override_settings

    with override_settings(SAVE_OFFER_RULES=settings_all):
        assert retention.choose(trialist, "", now=NOW) is None
        paused = actions.pause(subscriber(catalog), 1, now=NOW)
        assert retention.choose(paused, "", now=NOW) is None


# ---------------------------------------------------------------- each offer's effect


def test_accepting_the_discount_charges_half_for_three_renewals_then_the_full_price(catalog):
    sub = subscriber(catalog, months_ago=6)  # periods 1..7 paid at 1500
    assert started(sub, "too_expensive").kind == "discount"
    sub = actions.accept_save_offer(sub, "discount", now=NOW)
    assert (sub.status, sub.discount_percent, sub.discount_renewals) == (Status.ACTIVE, 50, 3)
    assert events(sub)[-2:] == [EventKind.CANCEL_REASON, EventKind.SAVE_OFFER_ACCEPTED]
    actions.advance(sub, now=actions.add_months(NOW, 4) + timedelta(hours=1))
    sub.refresh_from_db()
    assert [amount for _, amount in charges(sub)][-5:] == [1500, 750, 750, 750, 1500]
    assert (sub.discount_percent, sub.discount_renewals) == (0, 0)


def test_accepting_a_free_month_moves_the_renewal_with_a_zero_charge_in_the_ledger(catalog):
    sub = subscriber(catalog, months_ago=12)
    assert sub.period_number == 13 and sub.current_period_end == datetime(
        2026, 11, 1, 16, 0, tzinfo=UTC
    )
    started(sub)
    sub = actions.accept_save_offer(sub, "free_month", now=NOW)
    assert sub.current_period_end == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    assert charges(sub)[-1] == (14, 0)
    free = LedgerEntry.objects.get(subscription=sub, period_number=14)
    assert (free.period_start, free.period_end) == (
        datetime(2026, 11, 1, 16, 0, tzinfo=UTC),
        datetime(2026, 12, 1, 16, 0, tzinfo=UTC),
    )
    # Nothing is charged on the old date; the next renewal is period 15 on the new one.
    assert actions.advance(sub, now=datetime(2026, 11, 15, tzinfo=UTC)) == 0
    assert actions.advance(sub, now=datetime(2026, 12, 1, 17, 0, tzinfo=UTC)) == 1
    assert charges(sub)[-2:] == [(14, 0), (15, 1500)]


def test_accepting_the_downgrade_schedules_the_cheaper_plan_for_the_renewal(catalog, basic):
    sub = subscriber(catalog, months_ago=3)
    assert started(sub, "too_expensive").kind == "downgrade"
    sub = actions.accept_save_offer(sub, "downgrade", now=NOW)
    assert (sub.plan.slug, sub.next_plan.slug) == ("monthly", "basic")
    assert charges(sub)[-1] == (4, 1500)  # nothing charged now
    actions.advance(sub, now=datetime(2026, 11, 1, 17, 0, tzinfo=UTC))
    sub.refresh_from_db()
    assert sub.plan.slug == "basic" and charges(sub)[-1] == (5, 900)


def test_accepting_the_pause_offer_pauses_and_records_it_accepted(catalog):
    sub = subscriber(catalog, months_ago=2)
    assert started(sub, "taking_a_break").kind == "pause"
    sub = actions.accept_save_offer(sub, "pause", now=NOW, months=3)
    assert sub.status == Status.PAUSED
    assert events(sub)[-3:] == [
        EventKind.CANCEL_REASON,
        EventKind.PAUSED,
        EventKind.SAVE_OFFER_ACCEPTED,
    ]
    assert charges(sub) == [(1, 1500), (2, 1500), (3, 1500)]


def test_an_offer_not_shown_or_taken_twice_is_refused(catalog):
    sub = subscriber(catalog, months_ago=13)
    with pytest.raises(actions.NotEligible):  # never shown: no step 1
        actions.accept_save_offer(sub, "free_month", now=NOW)
    started(sub)
    with pytest.raises(actions.NotEligible):  # shown the free month, not a discount
        actions.accept_save_offer(sub, "discount", now=NOW)
    actions.accept_save_offer(sub, "free_month", now=NOW)
    with pytest.raises(actions.NotEligible):  # twice
        actions.accept_save_offer(sub, "free_month", now=NOW)
    assert charges(sub)[-1] == (15, 0) and len(charges(sub)) == 15


def test_declining_records_the_reason_shown_offer_and_declined_row(catalog):
    sub = subscriber(catalog, months_ago=13)
    actions.start_cancellation(sub, reason="other", detail="  Moving abroad  ", now=NOW)
    actions.cancel(sub, now=NOW, reason="By the reader", declined_offer="free_month")
    rows = list(
        SubscriptionEvent.objects.filter(subscription=sub)
        .exclude(kind__in=[EventKind.SUBSCRIBED, EventKind.RENEWED])
        .values_list("kind", "reason", "data")
    )
    plan = {"plan_id": sub.plan_id}
    assert rows == [
        (
            EventKind.CANCEL_REASON,
            "Moving abroad",
            {**plan, "reason": "other", "offer": "free_month"},
        ),
        (EventKind.SAVE_OFFER_DECLINED, "", {**plan, "offer": "free_month"}),
        (EventKind.CANCELLED, "By the reader", plan),
    ]


def test_an_unknown_reason_is_recorded_as_none(catalog):
    sub = subscriber(catalog)
    assert actions.start_cancellation(sub, reason="<script>", detail="x", now=NOW) is None
    row = SubscriptionEvent.objects.get(subscription=sub, kind=EventKind.CANCEL_REASON)
    assert (row.data["reason"], row.reason, row.data["offer"]) == ("", "", "")


# ---------------------------------------------------------------- renewal notices follow


def test_a_pause_moves_the_renewal_notice_window_with_the_renewal_date(catalog):
    reader = factories.user("annual@example.com")
    sub = actions.subscribe(reader, plan=catalog.annual, card=card(reader), now=NOW)
    renewal = datetime(2027, 10, 1, 16, 0, tzinfo=UTC)
    first = actions.send_renewal_notice(sub, now=renewal - timedelta(days=45))
    assert first is not None and first.renews_at == renewal
    sub = actions.pause(sub, 2, now=renewal - timedelta(days=40))
    moved = datetime(2027, 12, 1, 16, 0, tzinfo=UTC)
    assert sub.current_period_end == moved
    from tests.subscriptions.test_renewals import run_notice_job

    assert run_notice_job(moved - timedelta(days=46)) == 0  # not before the moved window
    assert run_notice_job(moved - timedelta(days=45)) == 1  # sent for the moved date
    assert run_notice_job(moved - timedelta(days=44)) == 0  # once
    notices = RenewalNotice.objects.filter(subscription=sub).order_by("sent_at")
    assert [n.renews_at for n in notices] == [renewal, moved]
    assert notices[1].key == "renewal-1-m1"


# ---------------------------------------------------------------- the pages


def test_cancel_with_a_save_offer_takes_two_steps_from_the_account_page(client, catalog, frozen):
    sub = subscriber(catalog, months_ago=13, email="loyal-page@example.com")
    client.force_login(sub.user)
    account = client.get("/account/subscription/").content.decode()
    form = re.search(
        r'<form method="post" action="(/account/subscription/cancel/reason/)">', account
    )
    assert form is not None and "Continue to cancel</button>" in account
    steps = 1  # submit the reason form (the reason is optional)
    page = client.post(form[1], {"reason": ""}, follow=True)
    html = page.content.decode()
    assert page.redirect_chain[-1][0] == "/account/subscription/cancel/confirm/"
    assert "Before you go: A month on us" in html
    assert "You keep full access until <strong>November 1, 2026</strong>" in html
    assert '<input type="hidden" name="declined_offer" value="free_month">' in html
    steps += 1  # "No thanks, cancel my subscription"
    client.post("/account/subscription/cancel/", {"declined_offer": "free_month"})
    sub.refresh_from_db()
    assert sub.status == Status.CANCELLED
    assert steps <= 2  # subscribing takes 2 (test_renewals counts them)
    assert events(sub)[-3:] == [
        EventKind.CANCEL_REASON,
        EventKind.SAVE_OFFER_DECLINED,
        EventKind.CANCELLED,
    ]


def test_accepting_the_offer_on_the_confirm_page(client, catalog, frozen):
    sub = subscriber(catalog, months_ago=13)
    client.force_login(sub.user)
    client.post("/account/subscription/cancel/reason/", {"reason": "taking_a_break"})
    html = client.get("/account/subscription/cancel/confirm/").content.decode()
    assert 'name="months" value="3">Pause for 3 months</button>' in html
    response = client.post(
        "/account/subscription/cancel/offer/", {"offer": "pause", "months": "3"}, follow=True
    )
    assert "Your subscription is paused until January 1, 2027" in response.content.decode()
    sub.refresh_from_db()
    assert sub.status == Status.PAUSED


def test_the_confirm_page_is_reachable_without_step_one_and_shows_no_offer(client, catalog, frozen):
    sub = subscriber(catalog, months_ago=13)
    client.force_login(sub.user)
    html = client.get("/account/subscription/cancel/confirm/").content.decode()
    assert "Before you go" not in html and "Cancel my subscription</button>" in html


def test_pause_and_resume_from_the_account_page(client, catalog, frozen):
    sub = subscriber(catalog)
    client.force_login(sub.user)
    assert b'name="months"' in client.get("/account/subscription/").content
    page = client.post("/account/subscription/pause/", {"months": "2"}, follow=True)
    html = page.content.decode()
    assert "Your subscription is paused until December 1, 2026" in html
    assert "Resume now</button>" in html
    assert client.post("/account/subscription/pause/", {"months": "2"}).status_code == 302
    assert client.post("/account/subscription/pause/", {"months": "x"}).status_code == 302
    page = client.post("/account/subscription/unpause/", follow=True)
    assert "Welcome back" in page.content.decode()
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE and events(sub).count(EventKind.PAUSED) == 1


def test_retention_pages_need_a_sign_in_and_a_subscription(client, catalog):
    for url in ("/account/subscription/cancel/", "/account/subscription/cancel/confirm/"):
        assert "/login/" in client.get(url)["Location"]
    client.force_login(factories.user())
    for url in ("/account/subscription/cancel/", "/account/subscription/cancel/confirm/"):
        assert client.get(url)["Location"] == "/account/subscription/"
    for url in (
        "/account/subscription/cancel/reason/",
        "/account/subscription/cancel/offer/",
        "/account/subscription/pause/",
        "/account/subscription/unpause/",
    ):
        assert client.post(url, {"offer": "pause", "months": "1"})["Location"] == (
            "/account/subscription/"
        )
    assert Subscription.objects.count() == 0


# ---------------------------------------------------------------- win-back


@pytest.fixture
def winback(catalog, settings):
    return Offer.objects.create(
        code=settings.WINBACK_OFFER,
        plan=catalog.monthly,
        intro_price_minor=600,
        intro_periods=3,
        new_subscribers_only=False,
    )


def lapsed_subscriber(catalog) -> Subscription:
    sub = subscriber(catalog)
    actions.cancel(sub, now=NOW)
    actions.advance(sub, now=datetime(2026, 11, 2, tzinfo=UTC))
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED
    return sub


def test_the_winback_offer_is_only_for_readers_whose_paid_subscription_ended(catalog, winback):
    lapsed = lapsed_subscriber(catalog)
    at = datetime(2026, 11, 5, tzinfo=UTC)
    assert actions.offer_refusal(lapsed.user_id, winback, now=at) is None
    assert actions.offer_refusal(None, winback, now=at) is not None
    assert actions.offer_refusal(factories.user().pk, winback, now=at) is not None
    trial_only = actions.start_trial(factories.user(), catalog.trial, now=NOW)
    actions.advance(trial_only, now=at)
    assert actions.offer_refusal(trial_only.user_id, winback, now=at) is not None
    live = subscriber(catalog)
    assert actions.offer_refusal(live.user_id, winback, now=at) is not None


def test_the_winback_offer_is_on_the_account_page_and_the_lapsed_paywall(
    client, catalog, winback, monkeypatch
):
    lapsed = lapsed_subscriber(catalog)
    client.force_login(lapsed.user)
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 11, 5, tzinfo=UTC))
    account = client.get("/account/subscription/").content.decode()
    assert "Welcome back: Try 3 months for $6" in account
    assert 'href="/checkout/offer/welcome-back/"' in account
    article = factories.article("Exclusive", access_level=AccessLevel.SUBSCRIBERS)
    html = client.get(article.url).content.decode()
    assert "Your full access to" in html and "/checkout/offer/welcome-back/" in html


def test_the_winback_email_is_sent_once_n_days_after_the_lapse(catalog, winback, settings):
    settings.WINBACK_EMAIL_DAYS = 30
    lapsed = lapsed_subscriber(catalog)  # ended Nov 1, 16:00

    def run(now):
        return sum(jobs.winback_one(item.key, now) for item in jobs.due_winbacks(now))

    assert run(datetime(2026, 11, 30, tzinfo=UTC)) == 0
    assert run(datetime(2026, 12, 2, tzinfo=UTC)) == 1
    assert run(datetime(2026, 12, 3, tzinfo=UTC)) == 0
    assert actions.send_winback(lapsed, now=datetime(2026, 12, 4, tzinfo=UTC)) is False
    sent = OutboxEmail.objects.filter(kind="subscriptions.winback")
    assert sent.count() == 1
    assert (
        "Come back to" in sent.get().subject and "/checkout/offer/welcome-back/" in sent.get().body
    )
    assert events(lapsed)[-1] == EventKind.WINBACK_SENT


def test_no_winback_email_after_a_trial_only_or_a_return_or_without_the_offer(catalog, settings):
    trial_only = actions.start_trial(factories.user(), catalog.trial, now=NOW)
    actions.advance(trial_only, now=datetime(2026, 11, 1, tzinfo=UTC))
    lapsed = lapsed_subscriber(catalog)
    late = datetime(2026, 12, 5, tzinfo=UTC)
    assert actions.send_winback(trial_only, now=late) is False
    assert actions.send_winback(lapsed, now=late) is False  # no win-back offer exists
    Offer.objects.create(
        code=settings.WINBACK_OFFER,
        plan=catalog.monthly,
        intro_price_minor=600,
        intro_periods=3,
        new_subscribers_only=False,
    )
    actions.subscribe(lapsed.user, plan=catalog.monthly, card=card(lapsed.user), now=late)
    assert actions.send_winback(lapsed, now=late) is False  # they came back
    assert not OutboxEmail.objects.filter(kind="subscriptions.winback").exists()
