"""Dunning (docs/dunning.md): the failed-payment e-mails of an episode on days 0, 3 and 5,
each once, stopped by a recovery or the end of access; the card-update link; the reminder
before a renewing subscriber's card expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from masthead.billing.providers import (
    TEST_CARD_FAILS_ON_RENEWAL,
    TEST_CARD_SUCCEEDS,
    CardDetails,
    TestProvider,
)
from masthead.core import clock
from masthead.core.models import OutboxEmail
from masthead.subscriptions import actions, jobs
from masthead.subscriptions.actions import dunning
from masthead.subscriptions.actions.transitions import allowed
from masthead.subscriptions.models import (
    EventKind,
    NoticeKind,
    RenewalNotice,
    Status,
    Subscription,
)
from tests import factories
from tests.subscriptions.conftest import NOW, card

# The monthly subscription bought at NOW renews (and, with a failing card, fails) here.
FAILED = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)
STAMP = "20261101T160000"
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def at_now(monkeypatch):
    moment = {"now": NOW}
    monkeypatch.setattr(clock, "now", lambda: moment["now"])
    return moment


def subscriber(catalog, number=TEST_CARD_FAILS_ON_RENEWAL, email=None):
    reader = factories.user(email)
    return actions.subscribe(reader, plan=catalog.monthly, card=card(reader, number), now=NOW)


def fresh(sub: Subscription) -> Subscription:
    return Subscription.objects.select_related("plan").get(pk=sub.pk)


def past_due(catalog, email=None) -> Subscription:
    """A subscriber whose renewal failed at FAILED: past due, the day-0 e-mail sent."""
    sub = subscriber(catalog, email=email)
    assert actions.advance(sub, now=FAILED) == 1
    sub = fresh(sub)
    assert sub.status == Status.PAST_DUE
    return sub


def run_dunning_job(now) -> int:
    """What the scheduler does: every due item handled once."""
    return sum(jobs.dunning_one(item.key, now) for item in jobs.due_dunning_notices(now))


def dunning_keys(sub) -> list[str]:
    return list(
        RenewalNotice.objects.filter(subscription=sub, kind=NoticeKind.DUNNING)
        .order_by("pk")
        .values_list("key", flat=True)
    )


def key(day: int) -> str:
    return f"dunning-{STAMP}-d{day}"


def dunning_mail() -> list[OutboxEmail]:
    return list(OutboxEmail.objects.filter(kind="subscriptions.dunning").order_by("pk"))


# ---- the schedule ----------------------------------------------------------------------------


def test_the_e_mails_go_on_days_0_3_and_5_of_the_episode_each_once(catalog):
    sub = past_due(catalog)
    assert dunning_keys(sub) == [key(0)]  # with the failure itself
    assert run_dunning_job(FAILED) == 0
    assert run_dunning_job(FAILED + 3 * DAY - timedelta(seconds=1)) == 0
    assert run_dunning_job(FAILED + 3 * DAY) == 1
    assert run_dunning_job(FAILED + 3 * DAY + timedelta(hours=1)) == 0
    assert run_dunning_job(FAILED + 4 * DAY) == 0
    assert run_dunning_job(FAILED + 5 * DAY) == 1
    assert run_dunning_job(FAILED + 5 * DAY + timedelta(hours=12)) == 0
    assert run_dunning_job(FAILED + 6 * DAY - timedelta(seconds=1)) == 0
    assert dunning_keys(sub) == [key(0), key(3), key(5)]
    notices = RenewalNotice.objects.filter(kind=NoticeKind.DUNNING).order_by("pk")
    assert [n.sent_at for n in notices] == [FAILED, FAILED + 3 * DAY, FAILED + 5 * DAY]
    # Access ends at the last retry (day 6): a failure there expires the subscription.
    assert {n.renews_at for n in notices} == {FAILED + 6 * DAY}
    assert {(n.price_minor, n.currency, n.late) for n in notices} == {(1500, "USD", False)}
    history = sub.events.filter(kind=EventKind.DUNNING_NOTICE).order_by("pk")
    assert [(e.from_status, e.to_status) for e in history] == [("past_due", "past_due")] * 3
    assert [e.data for e in history] == [
        {
            "plan_id": sub.plan_id,
            "notice": notice.pk,
            "key": notice.key,
            "late": False,
            "day": day,
            "final": day == 5,
        }
        for notice, day in zip(notices, (0, 3, 5), strict=True)
    ]
    assert fresh(sub).status == Status.PAST_DUE  # an e-mail changes no status
    assert len(dunning_mail()) == 3


def test_with_the_retries_running_the_episode_ends_in_expiry_after_three_e_mails(catalog):
    sub = subscriber(catalog)
    for moment in (FAILED, FAILED + DAY, FAILED + 3 * DAY, FAILED + 5 * DAY, FAILED + 6 * DAY):
        actions.advance(fresh(sub), now=moment)
        run_dunning_job(moment)
    assert fresh(sub).status == Status.EXPIRED
    assert dunning_keys(sub) == [key(0), key(3), key(5)]
    assert sub.events.filter(kind=EventKind.PAYMENT_FAILED).count() == 3
    assert run_dunning_job(FAILED + 7 * DAY) == 0
    assert OutboxEmail.objects.filter(kind="subscriptions.expired").count() == 1
    # The retry failures send nothing of their own: the day-0 and day-3 e-mails are theirs.
    assert OutboxEmail.objects.filter(kind="subscriptions.payment_failed").count() == 0


def test_a_failure_on_day_0_and_recovery_on_day_2_send_only_the_day_0_e_mail(catalog):
    sub = past_due(catalog)
    new_card = TestProvider().save_card(
        sub.user, CardDetails(TEST_CARD_SUCCEEDS, 12, 2030, "123"), now=FAILED + 2 * DAY
    )
    actions.update_card(sub.user, new_card, now=FAILED + 2 * DAY)  # retried at once: paid
    assert fresh(sub).status == Status.ACTIVE
    for moment in (FAILED + 3 * DAY, FAILED + 5 * DAY, FAILED + 6 * DAY):
        assert list(jobs.due_dunning_notices(moment)) == []
        assert run_dunning_job(moment) == 0
        assert actions.send_dunning_notice(sub, now=moment) is None
    assert dunning_keys(sub) == [key(0)]
    assert len(dunning_mail()) == 1


def test_a_new_failure_after_recovery_is_a_new_episode(catalog):
    sub = past_due(catalog)
    good = TestProvider().save_card(
        sub.user, CardDetails(TEST_CARD_SUCCEEDS, 12, 2030, "123"), now=FAILED + DAY
    )
    actions.update_card(sub.user, good, now=FAILED + DAY)
    assert fresh(sub).status == Status.ACTIVE
    failing = TestProvider().save_card(
        sub.user, CardDetails(TEST_CARD_FAILS_ON_RENEWAL, 12, 2030, "123"), now=FAILED + DAY
    )
    actions.update_card(sub.user, failing, now=FAILED + DAY)
    next_failure = fresh(sub).current_period_end
    actions.advance(fresh(sub), now=next_failure)
    assert fresh(sub).status == Status.PAST_DUE
    assert dunning_keys(sub) == [key(0), f"dunning-{next_failure:%Y%m%dT%H%M%S}-d0"]


def test_a_day_the_job_missed_is_skipped_not_sent_beside_the_next(catalog):
    sub = past_due(catalog)
    assert run_dunning_job(FAILED + 5 * DAY + timedelta(hours=2)) == 1
    assert dunning_keys(sub) == [key(0), key(5)]
    assert run_dunning_job(FAILED + 5 * DAY + timedelta(hours=3)) == 0


def test_an_e_mail_sent_a_day_late_is_marked_late(catalog):
    sub = past_due(catalog)
    assert actions.send_dunning_notice(sub, now=FAILED + 4 * DAY) is not None
    assert RenewalNotice.objects.get(key=key(3)).late is True


def test_cancelling_or_expiring_while_past_due_ends_the_e_mails(catalog):
    cancelled = past_due(catalog)
    actions.cancel(cancelled, now=FAILED + DAY, actor=cancelled.user, reason="")
    assert fresh(cancelled).status == Status.EXPIRED
    assert run_dunning_job(FAILED + 3 * DAY) == 0
    assert actions.send_dunning_notice(cancelled, now=FAILED + 5 * DAY) is None
    assert dunning_keys(cancelled) == [key(0)]


def test_the_days_are_a_setting_and_none_falls_at_or_after_the_end_of_access(catalog):
    settings.DUNNING_DAYS = [0, 2, 6, 9]
    try:
        sub = past_due(catalog)
        steps = dunning.dunning_steps(sub)
        assert [(s.day, s.final) for s in steps] == [(0, False), (2, True)]
        assert run_dunning_job(FAILED + 2 * DAY) == 1
        assert run_dunning_job(FAILED + 6 * DAY) == 0
        assert "Last reminder" in RenewalNotice.objects.get(key=key(2)).subject
    finally:
        settings.DUNNING_DAYS = [0, 3, 5]


def test_a_dunning_e_mail_is_a_move_only_while_past_due():
    assert allowed(EventKind.DUNNING_NOTICE, Status.PAST_DUE, Status.PAST_DUE)
    for status in (Status.ACTIVE, Status.TRIALING, Status.CANCELLED, Status.EXPIRED):
        assert not allowed(EventKind.DUNNING_NOTICE, status, status)
    assert allowed(EventKind.CARD_EXPIRY_NOTICE, Status.ACTIVE, Status.ACTIVE)
    assert not allowed(EventKind.CARD_EXPIRY_NOTICE, Status.COMPLIMENTARY, Status.COMPLIMENTARY)


# ---- exactly once --------------------------------------------------------------------------


def test_the_scheduler_enqueues_each_day_once_and_runs_it(catalog):
    from masthead.core.jobs import run_due_jobs

    sub = past_due(catalog)
    run_due_jobs(FAILED + 3 * DAY)
    run_due_jobs(FAILED + 3 * DAY + timedelta(minutes=5))
    assert dunning_keys(sub) == [key(0), key(3)]
    assert len(dunning_mail()) == 2


def test_a_lost_race_sends_no_second_e_mail(catalog, monkeypatch):
    """The loser of a race (its look at what was sent came before the winner committed) hits
    the unique constraint: no second row, and its e-mail is rolled back with it."""
    sub = past_due(catalog)
    at = FAILED + 3 * DAY
    assert actions.send_dunning_notice(sub, now=at) is not None
    real = dunning.due_dunning_step
    monkeypatch.setattr(
        dunning, "due_dunning_step", lambda sub, *, now, sent: real(sub, now=now, sent=set())
    )
    assert actions.send_dunning_notice(sub, now=at + timedelta(seconds=1)) is None
    monkeypatch.undo()
    assert dunning_keys(sub) == [key(0), key(3)]
    assert len(dunning_mail()) == 2
    assert sub.events.filter(kind=EventKind.DUNNING_NOTICE).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        RenewalNotice.objects.create(
            subscription=sub,
            kind=NoticeKind.DUNNING,
            key=key(3),
            renews_at=at,
            price_minor=1,
            currency="USD",
            sent_at=at,
            subject="x",
            body="x",
        )


# ---- what the e-mails say -----------------------------------------------------------------


def test_the_e_mails_give_the_amount_the_card_link_and_when_access_ends(catalog):
    sub = subscriber(catalog, email="late@example.com")
    for moment in (FAILED, FAILED + DAY, FAILED + 3 * DAY, FAILED + 5 * DAY):
        actions.advance(fresh(sub), now=moment)
        run_dunning_job(moment)
    first, second, last = dunning_mail()
    link = f"{settings.SITE_URL}/account/payment-method/"
    assert {tuple(mail.to) for mail in (first, second, last)} == {("late@example.com",)}
    assert first.subject == "Your payment for The Meridian Review didn't go through"
    assert (
        "We could not take your payment of $15 for Monthly. You keep full access while we try "
        "again on November 2; if the payment has not gone through by November 7, 2026, your "
        "access ends then."
    ) in first.body
    assert second.subject == "Reminder: your payment for The Meridian Review is still due"
    assert "Your payment of $15 for Monthly has still not gone through." in second.body
    assert "try again on November 7" in second.body
    assert last.subject == "Last reminder: your access to The Meridian Review ends on November 7"
    assert (
        "Unless you update your card, your access to The Meridian Review ends on November 7, "
        "2026, when we try your card one last time."
    ) in last.body
    for mail in (first, second, last):
        assert f"Update your card (we retry the payment at once): {link}" in mail.body
        assert link in mail.html_body
    notice = RenewalNotice.objects.get(key=key(5))
    assert (notice.subject, notice.body, notice.to_email) == (
        last.subject,
        last.body,
        "late@example.com",
    )


def test_the_card_link_works_signed_in_and_through_sign_in_and_back(client, catalog):
    sub = past_due(catalog, email="back@example.com")
    url = "/account/payment-method/"
    signed_out = client.get(url)
    assert signed_out.status_code == 302
    assert signed_out["Location"] == f"/accounts/login/?next={url}"
    signed_in = client.post(
        "/accounts/login/",
        {"login": "back@example.com", "password": "correct-horse-42", "next": url},
    )
    assert (signed_in.status_code, signed_in["Location"]) == (302, url)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="card-heading">Update your card</h2>' in html
    assert 'action="/account/payment-method/"' in html
    assert "Your last payment failed." in html
    assert sub.user.email == "back@example.com"


# ---- the card-expiry reminder --------------------------------------------------------------

# A card that works to the end of November 2026: reminded 30 days before December 1.
EXPIRES = datetime(2026, 12, 1, tzinfo=UTC)
REMIND = EXPIRES - timedelta(days=30)


def expiring_card(user, month=11, year=2026):
    return TestProvider().save_card(
        user, CardDetails(TEST_CARD_SUCCEEDS, month, year, "123"), now=NOW
    )


def card_subscriber(catalog):
    reader = factories.user("expiring@example.com")
    return actions.subscribe(reader, plan=catalog.monthly, card=expiring_card(reader), now=NOW)


def run_card_job(now) -> int:
    return sum(jobs.card_expiry_one(i.key, now) for i in jobs.due_card_expiry_reminders(now))


def card_reminders() -> list[RenewalNotice]:
    return list(RenewalNotice.objects.filter(kind=NoticeKind.CARD_EXPIRY).order_by("pk"))


def test_a_card_expiring_soon_is_reminded_once_the_lead_before_it_expires(catalog):
    sub = card_subscriber(catalog)
    assert dunning.card_expires_at(sub.user.payment_methods.get()) == EXPIRES
    assert run_card_job(REMIND - timedelta(seconds=1)) == 0
    assert run_card_job(REMIND) == 1
    assert run_card_job(REMIND + timedelta(hours=1)) == 0
    assert run_card_job(REMIND + 10 * DAY) == 0
    (notice,) = card_reminders()
    method = sub.user.payment_methods.get()
    assert (notice.key, notice.renews_at, notice.price_minor) == (
        f"card-{method.pk}-2026-11",
        sub.current_period_end,
        1500,
    )
    assert notice.subject == "Your card for The Meridian Review expires at the end of November"
    assert "Your Visa ending 4242 expires on November 30, 2026." in notice.body
    assert "Your Monthly subscription renews on November 1, 2026 for $15." in notice.body
    assert f"{settings.SITE_URL}/account/payment-method/" in notice.body
    mail = OutboxEmail.objects.get(kind="subscriptions.card_expiring")
    assert (mail.subject, mail.to) == (notice.subject, ["expiring@example.com"])
    event = sub.events.get(kind=EventKind.CARD_EXPIRY_NOTICE)
    assert (event.from_status, event.to_status) == ("active", "active")
    assert event.data["card"] == method.pk and event.data["expires"] == "2026-11"


def test_a_card_that_expires_before_the_next_renewal_says_it_cannot_be_charged(catalog):
    reader = factories.user()
    sub = actions.subscribe(
        reader, plan=catalog.annual, card=expiring_card(reader, month=10, year=2026), now=NOW
    )
    at = datetime(2026, 10, 2, tzinfo=UTC)  # already inside the lead
    assert run_card_job(at) == 1
    (notice,) = card_reminders()
    assert "expires on October 31, 2026" in notice.body
    assert (
        "renews on October 1, 2027 for $150, and an expired card cannot be charged" in notice.body
    )
    assert notice.subscription == sub


def test_a_replaced_card_gets_no_reminder(catalog):
    sub = card_subscriber(catalog)
    actions.update_card(sub.user, card(sub.user), now=REMIND - DAY)  # expires 12/2030
    assert run_card_job(REMIND) == 0
    assert actions.send_card_expiry_reminder(sub, now=REMIND) is None
    assert card_reminders() == []


def test_complimentary_cancelled_expired_and_past_due_subscriptions_get_no_reminder(catalog):
    comp = factories.user()
    expiring_card(comp)
    actions.grant_comp(comp, until=EXPIRES + 30 * DAY, now=NOW, actor=None, reason="Press pass")
    cancelled = card_subscriber(catalog)
    actions.cancel(cancelled, now=NOW, actor=cancelled.user, reason="")
    ended = factories.user()
    ended_sub = actions.subscribe(ended, plan=catalog.monthly, card=expiring_card(ended), now=NOW)
    actions.expire(ended_sub, now=NOW, reason="test")
    late = factories.user()
    late_sub = actions.subscribe(late, plan=catalog.monthly, card=expiring_card(late), now=NOW)
    actions.record_payment_failure(late_sub, now=REMIND - DAY, reason="declined")
    assert run_card_job(REMIND + DAY) == 0
    for sub in Subscription.objects.all():
        assert actions.send_card_expiry_reminder(sub, now=REMIND + DAY) is None
    assert card_reminders() == []


def test_a_trial_that_renews_onto_an_expiring_card_is_reminded(catalog):
    reader = factories.user()
    actions.start_trial(reader, catalog.card_trial, now=NOW, card=expiring_card(reader))
    assert run_card_job(REMIND) == 1
    assert card_reminders()[0].subscription.status == Status.TRIALING


def test_a_new_expiry_on_the_same_card_is_a_new_reminder(catalog):
    sub = card_subscriber(catalog)
    assert run_card_job(REMIND) == 1
    method = sub.user.payment_methods.get()
    method.exp_year = 2028  # the provider reported the card's new expiry
    method.save()
    assert run_card_job(REMIND + DAY) == 0  # 2028 is far off
    assert run_card_job(datetime(2028, 11, 1, tzinfo=UTC)) == 1
    assert [n.key for n in card_reminders()] == [
        f"card-{method.pk}-2026-11",
        f"card-{method.pk}-2028-11",
    ]


def test_a_new_card_on_the_card_page_pays_the_renewal_and_ends_the_episode(client, catalog):
    """What the browser sends from the page's form (its hidden key included: the form once
    left it out, and every card saved from the account page was refused)."""
    import re

    sub = past_due(catalog, email="pays@example.com")
    client.force_login(sub.user)
    page = client.get("/account/payment-method/").content.decode()
    hidden = dict(
        re.findall(r'<input type="hidden" name="(checkout_key)" value="([0-9a-f]+)"', page)
    )
    assert list(hidden) == ["checkout_key"]
    response = client.post(
        "/account/payment-method/",
        {"number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123", **hidden},
    )
    assert (response.status_code, response["Location"]) == (302, "/account/subscription/")
    assert fresh(sub).status == Status.ACTIVE
    assert run_dunning_job(FAILED + 3 * DAY) == 0
    assert dunning_keys(sub) == [key(0)]
