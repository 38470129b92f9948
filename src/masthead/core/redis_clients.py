"""One redis-py client per Redis URL in each process, with the site's timeouts, for the parts
that talk to Redis directly rather than through the cache (rate limits, personal tokens'
address sets, the funnel's event buffer). A client holds a connection pool, so it is made
once; what it talks to is shared by every process."""

from __future__ import annotations

import redis
from django.conf import settings

_clients: dict[str, redis.Redis] = {}


def client_for(url: str) -> redis.Redis:
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(
            url,
            socket_timeout=settings.REDIS_TIMEOUT,
            socket_connect_timeout=settings.REDIS_TIMEOUT,
        )
    return client


def forget() -> None:
    """Drop every client (tests that start and stop their own Redis)."""
    _clients.clear()
