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
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import redis
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Count, Q

from masthead.core import outage
from masthead.metering.models import MeteredRead, MeterPolicy, ReaderMeter, ReadSource
from masthead.metering.policy import (
    Window,
    fixed_window,
    new_window,
    rolling_prefix,
    window_at,
)

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
        else:  # the reader's open window of this definition (one at most), in one query
            rows = rows.filter(
                period_key__startswith=rolling_prefix(policy),
                window_opens_at__lte=now,
                window_closes_at__gt=now,
            )
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
        """The reader's open window under the policy's period definition. Windows of another
        definition (a month, or N days for another N) do not count once the policy changed:
        both stores start a new window then."""
        window = fixed_window(policy, now)
        if window:
            return window
        row = (
            MeteredRead.objects.filter(
                reader_key=reader_key,
                period_key__startswith=rolling_prefix(policy),
                window_opens_at__lte=now,
                window_closes_at__gt=now,
            )
            .values_list("period_key", "window_opens_at", "window_closes_at")
            .first()
        )
        return Window(*row) if row else None

    @classmethod
    def window_reads(
        cls, reader_key: str, now: datetime, policy: MeterPolicy
    ) -> tuple[Window | None, list[tuple[int, datetime]]]:
        """The reader's open window and the (article, read at) counted in it."""
        window = cls._current_window(reader_key, now, policy)
        if window is None:
            return None, []
        reads = MeteredRead.objects.filter(reader_key=reader_key, period_key=window.key)
        return window, list(reads.values_list("article_id", "read_at"))

    @staticmethod
    def write_through(
        reader_key: str, window: Window, reads: list[tuple[int, datetime]], source: str
    ) -> None:
        """Keep reads counted elsewhere (Redis) in the database; idempotent."""
        MeteredRead.objects.bulk_create(
            [
                MeteredRead(
                    reader_key=reader_key,
                    period_key=window.key,
                    article_id=article_id,
                    window_opens_at=window.opens_at,
                    window_closes_at=window.closes_at,
                    read_at=read_at,
                    source=source,
                )
                for article_id, read_at in reads
            ],
            ignore_conflicts=True,
        )


# One script per read. KEYS[1] is the reader's window hash: `_closes` (ms) plus one field per
# counted article (its read time, ms). A window whose end has passed (by Masthead's clock,
# which the demo can move) is dropped before counting; the key's TTL only reclaims memory.
# The database holds every counted read too (written through), so a missing hash (a Redis
# restart, an eviction, a new window) is not trusted as "nothing read": with ARGV[6] = '0'
# the script answers 3 (missing) and the caller reads the window from the database and calls
# again with ARGV[6] = '1' and the reads found (ARGV[7] closes, ARGV[8] TTL, then pairs of
# article and read time), which seed the hash unless another request seeded it first.
_RECORD = """
local closes = redis.call('HGET', KEYS[1], '_closes')
if closes and tonumber(closes) <= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[1])
  closes = false
end
if not closes then
  if ARGV[6] == '0' then
    return {3, 0, 0}
  end
  if tonumber(ARGV[7]) > tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], '_closes', ARGV[7])
    redis.call('PEXPIRE', KEYS[1], ARGV[8])
    for i = 9, #ARGV, 2 do
      redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    end
    closes = ARGV[7]
  end
end
local used = 0
if closes then
  if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
    return {1, redis.call('HLEN', KEYS[1]) - 1, closes}
  end
  used = redis.call('HLEN', KEYS[1]) - 1
end
if used >= tonumber(ARGV[2]) then
  return {2, used, 0}
end
if not closes then
  closes = ARGV[4]
  redis.call('HSET', KEYS[1], '_closes', closes)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return {0, used + 1, closes}
"""

_OUTCOMES = {0: Outcome.COUNTED, 1: Outcome.REREAD, 2: Outcome.REFUSED}
_MISSING = 3
_SLACK_MS = int(timedelta(days=1).total_seconds() * 1000)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _ttl(window: Window, now: datetime) -> int:
    """Keep a window's key a day past its end (memory only: expiry is decided by `_closes`)."""
    return _ms(window.closes_at) - _ms(now) + _SLACK_MS


