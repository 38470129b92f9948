"""Move buffered events into the database in batches, and aggregate them (decision 0030).

`drain(now)` takes up to `MASTHEAD_INSIGHTS_DRAIN_BATCH` events per batch from the buffer
(the Redis list, or `core.PendingEvent`), and in one transaction inserts the ones not seen
before (by event id), folds them into `ReaderDay`, `DailyCount`, `ReaderAlias` and
`Conversion`; only after that commits are they removed from the buffer. Running it twice, or
crashing between the commit and the removal, counts nothing twice: an event id already in
`Event` is skipped. With Redis, a short lock lets one drainer at a time take the head.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from masthead.core import events, outage
from masthead.core.models import PendingEvent
from masthead.insights.models import (
    Conversion,
    DailyCount,
    Event,
    ReaderAlias,
    ReaderDay,
    Step,
    Touch,
)

log = logging.getLogger("masthead.insights")

ARTICLE_EVENTS = frozenset(
    {events.ARTICLE_READ, events.METER_SHOWN, events.LAST_FREE, events.PAYWALL_SHOWN}
)
# Paywall reasons that mean the meter was met (the others: subscribers-only, lapsed).
METER_WALLS = frozenset({"registration_wall", "meter_exhausted"})
CONVERSIONS = frozenset({events.SIGNED_UP, events.TRIAL_STARTED, events.FIRST_PAYMENT})
LOCK_SECONDS = 120
# The shared attribution rule's window: articles read this long before a conversion.
SHARED_WINDOW = timedelta(days=30)


def steps_of(event: Event) -> int:
    """The funnel bits one event sets for its reader's day."""
    name = event.name
    if name in ARTICLE_EVENTS:
        bits = int(Step.VISITED)
        if name in (events.METER_SHOWN, events.LAST_FREE):
            bits |= int(Step.MET_METER)
        if name == events.PAYWALL_SHOWN:
            bits |= int(Step.PAYWALL)
            if event.reason in METER_WALLS:
                bits |= int(Step.MET_METER)
        return bits
    return int(
        {
            events.SIGNED_UP: Step.REGISTERED,
            events.TRIAL_STARTED: Step.TRIAL,
            events.FIRST_PAYMENT: Step.PAID,
            events.RENEWED: Step.RENEWED,
        }.get(name, 0)
    )


