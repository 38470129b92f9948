"""Meter counters: the database (embedded default) and Redis (production).

Both answer the same three questions with the same behaviour, pinned by one shared test suite:
`state` (how many articles has this reader used in their current window, and is this one of
them; a single query or a single Redis round trip), `record` (count one read atomically,
never beyond the allowance) and `carry_over` (union an anonymous reader's window into an
account's). A store that cannot be reached raises `MeterUnavailable`; callers apply the
policy's fail mode.
"""

from __future__ import annotations

import enum
import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import redis
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, Q

from masthead.metering.models import MeteredRead, MeterPolicy, ReaderMeter, ReadSource
from masthead.metering.policy import Window, fixed_window, new_window

log = logging.getLogger("masthead.metering")


class MeterUnavailable(Exception):
    """The counter store could not be reached; the policy's fail mode decides what to show."""


@dataclass(frozen=True)
class MeterState:
    used: int  # distinct metered articles counted in the reader's current window
    counted: bool  # this article is one of them (re-reading it is free)


class Outcome(enum.StrEnum):
    COUNTED = "counted"
    REREAD = "reread"
    REFUSED = "refused"  # the allowance was spent, possibly by a concurrent request
    NOT_METERED = "not_metered"  # free, sponsored or subscribers-only: nothing to count


@dataclass(frozen=True)
class RecordResult:
    outcome: Outcome
    used: int


class MeterStore(Protocol):
    # `record` costs one round trip whatever it finds, so a door may skip `state` and let the
    # record say whether the article was counted, re-read or refused.
    record_is_one_round_trip: bool

    def state(
        self, reader_key: str, article_id: int, *, now: datetime, policy: MeterPolicy
    ) -> MeterState: ...

    def record(
        self,
        reader_key: str,
        article_id: int,
        *,
        allowance: int,
        now: datetime,
        policy: MeterPolicy,
    ) -> RecordResult: ...

    def carry_over(
        self, from_key: str, into_key: str, *, now: datetime, policy: MeterPolicy
    ) -> int: ...


class DatabaseMeterStore:
    """Append-only `MeteredRead` rows, unique per reader, period and article.

    Recording locks the reader's `ReaderMeter` row (SELECT ... FOR UPDATE on PostgreSQL; SQLite
    serialises writers with IMMEDIATE transactions), so concurrent reads cannot overspend.
    """

    name = "database"
    record_is_one_round_trip = False  # a locked transaction: `state` first is cheaper

    def state(
        self, reader_key: str, article_id: int, *, now: datetime, policy: MeterPolicy
    ) -> MeterState:
        window = fixed_window(policy, now)
        rows = MeteredRead.objects.filter(reader_key=reader_key)
        if window:
            rows = rows.filter(period_key=window.key)
        else:
            rows = rows.filter(window_opens_at__lte=now, window_closes_at__gt=now)
        try:
            totals = rows.aggregate(
                used=Count("id"), counted=Count("id", filter=Q(article_id=article_id))
            )
        except DatabaseError as exc:
            raise MeterUnavailable(str(exc)) from exc
        return MeterState(used=totals["used"], counted=totals["counted"] > 0)

    def record(
        self,
        reader_key: str,
        article_id: int,
        *,
        allowance: int,
        now: datetime,
        policy: MeterPolicy,
    ) -> RecordResult:
        try:
            ReaderMeter.objects.get_or_create(reader_key=reader_key)
            with transaction.atomic():
                ReaderMeter.objects.select_for_update().get(reader_key=reader_key)
                window = self._current_window(reader_key, now, policy) or new_window(policy, now)
                totals = MeteredRead.objects.filter(
                    reader_key=reader_key, period_key=window.key
                ).aggregate(used=Count("id"), counted=Count("id", filter=Q(article_id=article_id)))
                if totals["counted"]:
                    return RecordResult(Outcome.REREAD, totals["used"])
                if totals["used"] >= allowance:
                    return RecordResult(Outcome.REFUSED, totals["used"])
                MeteredRead.objects.create(
                    reader_key=reader_key,
                    period_key=window.key,
                    article_id=article_id,
                    window_opens_at=window.opens_at,
                    window_closes_at=window.closes_at,
                    read_at=now,
                )
                return RecordResult(Outcome.COUNTED, totals["used"] + 1)
        except DatabaseError as exc:
            raise MeterUnavailable(str(exc)) from exc

    def carry_over(
        self, from_key: str, into_key: str, *, now: datetime, policy: MeterPolicy
    ) -> int:
        try:
            for key in sorted((from_key, into_key)):
                ReaderMeter.objects.get_or_create(reader_key=key)
            with transaction.atomic():
                # Both rows, in a fixed order, so two sign-ins cannot deadlock each other.
                list(
                    ReaderMeter.objects.select_for_update()
                    .filter(reader_key__in=[from_key, into_key])
                    .order_by("reader_key")
                )
                source_window = self._current_window(from_key, now, policy)
                if source_window is None:
                    return 0
                window = self._current_window(into_key, now, policy) or source_window
                already = set(
                    MeteredRead.objects.filter(
                        reader_key=into_key, period_key=window.key
                    ).values_list("article_id", flat=True)
                )
                carried = [
                    MeteredRead(
                        reader_key=into_key,
                        period_key=window.key,
                        article_id=read.article_id,
                        window_opens_at=window.opens_at,
                        window_closes_at=window.closes_at,
                        read_at=read.read_at,
                        source=ReadSource.CARRIED_OVER,
                    )
                    for read in MeteredRead.objects.filter(
                        reader_key=from_key, period_key=source_window.key
                    )
                    if read.article_id not in already
                ]
                MeteredRead.objects.bulk_create(carried, ignore_conflicts=True)
                return len(carried)
        except DatabaseError as exc:
            raise MeterUnavailable(str(exc)) from exc

    @staticmethod
    def _current_window(reader_key: str, now: datetime, policy: MeterPolicy) -> Window | None:
        window = fixed_window(policy, now)
        if window:
            return window
        row = (
            MeteredRead.objects.filter(
                reader_key=reader_key, window_opens_at__lte=now, window_closes_at__gt=now
            )
            .values_list("period_key", "window_opens_at", "window_closes_at")
            .first()
        )
        return Window(*row) if row else None