class RedisMeterStore:
    """One hash per reader and period, changed by one Lua script, written through to the
    database (`MeteredRead`), which is the durable record.

    Redis decides, atomically (the allowance is checked inside the script); every counted
    read is then inserted in the database (idempotent). A hash Redis no longer has (a
    restart, an eviction) is rebuilt from the database on the reader's next read, so an
    exhausted reader stays exhausted. See docs/decisions/0012-meter-durability.md.

    Keys carry the reader in a hash tag (`{a:...}`), so everything one script touches lives in
    one Redis Cluster slot.
    """

    name = "redis"
    record_is_one_round_trip = True  # one EVALSHA while the reader's hash is in Redis

    def __init__(self, url: str, *, prefix: str, timeout: float = 0.25) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self.prefix = prefix
        self._record = self.client.register_script(_RECORD)
        self._database = DatabaseMeterStore()

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
            outage.down("meter", exc)
            raise MeterUnavailable(str(exc)) from exc
        outage.up("meter")
        if closes is None or int(closes) <= _ms(now):
            # Not in Redis (never read, a window ended, or Redis lost it): the database knows.
            return self._database.state(reader_key, article_id, now=now, policy=policy)
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
        key = self.key(reader_key, policy, now)
        args = [article_id, allowance, _ms(now), _ms(window.closes_at), _ttl(window, now)]
        try:
            code, used, closes = self._record(keys=[key], args=[*args, "0"])
            if int(code) == _MISSING:
                code, used, closes = self._record(
                    keys=[key], args=[*args, "1", *self._seed(reader_key, now, policy)]
                )
        except redis.RedisError as exc:
            outage.down("meter", exc)
            raise MeterUnavailable(str(exc)) from exc
        outage.up("meter")
        outcome = _OUTCOMES[int(code)]
        if outcome is Outcome.COUNTED:
            counted_in = window_at(policy, now, _moment(int(closes)))
            self._keep(reader_key, counted_in, [(article_id, now)], ReadSource.READ)
        return RecordResult(outcome, int(used))

    def _seed(self, reader_key: str, now: datetime, policy: MeterPolicy) -> list[Any]:
        """The reader's open window from the database, as script arguments."""
        try:
            window, reads = self._database.window_reads(reader_key, now, policy)
        except DatabaseError as exc:
            outage.down("database", exc)
            raise MeterUnavailable(f"meter not in Redis and the database is down: {exc}") from exc
        if window is None:
            return [0, 0]
        pairs = [item for article, read_at in reads for item in (article, _ms(read_at))]
        return [_ms(window.closes_at), _ttl(window, now), *pairs]

    @staticmethod
    def _keep(
        reader_key: str, window: Window, reads: list[tuple[int, datetime]], source: str
    ) -> None:
        """Write counted reads through to the database. Redis already decided; a database
        outage here is logged (once) and the read stands."""
        try:
            DatabaseMeterStore.write_through(reader_key, window, reads, source)
        except DatabaseError as exc:
            outage.down("database", exc)
            log.warning("meter read for %s kept in Redis only: %s", reader_key, exc)
        else:
            outage.up("database")

    def carry_over(
        self, from_key: str, into_key: str, *, now: datetime, policy: MeterPolicy
    ) -> int:
        """The union is made in the database (the durable record); the account's hash is
        then dropped, so its next read rebuilds it from the database."""
        from_redis = self.key(from_key, policy, now)
        try:
            source = self.client.hgetall(from_redis)
        except redis.RedisError as exc:
            outage.down("meter", exc)
            raise MeterUnavailable(str(exc)) from exc
        closes = int(source.pop(b"_closes", 0))
        if closes > _ms(now) and source:  # reads Redis holds that the database may lack
            window = window_at(policy, now, _moment(closes))
            reads = [(int(field), _moment(int(value))) for field, value in source.items()]
            self._keep(from_key, window, reads, ReadSource.READ)
        carried = self._database.carry_over(from_key, into_key, now=now, policy=policy)
        try:
            self.client.delete(self.key(into_key, policy, now))
        except redis.RedisError as exc:
            outage.down("meter", exc)
            raise MeterUnavailable(str(exc)) from exc
        return carried


@functools.cache
def _redis_store(url: str, prefix: str) -> RedisMeterStore:
    return RedisMeterStore(url, prefix=prefix)


def get_store() -> MeterStore:
    """Redis when settings.REDIS_URL is set, the database otherwise."""
    if settings.REDIS_URL:
        return _redis_store(settings.REDIS_URL, settings.REDIS_KEY_PREFIX)
    return DatabaseMeterStore()
