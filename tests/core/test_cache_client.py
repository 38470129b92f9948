"""The Redis cache backend makes its redis-py client once, and stays fail-soft."""

from __future__ import annotations

import redis

from masthead.core.cache import ResilientRedisCache, ReusingRedisCacheClient


def test_the_client_object_is_made_once_per_server():
    backend = ResilientRedisCache("redis://127.0.0.1:1/0", {})
    client = backend._cache
    assert isinstance(client, ReusingRedisCacheClient)
    first = client.get_client("a")
    assert client.get_client("b") is first
    assert client.get_client("c", write=True) is first  # one server: one pool, one client
    assert isinstance(first, redis.Redis)


def test_reads_spread_over_replicas_with_one_client_each():
    backend = ResilientRedisCache(["redis://127.0.0.1:1/0", "redis://127.0.0.1:2/0"], {})
    client = backend._cache
    writer = client.get_client(write=True)
    readers = {id(client.get_client()) for _ in range(40)}
    assert writer.connection_pool.connection_kwargs["port"] == 1
    assert len(readers) <= 2
    assert len(client._clients) <= 2


def test_an_unreachable_redis_is_still_a_miss(caplog):
    backend = ResilientRedisCache("redis://127.0.0.1:1/0", {"socket_connect_timeout": 0.2})
    assert backend.get("k", "fallback") == "fallback"
    assert backend.get_many(["a", "b"]) == {}
    backend.set("k", 1)  # dropped, no exception
    assert backend.add("k", 1) is False
