"""The Redis cache backend Masthead uses: an unreachable Redis is a cache miss, never a 500.

Django's `RedisCache` raises `redis.ConnectionError` from every call when Redis is down, so
sessions, rate limits, the route table and the fragments would all answer 500 (issue 7: 318
of 319 requests). Here every call catches Redis errors: reads return the default (a miss),
writes are dropped, `add` and `incr` report failure, and the outage is logged once per
process (`masthead.core.outage`). Nothing the site needs to stay correct lives only in this
cache: sessions are `cached_db`, the meter is written through to the database, and a missing
generation means a fresh render.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from masthead.core import outage

STORE = "cache"
T = TypeVar("T")
F = TypeVar("F")


def _guard(call: Callable[[], T], fallback: F) -> T | F:
    try:
        result = call()
    except redis.RedisError as error:
        outage.down(STORE, error)
        return fallback
    outage.up(STORE)
    return result


class ReusingRedisCacheClient(RedisCacheClient):
    """Django's client builds a new `redis.Redis` object around its pool on every cache call
    (about 6% of an article request, bench/README.md); this one builds it once per pool."""

    def __init__(self, servers: Any, **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[Any, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # By pool (one per server), so reads still spread over replicas as Django's do.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = super().get_client(key, write=write)
        return client


class ResilientRedisCache(RedisCache):
    """`RedisCache` whose every call degrades to a miss when Redis cannot be reached, and whose
    client object is made once (`ReusingRedisCacheClient`)."""

    def __init__(self, server: Any, params: Any) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        return _guard(
            lambda: super(ResilientRedisCache, self).add(key, value, timeout, version), False
        )

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return _guard(lambda: super(ResilientRedisCache, self).get(key, default, version), default)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        _guard(lambda: super(ResilientRedisCache, self).set(key, value, timeout, version), None)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        return _guard(lambda: super(ResilientRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: Any = None) -> bool:
        return _guard(lambda: super(ResilientRedisCache, self).delete(key, version), False)

    def get_many(self, keys: Any, version: Any = None) -> dict[Any, Any]:
        return _guard(lambda: super(ResilientRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: Any = None) -> bool:
        return _guard(lambda: super(ResilientRedisCache, self).has_key(key, version), False)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        """Raises ValueError for a missing key (as Django's does); None when Redis is down."""
        return _guard(lambda: super(ResilientRedisCache, self).incr(key, delta, version), None)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[Any]:
        return _guard(
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version), list(data)
        )

    def delete_many(self, keys: Any, version: Any = None) -> None:
        _guard(lambda: super(ResilientRedisCache, self).delete_many(keys, version), None)

    def clear(self) -> Any:
        return _guard(lambda: super(ResilientRedisCache, self).clear(), None)