def parse(payload: str | bytes) -> Event | None:
    try:
        raw = json.loads(payload)
        props: dict[str, Any] = dict(raw.get("p") or {})
        article = props.pop("article", None)
        offer = props.pop("offer", None)
        return Event(
            event_id=str(raw["id"])[:32],
            name=str(raw["n"])[:32],
            reader=str(raw["r"])[:40],
            at=datetime.fromtimestamp(float(raw["t"]), tz=UTC),
            article_id=int(article) if article is not None else None,
            offer_id=int(offer) if offer is not None else None,
            reason=str(props.pop("reason", "") or "")[:40],
            props=props,
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        log.warning("insights: an unreadable buffered event was skipped")
        return None


def ingest(payloads: Iterable[str | bytes]) -> int:
    """Insert and aggregate the events not seen before; returns how many were new. Call
    inside a transaction."""
    parsed = [e for e in (parse(p) for p in payloads) if e is not None]
    by_id = {e.event_id: e for e in parsed}
    seen = set(Event.objects.filter(event_id__in=list(by_id)).values_list("event_id", flat=True))
    new = [e for e in by_id.values() if e.event_id not in seen]
    if not new:
        return 0
    Event.objects.bulk_create(new)
    _aggregate(new)
    return len(new)


def _day(at: datetime) -> Any:
    return timezone.localdate(at)


def _aggregate(new: list[Event]) -> None:
    counts: dict[tuple[Any, str, str], int] = defaultdict(int)
    steps: dict[tuple[Any, str], int] = defaultdict(int)
    for event in new:
        counts[(_day(event.at), event.name, event.reason)] += 1
        bits = steps_of(event)
        if bits:
            steps[(_day(event.at), event.reader)] |= bits
    for (day, name, reason), n in counts.items():
        updated = DailyCount.objects.filter(day=day, name=name, reason=reason).update(
            count=F("count") + n
        )
        if not updated:
            DailyCount.objects.create(day=day, name=name, reason=reason, count=n)
    for (day, reader), bits in steps.items():
        row = ReaderDay.objects.select_for_update().filter(day=day, reader=reader).first()
        if row is None:
            ReaderDay.objects.create(day=day, reader=reader, steps=bits)
        elif row.steps | bits != row.steps:
            row.steps |= bits
            row.save(update_fields=["steps"])
    for event in new:
        anonymous = event.props.get("anon")
        if event.name == events.SIGNED_UP and anonymous:
            ReaderAlias.objects.get_or_create(anonymous=f"a:{anonymous}", account=event.reader)
    for event in sorted(new, key=lambda e: e.at):
        if event.name in CONVERSIONS:
            conversion = Conversion.objects.create(
                event_id=event.event_id,
                kind=event.name,
                reader=event.reader,
                at=event.at,
                article_id=last_article_before(event.reader, event.at),
                offer_id=event.offer_id,
                amount_minor=int(event.props.get("amount_minor") or 0),
            )
            read = articles_read_before(event.reader, event.at)
            Touch.objects.bulk_create(
                Touch(conversion=conversion, article_id=article, of=len(read)) for article in read
            )


def last_article_before(reader: str, at: datetime) -> int | None:
    """The attribution rule: the last article this reader (or the anonymous reader they were
    before signing up) was shown before converting, if its event is still kept."""
    who = [reader, *ReaderAlias.objects.filter(account=reader).values_list("anonymous", flat=True)]
    return (
        Event.objects.filter(
            reader__in=who, at__lte=at, name__in=ARTICLE_EVENTS, article_id__isnull=False
        )
        .order_by("-at", "-pk")
        .values_list("article_id", flat=True)
        .first()
    )


def articles_read_before(reader: str, at: datetime) -> list[int]:
    """The shared rule: the distinct articles this reader (or the anonymous reader they were)
    was shown in the 30 days up to the conversion (inclusive), oldest first."""
    who = [reader, *ReaderAlias.objects.filter(account=reader).values_list("anonymous", flat=True)]
    rows = (
        Event.objects.filter(
            reader__in=who,
            at__gte=at - SHARED_WINDOW,
            at__lte=at,
            name__in=ARTICLE_EVENTS,
            article_id__isnull=False,
        )
        .order_by("at", "pk")
        .values_list("article_id", flat=True)
    )
    return list(dict.fromkeys(int(a) for a in rows if a is not None))


def drain(now: datetime | None = None, *, batch: int | None = None) -> int:
    """Drain the whole buffer, one batch per transaction; returns how many events were new."""
    size = batch or settings.INSIGHTS_DRAIN_BATCH
    events.flush()  # this process's own waiting events (embedded default)
    total = _drain_table(size)
    if settings.INSIGHTS_REDIS_URL:
        total += _drain_redis(size)
    return total


def _drain_table(size: int) -> int:
    total = 0
    while True:
        with transaction.atomic():
            rows = list(
                PendingEvent.objects.select_for_update(skip_locked=True)
                .order_by("pk")
                .values_list("pk", "payload")[:size]
            )
            if not rows:
                return total
            total += ingest(payload for _, payload in rows)
            PendingEvent.objects.filter(pk__in=[pk for pk, _ in rows]).delete()


def _drain_redis(size: int) -> int:
    client = events.client()
    key = events.redis_key()
    lock = f"{key}:drain-lock"
    total = 0
    try:
        if not client.set(lock, "1", nx=True, ex=LOCK_SECONDS):
            return 0  # another drainer has the head of the list
        try:
            while True:
                payloads = client.lrange(key, 0, size - 1)
                if not payloads:
                    break
                with transaction.atomic():
                    total += ingest(payloads)
                client.ltrim(key, len(payloads), -1)  # only once the batch is committed
        finally:
            client.delete(lock)
    except redis.RedisError as error:
        outage.down(events.STORE, error)
    return total


def buffered() -> int | None:
    """Events waiting in the buffer (None when Redis cannot be asked)."""
    waiting = PendingEvent.objects.count()
    if settings.INSIGHTS_REDIS_URL:
        try:
            waiting += int(events.client().llen(events.redis_key()))
        except redis.RedisError:
            return None
    return waiting


def prune(now: datetime) -> int:
    """Delete raw events older than the retention; the aggregates stay."""
    cutoff = now - timedelta(days=settings.INSIGHTS_RETENTION_DAYS)
    deleted = 0
    while True:
        ids = list(Event.objects.filter(at__lt=cutoff).values_list("pk", flat=True)[:5_000])
        if not ids:
            return deleted
        deleted += Event.objects.filter(pk__in=ids).delete()[0]
