"""A few months of plausible funnel history, so the dashboards show something in the demo.

Made once (skipped when any event is already kept), from a fixed seed, straight into the
aggregates through the drain's `ingest`, as if the buffer had been drained every minute.
With the test payment provider, also a few dozen subscribers' histories over the same
months, through the subscription actions (so the ledger and the history are real): monthly
and annual plans, trials that convert or end, upgrades, cancellations, failed renewals and a
few readers who come back; the MRR, trial-conversion and revenue figures read those.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from wagtail.models import Page

from masthead.core import clock, events
from masthead.insights.drain import ingest
from masthead.insights.models import Event, ReaderDay

DAYS = 120
SEED = 2026
SUBSCRIBERS = 40


def history(articles: list[int], offers: list[int], *, days: int = DAYS) -> list[str]:
    """The buffered form of `days` days of readers, oldest first."""
    rng = random.Random(SEED)
    now = clock.now()
    payloads: list[str] = []
    subscribers: list[tuple[str, int | None]] = []
    account = 10_000

    def add(name: str, reader: str, at, **props) -> None:  # type: ignore[no-untyped-def]
        payloads.append(events.encode(name, reader, at, props))

    for back in range(days, 0, -1):
        day = now - timedelta(days=back)
        growth = 1 + (days - back) / days  # traffic grows through the period
        for _ in range(int(rng.randint(30, 45) * growth)):
            reader = "a:" + uuid.UUID(int=rng.getrandbits(128)).hex
            at = day + timedelta(minutes=rng.randint(0, 1380))
            reads = rng.choice([1, 1, 1, 2, 2, 3, 4, 5])
            walled = False
            for n in range(reads):
                article = rng.choice(articles)
                at += timedelta(minutes=rng.randint(1, 8))
                if reads == 1 and rng.random() < 0.45:
                    add(events.ARTICLE_READ, reader, at, article=article)
                elif n < 2:
                    add(events.METER_SHOWN, reader, at, article=article, left=2 - n)
                elif n == 2:
                    add(events.LAST_FREE, reader, at, article=article)
                else:
                    add(
                        events.PAYWALL_SHOWN,
                        reader,
                        at,
                        article=article,
                        reason="registration_wall",
                    )
                    walled = True
            if not walled or rng.random() > 0.18:
                continue
            account += 1
            user = f"u:{account}"
            at += timedelta(minutes=2)
            add(events.SIGNED_UP, user, at, anon=reader.removeprefix("a:"))
            if rng.random() < 0.55:
                offer = rng.choice(offers) if offers else None
                at += timedelta(minutes=3)
                add(events.OFFER_CLICKED, user, at, offer=offer)
                add(events.TRIAL_STARTED, user, at, offer=offer)
                if rng.random() < 0.5:
                    paid = at + timedelta(days=14)
                    if paid < now:
                        add(events.FIRST_PAYMENT, user, paid, offer=offer, amount_minor=1500)
                        subscribers.append((user, offer))
                elif at + timedelta(days=14) < now:
                    add(events.LAPSED, user, at + timedelta(days=14), reason="active")
    # A third of the payers have since cancelled; the others renewed in the last month.
    for n, (user, _) in enumerate(subscribers):
        if n % 3 == 0:
            add(
                events.CANCELLED,
                user,
                now - timedelta(days=rng.randint(1, 20)),
                reason="too expensive",
            )
        else:
            add(events.RENEWED, user, now - timedelta(days=rng.randint(1, 29)), amount_minor=1500)
    return payloads


def load() -> list[str]:
    if Event.objects.exists() or ReaderDay.objects.exists():
        return []
    articles = list(
        Page.objects.live().filter(content_type__model="articlepage").values_list("pk", flat=True)
    )
    if not articles:
        return []
    from masthead.subscriptions.models import Offer

    offers = list(Offer.objects.values_list("pk", flat=True))
    payloads = history(articles, offers)
    for start in range(0, len(payloads), 2_000):
        with transaction.atomic():
            ingest(payloads[start : start + 2_000])
    lines = [f"Insights: {len(payloads)} funnel events over {DAYS} days (/admin/insights/)"]
    made = subscriber_history()
    if made:
        lines.append(f"Insights: {made} demo subscribers' histories over {DAYS} days")
    lines += split_test()
    return lines


def split_test() -> list[str]:
    """A preview-length split test that has run for the last 60 days of the history."""
    from masthead.experiments import actions
    from masthead.experiments.models import Experiment, Kind

    if Experiment.objects.exists():
        return []
    now = clock.now()
    experiment = actions.create_experiment(
        "Preview: two blocks or three",
        Kind.PREVIEW,
        [
            actions.VariantSpec("Two blocks", 50),
            actions.VariantSpec("Three blocks", 50, preview_blocks=3),
        ],
        now=now - timedelta(days=61),
    )
    actions.start(experiment, now=now - timedelta(days=60))
    return [f"Split test running: “{experiment.name}” (/admin/insights/experiments/)"]


def subscriber_history(count: int = SUBSCRIBERS) -> int:
    """Subscriptions moved through the real actions at back-dated moments (fixed seed)."""
    from allauth.account.models import EmailAddress

    from masthead.billing.providers import (
        TEST_CARD_FAILS_ON_RENEWAL,
        TEST_CARD_SUCCEEDS,
        CardDetails,
        TestProvider,
    )
    from masthead.subscriptions import actions
    from masthead.subscriptions.models import Offer, OfferKind, Plan

    monthly = Plan.objects.filter(slug="monthly").first()
    annual = Plan.objects.filter(slug="annual").first()
    trial = Offer.objects.filter(kind=OfferKind.TRIAL, card_required=False).first()
    if settings.PAYMENT_PROVIDER != "test" or monthly is None or annual is None:
        return 0
    rng = random.Random(SEED + 1)
    now = clock.now()
    User = get_user_model()

    def card(user, number, at):  # type: ignore[no-untyped-def]
        return TestProvider().save_card(user, CardDetails(number, 12, at.year + 3, "123"), now=at)

    made = 0
    for n in range(count):
        email = f"history-{n:02d}@example.com"
        if User.objects.filter(email=email).exists():
            continue
        user = User.objects.create_user(username=email, email=email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        made += 1
        start = now - timedelta(days=rng.randint(3, DAYS - 5), hours=rng.randint(0, 20))
        number = TEST_CARD_FAILS_ON_RENEWAL if rng.random() < 0.1 else TEST_CARD_SUCCEEDS
        if trial is not None and rng.random() < 0.3:
            sub = actions.start_trial(user, trial, now=start)
            start += timedelta(days=trial.trial_days, hours=1)
            if start >= now:
                continue
            actions.advance(sub, now=start)  # the trial ends without a card
            if rng.random() < 0.5:
                continue
        plan = annual if rng.random() < 0.15 else monthly
        sub = actions.subscribe(user, plan=plan, card=card(user, number, start), now=start)
        upgrade = start + timedelta(days=rng.randint(10, 60))
        if plan == monthly and rng.random() < 0.2 and upgrade < now:
            actions.advance(sub, now=upgrade)
            sub.refresh_from_db()
            if sub.status == "active":
                preview = actions.preview_plan_change(sub, annual, now=upgrade)
                actions.change_plan(sub, annual, now=upgrade, expected=preview)
        stop = start + timedelta(days=rng.randint(5, 70))
        if rng.random() < 0.3 and stop < now:
            actions.advance(sub, now=stop)
            sub.refresh_from_db()
            if sub.status in ("active", "trialing"):
                reason = rng.choice(["too expensive", "not reading enough", "too expensive", ""])
                actions.cancel(sub, now=stop, reason=reason)
        actions.advance(sub, now=now)
        sub.refresh_from_db()
        back = (sub.ended_at or now) + timedelta(days=rng.randint(5, 25))
        if sub.status == "expired" and back < now and rng.random() < 0.4:
            again = actions.subscribe(
                user, plan=monthly, card=card(user, TEST_CARD_SUCCEEDS, back), now=back
            )
            actions.advance(again, now=now)
    return made
