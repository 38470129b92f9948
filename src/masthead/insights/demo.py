"""A few months of plausible funnel history, so the dashboards show something in the demo.

Made once (skipped when any event is already kept), from a fixed seed, straight into the
aggregates through the drain's `ingest`, as if the buffer had been drained every minute.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

from django.db import transaction
from wagtail.models import Page

from masthead.core import clock, events
from masthead.insights.drain import ingest
from masthead.insights.models import Event, ReaderDay

DAYS = 120
SEED = 2026


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
    return [f"Insights: {len(payloads)} funnel events over {DAYS} days (/admin/insights/)"]
