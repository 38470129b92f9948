"""Funnel events, recorded cheaply: `record(name, reader_id, **props)` appends to a buffer
that `masthead.insights` drains in batches (decision 0030, docs/insights.md).

- An event (after the caller's transaction commits) waits in a small per-process batch: at
  most `MASTHEAD_INSIGHTS_BATCH` events (50) or `MASTHEAD_INSIGHTS_BATCH_SECONDS` (2 s). The
  request that fills the batch writes it to the shared buffer in one go:
- with Redis (`REDIS_URL`), one pipelined `RPUSH` + `LTRIM` (the list is bounded) to a Redis
  list: no SQL on any request, and one round trip per batch, not per event;
- on the embedded default, one bulk INSERT into `core.PendingEvent`.
- A store that is down drops the batch; the outage is logged once (`core.outage`, store
  "events"), never raised. The process only ever holds the last couple of seconds of
  events, never a figure anyone reads.

A reader is named only by their id: "u:<account id>" or "a:<anonymous meter id>". Core owns
the buffer and nothing else: insights owns what events mean (core depends on no domain).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import threading
import time
import uuid
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import transaction

from masthead.core import clock, outage
from masthead.core.redis_clients import client_for

log = logging.getLogger("masthead.events")
STORE = "events"

# The funnel moments (docs/insights.md). Anything else is refused (a typo is a bug).
ARTICLE_READ = "article_read"  # an article shown in full, nothing said about the meter
METER_SHOWN = "meter_shown"  # "N free articles left" (props: article, left)
LAST_FREE = "last_free_article"
PAYWALL_SHOWN = "paywall_shown"  # (props: article, reason)
OFFER_VIEWED = "offer_viewed"  # (props: offer)
OFFER_CLICKED = "offer_clicked"  # the checkout of an offer or plan opened (props: offer, plan)
SIGNED_UP = "signed_up"  # (props: anon, the anonymous id the reader had)
TRIAL_STARTED = "trial_started"
FIRST_PAYMENT = "first_payment"
RENEWED = "renewed"
PAYMENT_FAILED = "payment_failed"
CANCELLED = "cancelled"  # (props: reason)
LAPSED = "lapsed"
NAMES = frozenset(
    {
        ARTICLE_READ,
        METER_SHOWN,
        LAST_FREE,
        PAYWALL_SHOWN,
        OFFER_VIEWED,
        OFFER_CLICKED,
        SIGNED_UP,
        TRIAL_STARTED,
        FIRST_PAYMENT,
        RENEWED,
        PAYMENT_FAILED,
        CANCELLED,
        LAPSED,
    }
)


def redis_key() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:insights:events"


def account(user_id: Any) -> str:
    return f"u:{user_id}"


def encode(name: str, reader_id: str, at: datetime, props: dict[str, Any]) -> str:
    return json.dumps(
        {"id": uuid.uuid4().hex, "n": name, "r": reader_id, "t": at.timestamp(), "p": props},
        separators=(",", ":"),
        default=str,
    )


def record(
    name: str,
    reader_id: str | None,
    *,
    at: datetime | None = None,
    after_commit: bool = True,
    **props: Any,
) -> None:
    """Append one event, after the caller's transaction commits (at once outside one), or at
    once with `after_commit=False` (a door that changes nothing, such as the article page).

    Never raises for a store that is down; a rolled-back change records nothing."""
    if name not in NAMES:
        raise ValueError(f"unknown insights event {name!r}")
    if not settings.INSIGHTS_ENABLED or not reader_id:
        return
    payload = encode(name, reader_id, at or clock.now(), props)
    if after_commit:
        transaction.on_commit(lambda: _append(payload), robust=True)
    else:
        _append(payload)


def _append(payload: str) -> None:
    _local.add(payload)


def client() -> redis.Redis:
    return client_for(settings.INSIGHTS_REDIS_URL)


def _push_redis(payloads: list[str]) -> None:
    """One round trip: append the batch and keep the list bounded (oldest dropped first, if
    nothing has drained it for a long while)."""
    key = redis_key()
    pipe = client().pipeline(transaction=False)
    pipe.rpush(key, *payloads)
    pipe.ltrim(key, -settings.INSIGHTS_BUFFER_MAX, -1)
    pipe.execute()


def _insert_table(payloads: list[str]) -> None:
    from masthead.core.models import PendingEvent

    PendingEvent.objects.bulk_create([PendingEvent(payload=p) for p in payloads])


class _LocalBatch:
    """This process's last few seconds of events, written to the buffer as one batch."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[str] = []
        self.since = time.monotonic()

    def add(self, payload: str) -> None:
        with self.lock:
            if not self.items:
                self.since = time.monotonic()
            if len(self.items) < 10 * settings.INSIGHTS_BATCH:  # bounded while a store is down
                self.items.append(payload)
            due = (
                len(self.items) >= settings.INSIGHTS_BATCH
                or time.monotonic() - self.since >= settings.INSIGHTS_BATCH_SECONDS
            )
        if due:
            self.flush()

    def flush(self) -> int:
        with self.lock:
            items, self.items = self.items, []
        if not items:
            return 0
        try:
            if settings.INSIGHTS_REDIS_URL:
                _push_redis(items)
            else:
                _insert_table(items)
        except Exception as error:  # Redis down, a locked database: drop the batch, say it once
            outage.down(STORE, error)
            return 0
        outage.up(STORE)
        return len(items)


_local = _LocalBatch()


def flush() -> int:
    """Write this process's waiting events to the buffer now (the drain job, exit, tests)."""
    return _local.flush()


def discard_local() -> None:
    """Forget this process's waiting events (tests)."""
    with _local.lock:
        _local.items = []


def _flush_at_exit() -> None:
    with contextlib.suppress(Exception):  # interpreter shutdown: nothing to report to
        flush()


atexit.register(_flush_at_exit)