# One script per read. KEYS[1] is the reader's window hash: `_closes` (ms) plus one field per
# counted article. A window whose end has passed (by Masthead's clock, which the demo can
# move) is dropped before counting; the key's TTL only reclaims memory.
_RECORD = """
local closes = redis.call('HGET', KEYS[1], '_closes')
if closes and tonumber(closes) <= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  closes = false
end
local used = 0
if closes then
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
    return {1, redis.call('HLEN', KEYS[1]) - 1}
  end
  used = redis.call('HLEN', KEYS[1]) - 1
end
if used >= tonumber(ARGV[2]) then
  return {2, used}
end
if not closes then
  redis.call('HSET', KEYS[1], '_closes', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return {0, used + 1}
"""

# Union of an anonymous window's articles into an account's window (same rules as above).
_MERGE = """
local closes = redis.call('HGET', KEYS[1], '_closes')
if closes and tonumber(closes) <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
  closes = false
end
if not closes then
  redis.call('HSET', KEYS[1], '_closes', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
local added = 0
for i = 4, #ARGV, 2 do
  added = added + redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
end
return added
"""

_OUTCOMES = {0: Outcome.COUNTED, 1: Outcome.REREAD, 2: Outcome.REFUSED}
_SLACK_MS = int(timedelta(days=1).total_seconds() * 1000)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ttl(window: Window, now: datetime) -> int:
    """Keep a window's key a day past its end (memory only: expiry is decided by `_closes`)."""
    return _ms(window.closes_at) - _ms(now) + _SLACK_MS


class RedisMeterStore:
    """One hash per reader and period, read in one round trip and changed by one Lua script.

    Keys carry the reader in a hash tag (`{a:...}`), so everything one script touches lives in
    one Redis Cluster slot.
    """

    name = "redis"
    record_is_one_round_trip = True  # one EVALSHA

    def __init__(self, url: str, *, prefix: str, timeout: float = 0.25) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.prefix = prefix
        self._record = self.client.register_script(_RECORD)
        self._merge = self.client.register_script(_MERGE)

    def key(self, reader_key: str, policy: MeterPolicy, now: datetime) -> str:
        window = fixed_window(policy, now)
        slot = window.key if window else f"r{policy.rolling_days}"
        return f"{self.prefix}:meter:{{{reader_key}}}:{slot}"

    def state(
        self, reader_key: str, article_id: int, *, now: datetime, policy: MeterPolicy
    ) -> MeterState:
        key = self.key(reader_key, policy, now)
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hmget(key, ["_closes", str(article_id)])
            pipe.hlen(key)
            (closes, seen), length = pipe.execute()
        except redis.RedisError as exc:
            raise MeterUnavailable(str(exc)) from exc
        if closes is None or int(closes) <= _ms(now):
            return MeterState(used=0, counted=False)
        return MeterState(used=length - 1, counted=seen is not None)

    def record(
        self,
        reader_key: str,
        article_id: int,
        *,
        allowance: int,
        now: datetime,
        policy: MeterPolicy,
    ) -> RecordResult:
        window = new_window(policy, now)
        try:
            code, used = self._record(
                keys=[self.key(reader_key, policy, now)],
                args=[article_id, allowance, _ms(now), _ms(window.closes_at), _ttl(window, now)],
            )
        except redis.RedisError as exc:
            raise MeterUnavailable(str(exc)) from exc
        return RecordResult(_OUTCOMES[int(code)], int(used))

    def carry_over(
        self, from_key: str, into_key: str, *, now: datetime, policy: MeterPolicy
    ) -> int:
        try:
            source = self.client.hgetall(self.key(from_key, policy, now))
            closes = int(source.pop(b"_closes", 0))
            if closes <= _ms(now) or not source:
                return 0
            window = fixed_window(policy, now)
            closes_at = _ms(window.closes_at) if window else closes
            ttl = closes_at - _ms(now) + _SLACK_MS
            pairs = [item for field, value in source.items() for item in (field, value)]
            return int(
                self._merge(
                    keys=[self.key(into_key, policy, now)],
                    args=[_ms(now), closes_at, ttl, *pairs],
                )
            )
        except redis.RedisError as exc:
            raise MeterUnavailable(str(exc)) from exc


@functools.cache
def _redis_store(url: str, prefix: str) -> RedisMeterStore:
    return RedisMeterStore(url, prefix=prefix)


def get_store() -> MeterStore:
    """Redis when settings.REDIS_URL is set, the database otherwise."""
    if settings.REDIS_URL:
        return _redis_store(settings.REDIS_URL, settings.REDIS_KEY_PREFIX)
    return DatabaseMeterStore()
