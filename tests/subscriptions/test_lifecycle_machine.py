"""The lifecycle as a hypothesis state machine: a reader subscribes, trials, cancels,
resumes, changes plan, swaps cards, gets refunds while time passes and the renewal job runs.

A small model written from the rules in docs/billing.md predicts the status and the money.
At every step: the reader reads everything iff the model says they are entitled, the lapse
message matches, and the ledger sums to what the provider holds and to what the model
charged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from masthead.billing import providers
from masthead.billing.models import EntryKind, LedgerEntry
from masthead.billing.providers import (
    TEST_CARD_DECLINED,
    TEST_CARD_FAILS_ON_RENEWAL,
    TEST_CARD_SUCCEEDS,
    CardDeclined,
    CardDetails,
    TestProvider,
)
from masthead.core.jobs import run_due_jobs
from masthead.subscriptions import actions
from masthead.subscriptions.entitlements import Lapse, entitlement_for
from masthead.subscriptions.models import Offer, Plan, Status, Subscription
from tests import factories
from tests.subscriptions.conftest import make_catalog

START = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
RETRY_DAYS = (1, 3, 6)


class RecordingProvider(TestProvider):
    """The test provider, keeping the provider's side of the books."""

    held: dict[int, int] = {}
    owner: dict[str, int] = {}

    def charge(self, **kwargs: Any) -> providers.Charge:
        result = super().charge(**kwargs)
        user_id = kwargs["user"].pk
        self.held[user_id] = self.held.get(user_id, 0) + kwargs["amount_minor"]
        self.owner[result.provider_ref] = user_id
        return result

    def refund(self, *, charge_ref: str, amount_minor: int, idempotency_key: str) -> str:
        self.held[self.owner[charge_ref]] -= amount_minor
        return super().refund(
            charge_ref=charge_ref, amount_minor=amount_minor, idempotency_key=idempotency_key
        )


