"""Gift subscription rules: money in the ledger, delivery dates, redemption (new and
stacked), refusals, the reminder, refunds and breakage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Sum

from masthead.billing.models import EntryKind, LedgerEntry, Payment
from masthead.billing.providers import ChargeFailed
from masthead.core.models import OutboxEmail
from masthead.giftsubs import actions, jobs
from masthead.giftsubs.models import GiftEvent, GiftPrice, GiftStatus, GiftSubscription
from masthead.subscriptions import actions as sub_actions
from masthead.subscriptions.entitlements import Lapse, entitlement_for
from masthead.subscriptions.models import EventKind, Offer, Status, Subscription
from tests import factories
from tests.gifts.support import monthly, subscriber
from tests.giftsubs import support

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


def ledger_of(gift):
    return list(
        LedgerEntry.objects.filter(user=gift.buyer)
        .order_by("pk")
        .values_list("kind", "amount_minor")
    )


def kinds(gift):
    return list(gift.events.order_by("pk").values_list("kind", "from_status", "to_status"))


def mails(kind):
    return list(OutboxEmail.objects.filter(kind=kind))


def test_price_defaults_from_the_monthly_plan_and_staff_prices_win():
    plan = monthly()
    assert [c.price_minor for c in actions.choices(plan)] == [1500, 4500, 9000, 18000]
    GiftPrice.objects.create(months=12, price_minor=15000, currency="USD")
    assert actions.price_for(12, plan) == (15000, "USD")
    assert actions.choices(plan)[3].price_text == "$150"


def test_purchase_without_a_date_charges_once_defers_and_delivers_at_once():
    gift = support.buy(NOW, months=3)
    gift.refresh_from_db()
    assert gift.status == GiftStatus.DELIVERED
    assert gift.price_minor == 4500
    assert ledger_of(gift) == [(EntryKind.CHARGE, 4500), (EntryKind.DEFERRAL, -4500)]
    sale = LedgerEntry.objects.get(kind=EntryKind.CHARGE)
    assert sale.subscription is None and sale.provider_ref.startswith("test_ch_")
    assert kinds(gift) == [("purchased", "", "purchased"), ("delivered", "purchased", "delivered")]
    assert Payment.objects.get().status == "succeeded"
    assert len(mails("giftsubs.receipt")) == 1
    assert len(mails("giftsubs.delivered")) == 1
    code = support.code_sent_to("rosa@example.com")
    assert len(code) >= 32  # 192 bits in URL-safe base64
    assert gift.code_hash == actions.hash_code(code)
    assert code not in str(GiftSubscription.objects.values().get())  # only the hash is stored
    assert not Subscription.objects.exists()  # no renewal, nothing on the buyer


def test_the_same_purchase_key_twice_is_one_gift_and_one_charge():
    buyer = factories.user()
    first = support.buy(NOW, buyer=buyer, key="k" * 32)
    again = support.buy(NOW, buyer=buyer, key="k" * 32)
    assert first.pk == again.pk
    assert GiftSubscription.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).count() == 1


def test_a_declined_card_buys_nothing():
    monthly()
    with pytest.raises(ChargeFailed):
        _decline(factories.user())
    assert not GiftSubscription.objects.exists()
    assert not LedgerEntry.objects.exists()
    assert Payment.objects.get().status == "failed"


def _decline(buyer):
    from unittest import mock

    from masthead.billing.providers import TestProvider

    with mock.patch.object(TestProvider, "charge", side_effect=ChargeFailed("Declined.")):
        actions.purchase(
            buyer,
            months=1,
            recipient_email="a@example.com",
            recipient_name="A",
            card_ref="test_pm_ok_x",
            provider="test",
            purchase_key="d" * 32,
            now=NOW,
        )


@pytest.mark.parametrize(
    ("day", "error"),
    [
        (date(2026, 9, 14), "Choose today or a day in the future."),
        (date(2026, 9, 15) + timedelta(days=366), "Choose a day within a year from today."),
    ],
)
def test_delivery_dates_outside_today_to_a_year_are_refused(day, error):
    assert actions.delivery_refusal(day, now=NOW) == error
    with pytest.raises(actions.GiftError) as refused:
        support.buy(NOW, deliver_on=day)
    assert refused.value.message == error
    assert not Payment.objects.exists()


@pytest.mark.parametrize("day", [date(2026, 9, 15), date(2026, 9, 15) + timedelta(days=365)])
def test_delivery_date_boundaries_today_and_a_year_ahead_are_accepted(day):
    assert actions.delivery_refusal(day, now=NOW) is None


def test_a_dated_gift_is_delivered_by_the_job_on_its_day_exactly_once():
    gift = support.buy(NOW, deliver_on=date(2026, 12, 24))
    assert gift.status == GiftStatus.PURCHASED
    assert not mails("giftsubs.gift")
    day_before = datetime(2026, 12, 23, 23, 0, tzinfo=UTC)
    assert list(jobs.due_deliveries(day_before)) == []
    assert actions.deliver(gift, now=day_before) is None
    on_the_day = gift.deliver_at + timedelta(minutes=1)
    due = list(jobs.due_deliveries(on_the_day))
    assert [item.key for item in due] == [str(gift.pk)]
    assert jobs.deliver_one(str(gift.pk), on_the_day) == 1
    assert jobs.deliver_one(str(gift.pk), on_the_day) == 0  # a second run does nothing
    gift.refresh_from_db()
    assert gift.status == GiftStatus.DELIVERED and gift.delivered_at == on_the_day
    assert len(mails("giftsubs.gift")) == 1
    assert len(mails("giftsubs.delivered")) == 1
    assert list(jobs.due_deliveries(on_the_day)) == []


def test_redeeming_gives_a_complimentary_subscription_for_the_months_and_recognises_revenue():
    gift, code = support.delivered(NOW, months=3)
    reader = factories.user()
    later = NOW + timedelta(days=2)
    redeemed = actions.redeem(code, reader, now=later)
    sub = Subscription.objects.get(user=reader)
    assert sub.status == Status.COMPLIMENTARY and not sub.auto_renew
    assert sub.current_period_start == later
    assert sub.current_period_end == sub_actions.add_months(later, 3)
    assert redeemed.status == GiftStatus.REDEEMED and redeemed.subscription == sub
    assert ledger_of(gift) == [
        (EntryKind.CHARGE, 4500),
        (EntryKind.DEFERRAL, -4500),
        (EntryKind.RELEASE, 4500),
    ]
    assert LedgerEntry.objects.get(kind=EntryKind.RELEASE).subscription == sub
    assert LedgerEntry.objects.aggregate(t=Sum("amount_minor"))["t"] == 4500  # revenue
    event = sub.events.get()
    assert event.kind == EventKind.COMP_GRANTED and event.data["source"] == "gift"
    assert entitlement_for(reader.pk, now=later).reads_everything
    assert not Payment.objects.filter(user=reader).exists()  # the recipient is never charged


def test_a_subscriber_redeeming_gets_the_months_after_their_paid_period_without_a_charge():
    reader = subscriber(NOW)
    sub = Subscription.objects.get(user=reader)
    end = sub.current_period_end
    _, code = support.delivered(NOW, months=6)
    actions.redeem(code, reader, now=NOW + timedelta(days=1))
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    assert sub.current_period_end == sub_actions.add_months(end, 6)
    assert sub.events.order_by("-pk").first().kind == EventKind.GIFT_ADDED
    charges = LedgerEntry.objects.filter(user=reader, kind=EntryKind.CHARGE).count()
    sub_actions.advance(sub, now=end + timedelta(days=1))  # the old renewal date: nothing due
    assert LedgerEntry.objects.filter(user=reader, kind=EntryKind.CHARGE).count() == charges


def test_a_trialist_redeeming_has_the_trial_pushed_on():
    from masthead.subscriptions.models import OfferKind

    trial = Offer.objects.create(
        code="free-trial", plan=monthly(), kind=OfferKind.TRIAL, trial_days=14
    )
    reader = factories.user()
    sub = sub_actions.start_trial(reader, trial, now=NOW)
    _, code = support.delivered(NOW, months=1)
    actions.redeem(code, reader, now=NOW)
    sub.refresh_from_db()
    assert sub.status == Status.TRIALING
    assert (
        sub.current_period_end
        == sub.trial_end
        == sub_actions.add_months(NOW + timedelta(days=14), 1)
    )


@pytest.mark.parametrize("second", ["same reader", "another reader"])
def test_a_code_is_redeemed_once(second):
    _gift, code = support.delivered(NOW)
    reader = factories.user()
    actions.redeem(code, reader, now=NOW)
    with pytest.raises(actions.GiftError) as refused:
        actions.redeem(code, reader if second == "same reader" else factories.user(), now=NOW)
    assert refused.value.code == "used"
    assert LedgerEntry.objects.filter(kind=EntryKind.RELEASE).count() == 1
    assert Subscription.objects.count() == 1


def test_unknown_and_malformed_codes_are_not_found():
    support.delivered(NOW)
    for code in ["nope", "x" * 200, ""]:
        with pytest.raises(actions.GiftError) as refused:
            actions.redeem(code, factories.user(), now=NOW)
        assert refused.value.code == "not_found"


def test_a_past_due_reader_is_told_to_settle_first():
    from tests.gifts.support import readers

    past_due = readers(NOW)["past due"]
    _, code = support.delivered(NOW)
    assert actions.preview(actions.find(code), past_due, now=NOW).refusal == "past_due"
    with pytest.raises(actions.GiftError):
        actions.redeem(code, past_due, now=NOW)


def test_the_gift_ends_through_the_transition_table_and_the_reader_is_lapsed():
    _gift, code = support.delivered(NOW, months=1)
    reader = factories.user()
    actions.redeem(code, reader, now=NOW)
    sub = Subscription.objects.get(user=reader)
    end = sub.current_period_end
    assert entitlement_for(reader.pk, now=end).lapsed is Lapse.SUBSCRIPTION  # before the job
    sub_actions.advance(sub, now=end + timedelta(minutes=1))
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED
    assert sub.events.order_by("-pk").first().kind == EventKind.EXPIRED
    assert not LedgerEntry.objects.filter(user=reader).exists()
    assert not Payment.objects.filter(user=reader).exists()


def test_the_reminder_goes_once_before_the_end_with_the_conversion_offer():
    offer = Offer.objects.create(
        code="gift-conversion",
        plan=monthly(),
        intro_price_minor=500,
        intro_periods=3,
        new_subscribers_only=False,
    )
    gift, code = support.delivered(NOW, months=1)
    reader = factories.user()
    actions.redeem(code, reader, now=NOW)
    end = Subscription.objects.get(user=reader).current_period_end
    too_early = end - timedelta(days=8)
    assert list(jobs.due_reminders(too_early)) == []
    assert actions.send_reminder(gift.pk, now=too_early) is False
    at = end - timedelta(days=7)
    assert [i.key for i in jobs.due_reminders(at)] == [str(gift.pk)]
    assert jobs.remind_one(str(gift.pk), at) == 1
    assert jobs.remind_one(str(gift.pk), at + timedelta(hours=1)) == 0
    assert list(jobs.due_reminders(at)) == []
    sent = mails("giftsubs.reminder")
    assert len(sent) == 1 and sent[0].to == [reader.email]
    assert "/checkout/offer/gift-conversion/" in sent[0].body
    assert offer.headline in sent[0].body
    assert GiftEvent.objects.filter(kind=GiftEvent.Kind.REMINDED).count() == 1


def test_the_conversion_offer_is_for_gift_recipients_only():
    offer = Offer.objects.create(
        code="gift-conversion",
        plan=monthly(),
        intro_price_minor=500,
        intro_periods=3,
        new_subscribers_only=False,
    )
    other = factories.user()
    refusal = "This offer is for readers who were given a gift subscription."
    assert sub_actions.offer_refusal(other.pk, offer, now=NOW) == refusal
    assert sub_actions.offer_refusal(None, offer, now=NOW) == refusal
    _, code = support.delivered(NOW, months=1)
    reader = factories.user()
    actions.redeem(code, reader, now=NOW)
    after = sub_actions.add_months(NOW, 1) + timedelta(days=1)
    sub_actions.advance(Subscription.objects.get(user=reader), now=after)
    assert sub_actions.offer_refusal(reader.pk, offer, now=after) is None
    from masthead.subscriptions.offers import live_offers_for

    assert "gift-conversion" in [o.code for o in live_offers_for(reader.pk, now=after)]
    assert "gift-conversion" not in [o.code for o in live_offers_for(other.pk, now=after)]


def test_staff_refund_of_an_unredeemed_gift_returns_the_money_and_kills_the_code():
    gift, code = support.delivered(NOW, months=12)
    staff = factories.user(staff=True)
    actions.refund(gift, now=NOW, actor=staff, reason="Bought by mistake")
    gift.refresh_from_db()
    assert gift.status == GiftStatus.REFUNDED
    assert ledger_of(gift) == [
        (EntryKind.CHARGE, 18000),
        (EntryKind.DEFERRAL, -18000),
        (EntryKind.REFUND, -18000),
        (EntryKind.RELEASE, 18000),
    ]
    assert LedgerEntry.objects.aggregate(t=Sum("amount_minor"))["t"] == 0
    refund_row = LedgerEntry.objects.get(kind=EntryKind.REFUND)
    assert refund_row.actor == staff and refund_row.reason == "Bought by mistake"
    assert refund_row.related == gift.sale and refund_row.provider_ref.startswith("test_re_")
    assert kinds(gift)[-1] == ("refunded", "delivered", "refunded")
    assert len(mails("giftsubs.refunded")) == 1
    with pytest.raises(actions.GiftError) as refused:
        actions.redeem(code, factories.user(), now=NOW)
    assert refused.value.code == "refunded"
    with pytest.raises(actions.GiftError):
        actions.refund(gift, now=NOW, actor=staff, reason="again")
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1


def test_a_redeemed_gift_is_not_refundable_and_a_refund_needs_a_reason():
    gift, code = support.delivered(NOW)
    staff = factories.user(staff=True)
    with pytest.raises(actions.GiftError) as no_reason:
        actions.refund(gift, now=NOW, actor=staff, reason=" ")
    assert no_reason.value.code == "reason"
    actions.redeem(code, factories.user(), now=NOW)
    with pytest.raises(actions.GiftError) as refused:
        actions.refund(gift, now=NOW, actor=staff, reason="Changed their mind")
    assert refused.value.code == "not_refundable"
    assert not LedgerEntry.objects.filter(kind=EntryKind.REFUND).exists()


def test_an_unredeemed_gift_expires_after_its_validity_as_breakage():
    gift, code = support.delivered(NOW, months=1)
    until = NOW + timedelta(days=365)
    assert list(jobs.due_breakage(until - timedelta(seconds=1))) == []
    assert actions.redeem  # the code still works the moment before
    assert (
        actions.preview(actions.find(code), None, now=until - timedelta(seconds=1)).refusal is None
    )
    assert actions.preview(actions.find(code), None, now=until).refusal == "expired"
    assert [i.key for i in jobs.due_breakage(until)] == [str(gift.pk)]
    assert jobs.expire_one(str(gift.pk), until) == 1
    assert jobs.expire_one(str(gift.pk), until) == 0
    gift.refresh_from_db()
    assert gift.status == GiftStatus.EXPIRED
    assert ledger_of(gift) == [
        (EntryKind.CHARGE, 1500),
        (EntryKind.DEFERRAL, -1500),
        (EntryKind.RELEASE, 1500),
    ]
    assert "breakage" in LedgerEntry.objects.get(kind=EntryKind.RELEASE).description
    with pytest.raises(actions.GiftError) as refused:
        actions.redeem(code, factories.user(), now=until)
    assert refused.value.code == "expired"


def test_a_pending_refund_payment_stops_redemption():
    gift, code = support.delivered(NOW)
    Payment.objects.create(
        user=gift.buyer,
        kind="refund",
        subject=f"giftsub-refund-{gift.pk}",
        idempotency_key="x",
        purpose="gift_refund",
        amount_minor=1,
        currency="USD",
        provider="test",
        description="pending",
        at=NOW,
    )
    with pytest.raises(actions.GiftError) as refused:
        actions.redeem(code, factories.user(), now=NOW)
    assert refused.value.code == "refunded"


def test_an_unknown_purchase_outcome_is_settled_by_the_reconcile_job():
    from unittest import mock

    from masthead.billing.providers import PaymentPending, TestProvider
    from masthead.subscriptions.actions.reconcile import reconcile_payments

    monthly()
    buyer = factories.user()
    real = TestProvider.charge

    def charge_then_time_out(self, **kwargs):
        real(self, **kwargs)
        raise TimeoutError("no answer")

    with (
        mock.patch.object(TestProvider, "charge", charge_then_time_out),
        pytest.raises(PaymentPending),
    ):
        actions.purchase(
            buyer,
            months=1,
            recipient_email="r@example.com",
            recipient_name="R",
            card_ref="test_pm_ok_x",
            provider="test",
            purchase_key="p" * 32,
            now=NOW,
        )
    assert not GiftSubscription.objects.exists()
    assert reconcile_payments(NOW + timedelta(minutes=10)) == 1
    gift = GiftSubscription.objects.get()
    assert gift.status == GiftStatus.DELIVERED
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE, amount_minor=1500).count() == 1