class Lifecycle(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        if not Plan.objects.filter(slug="monthly").exists():
            make_catalog()
        self.plans = {p.slug: p for p in Plan.objects.all()}
        self.offers = {o.code: o for o in Offer.objects.all()}
        self.reader = factories.user()
        self.staff = factories.user(staff=True)
        self.now = START
        # the model
        self.status = "none"
        self.plan = ""
        self.next_plan = ""
        self.end = START
        self.start_of_period = START
        self.card = "none"  # none, ok, fails
        self.trial_only = False
        self.had_trial = False
        self.ever_paid = False
        self.used: set[str] = set()
        self.failures = 0
        self.trial_renews = False
        self.first_failure = START
        self.period_paid = 0
        self.net = 0

    # ------------------------------------------------------------ model helpers

    def months(self, slug: str) -> int:
        return 12 if slug == "annual" else 1

    def price(self, slug: str) -> int:
        return self.plans[slug].price_minor

    def sub(self) -> Subscription:
        return Subscription.objects.filter(user=self.reader).first()

    def model_charge(self, amount: int) -> None:
        self.net += amount
        self.period_paid = amount
        self.ever_paid = True
        self.trial_only = False

    def model_renew_at(self, at: datetime) -> None:
        """A renewal (or a retry) at `at`: the card decides."""
        plan = self.next_plan or self.plan
        if self.card == "ok":
            self.plan, self.next_plan = plan, ""
            self.start_of_period = self.end
            self.end = actions.add_months(self.end, self.months(plan))
            self.status, self.failures = "active", 0
            self.model_charge(self.price(plan))
            return
        if self.status != "past_due":
            self.first_failure, self.failures = at, 0
        self.failures += 1
        self.status = "expired" if self.failures > len(RETRY_DAYS) else "past_due"

    def model_advance(self, to: datetime) -> None:
        while True:
            if self.status in ("trialing", "active") and self.auto_renew():
                if self.end > to:
                    return
                self.model_renew_at(self.end)
            elif self.status in ("trialing", "cancelled"):
                if self.end > to:
                    return
                self.status = "expired"
            elif self.status == "past_due":
                retry = self.first_failure + timedelta(days=RETRY_DAYS[self.failures - 1])
                if retry > to:
                    return
                self.model_renew_at(retry)
            else:
                return

    def auto_renew(self) -> bool:
        # A card added during a card-less trial does not turn it into a paid plan by itself.
        return self.status == "active" or (self.status == "trialing" and self.trial_renews)

    def can_take(self, code: str | None) -> bool:
        if self.status not in ("none", "expired"):
            return False
        if code is None:
            return True
        if code in self.used:
            return False
        if code.endswith("trial") and self.had_trial:
            return False
        return not self.ever_paid

    def saved_card(self, number: str) -> Any:
        return TestProvider().save_card(
            self.reader, CardDetails(number, 12, 2040, "123"), now=self.now
        )

    # ------------------------------------------------------------ rules

    @rule(
        choice=st.sampled_from(["monthly", "annual", "one-month", "three-months"]),
        fails=st.booleans(),
    )
    def subscribe(self, choice: str, fails: bool) -> None:
        code = None if choice in self.plans else choice
        expected = self.can_take(code)
        card = self.saved_card(TEST_CARD_FAILS_ON_RENEWAL if fails else TEST_CARD_SUCCEEDS)
        try:
            if code is None:
                actions.subscribe(self.reader, plan=self.plans[choice], card=card, now=self.now)
            else:
                actions.subscribe(self.reader, offer=self.offers[code], card=card, now=self.now)
        except actions.NotEligible:
            assert not expected, f"refused {choice} to an eligible reader"
            return
        assert expected, f"sold {choice} to an ineligible reader"
        offer = self.offers.get(choice)
        self.plan = offer.plan.slug if offer else choice
        self.next_plan = ""
        self.status, self.card, self.failures = "active", "fails" if fails else "ok", 0
        self.start_of_period = self.now
        periods = offer.intro_periods if offer else 1
        self.end = actions.add_months(self.now, self.months(self.plan) * periods)
        self.model_charge(offer.intro_price_minor if offer else self.price(choice))
        if code:
            self.used.add(code)

    @rule(with_card=st.booleans(), fails=st.booleans())
    def start_trial(self, with_card: bool, fails: bool) -> None:
        code = "card-trial" if with_card else "free-trial"
        expected = self.can_take(code)
        card = None
        if with_card:
            card = self.saved_card(TEST_CARD_FAILS_ON_RENEWAL if fails else TEST_CARD_SUCCEEDS)
        try:
            actions.start_trial(self.reader, self.offers[code], now=self.now, card=card)
        except actions.NotEligible:
            assert not expected
            return
        assert expected
        self.status, self.plan, self.next_plan, self.failures = "trialing", "monthly", "", 0
        self.card = ("fails" if fails else "ok") if with_card else "none"
        self.trial_renews = with_card
        self.start_of_period = self.now
        self.end = self.now + timedelta(days=self.offers[code].trial_days)
        self.trial_only = self.had_trial = True
        self.period_paid = 0
        self.used.add(code)

    @rule()
    def declined_card_changes_nothing(self) -> None:
        before = (
            Subscription.objects.filter(user=self.reader).count(),
            LedgerEntry.objects.count(),
        )
        try:
            self.saved_card(TEST_CARD_DECLINED)
        except CardDeclined:
            pass
        else:
            raise AssertionError("the declining test card was accepted")
        after = (Subscription.objects.filter(user=self.reader).count(), LedgerEntry.objects.count())
        assert before == after

    @precondition(lambda self: self.status in ("active", "trialing", "past_due"))
    @rule()
    def cancel(self) -> None:
        actions.cancel(self.sub(), now=self.now)
        self.status = "expired" if self.status == "past_due" else "cancelled"
        self.next_plan = ""

    @precondition(lambda self: self.status == "cancelled")
    @rule()
    def resume(self) -> None:
        actions.resume(self.sub(), now=self.now)
        self.status = "trialing" if self.trial_only else "active"

    @precondition(lambda self: self.status in ("active", "trialing"))
    @rule(new_plan=st.sampled_from(["monthly", "annual"]))
    def change_plan(self, new_plan: str) -> None:
        target = new_plan
        sub = self.sub()
        if target == self.plan and not self.next_plan:
            return
        preview = actions.preview_plan_change(sub, self.plans[target], now=self.now)
        actions.change_plan(sub, self.plans[target], now=self.now, expected=preview)
        if self.status == "trialing" or target == self.plan:
            self.plan, self.next_plan = target, ""
            return
        if self.months(target) > self.months(self.plan):
            total = max((self.end - self.start_of_period).days, 1)
            remaining = max((self.end - self.now).days, 0)
            credit = min(self.period_paid * remaining // total, self.price(target))
            assert (preview.immediate, preview.credit_minor) == (True, credit)
            self.net += self.price(target) - credit
            self.period_paid = self.price(target) - credit
            self.plan, self.next_plan = target, ""
            self.start_of_period = self.now
            self.end = actions.add_months(self.now, 12)
        else:
            assert (preview.immediate, preview.charge_minor) == (False, 0)
            self.next_plan = target

    @precondition(lambda self: self.status not in ("none",))
    @rule()
    def new_card(self) -> None:
        actions.update_card(self.reader, self.saved_card(TEST_CARD_SUCCEEDS), now=self.now)
        self.card = "ok"
        if self.status == "past_due":
            self.model_renew_at(self.now)

    @precondition(lambda self: self.net > 0)
    @rule(part=st.floats(min_value=0.01, max_value=1.0), full=st.booleans())
    def refund_latest_charge(self, part: float, full: bool) -> None:
        charge = (
            LedgerEntry.objects.filter(user=self.reader, kind=EntryKind.CHARGE)
            .order_by("-pk")
            .first()
        )
        left = charge.refundable_minor()
        if left <= 0:
            return
        amount = None if full else max(1, int(left * part))
        actions.refund(
            charge, now=self.now, actor=self.staff, reason="Goodwill", amount_minor=amount
        )
        refunded = left if amount is None else amount
        self.net -= refunded
        self.period_paid -= refunded

    @rule(
        hours=st.one_of(
            st.integers(min_value=1, max_value=72),
            st.sampled_from([24 * days for days in (1, 2, 5, 7, 14, 30, 31, 92, 366)]),
        )
    )
    def time_passes(self, hours: int) -> None:
        self.move_clock(self.now + timedelta(hours=hours))

    @precondition(lambda self: self.next_due() is not None)
    @rule(
        overshoot=st.sampled_from([timedelta(0), timedelta(seconds=1), timedelta(hours=1)]),
        hops=st.integers(min_value=1, max_value=5),
    )
    def time_reaches_the_next_due_moments(self, overshoot: timedelta, hops: int) -> None:
        """Land exactly on (or just past) each moment the model expects something to happen,
        checking everything at each one (renewal, retry after retry, expiry)."""
        for _ in range(hops):
            due = self.next_due()
            if due is None:
                return
            self.move_clock(max(due, self.now) + overshoot)
            self.status_matches_the_model()
            self.reads_everything_iff_entitled()
            self.ledger_balances()

    def next_due(self) -> datetime | None:
        if self.status in ("trialing", "active", "cancelled"):
            return self.end
        if self.status == "past_due":
            return self.first_failure + timedelta(days=RETRY_DAYS[self.failures - 1])
        return None

    def move_clock(self, to: datetime) -> None:
        self.now = to
        run_due_jobs(self.now)
        self.model_advance(self.now)

    # ------------------------------------------------------------ what must always hold

    @invariant()
    def status_matches_the_model(self) -> None:
        sub = self.sub()
        actual = sub.status if sub else "none"
        assert actual == self.status, (actual, self.status, self.now)

    @invariant()
    def reads_everything_iff_entitled(self) -> None:
        entitled = self.status in ("trialing", "active", "past_due", "cancelled")
        entitlement = entitlement_for(self.reader.pk, now=self.now)
        assert entitlement.reads_everything == entitled
        if self.status == "expired":
            expected = Lapse.TRIAL if self.trial_only else Lapse.SUBSCRIPTION
            assert entitlement.lapsed == expected
        else:
            assert entitlement.lapsed is None

    @invariant()
    def ledger_balances(self) -> None:
        total = LedgerEntry.objects.filter(user=self.reader).aggregate(t=Sum("amount_minor"))["t"]
        assert (total or 0) == self.net == RecordingProvider.held.get(self.reader.pk, 0)
        for charge in LedgerEntry.objects.filter(user=self.reader, kind=EntryKind.CHARGE):
            assert charge.refundable_minor() >= 0

    @invariant()
    def at_most_one_live_subscription(self) -> None:
        live = Subscription.objects.filter(user=self.reader).exclude(status=Status.EXPIRED)
        assert live.count() <= 1


@pytest.mark.django_db
def test_lifecycle_state_machine(monkeypatch):
    monkeypatch.setitem(providers.PROVIDERS, "test", RecordingProvider)
    run_state_machine_as_test(
        Lifecycle,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
