"""Search engine crawlers verified the way their operators document: reverse DNS of the
connecting address must name the operator's domain, and that name must resolve forward to the
same address. A User-Agent or X-Forwarded-For claim alone proves nothing.

The answer is kept in the shared cache (Redis) for a day, so every worker asks DNS once per
crawler address; without a shared cache (the embedded default, whose cache is per process)
it is checked on every request that claims a crawler: no verdict lives in process memory.
"""

from __future__ import annotations

import logging
import socket
from typing import Protocol

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger("masthead.metering")

# User-Agent token -> host name suffixes its operator's crawlers resolve to.
CRAWLER_DOMAINS: dict[str, tuple[str, ...]] = {
    "googlebot": (".googlebot.com", ".google.com"),
    "bingbot": (".search.msn.com",),
    "applebot": (".applebot.apple.com",),
}
CACHE_SECONDS = 24 * 3600


class Resolver(Protocol):
    def reverse(self, address: str) -> str | None: ...

    def forward(self, host: str) -> set[str]: ...


class SocketResolver:
    """The system resolver."""

    def reverse(self, address: str) -> str | None:
        try:
            return socket.gethostbyaddr(address)[0]
        except OSError:
            return None

    def forward(self, host: str) -> set[str]:
        try:
            return {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
        except OSError:
            return set()


resolver: Resolver = SocketResolver()


def claimed_crawler(user_agent: str) -> str | None:
    agent = user_agent.lower()
    return next((name for name in CRAWLER_DOMAINS if name in agent), None)


def is_verified_crawler(address: str, user_agent: str) -> bool:
    """True only when `address` really belongs to the crawler the User-Agent names (cached)."""
    name = claimed_crawler(user_agent)
    if not name or not address:
        return False
    cache_key = f"metering:crawler:{name}:{address}"
    shared = shared_cache()
    cached = cache.get(cache_key) if shared else None
    if cached is not None:
        return bool(cached)
    host = (resolver.reverse(address) or "").lower().rstrip(".")
    verified = host.endswith(CRAWLER_DOMAINS[name]) and address in resolver.forward(host)
    if not verified:
        log.info("crawler claim refused: %s from %s (reverse DNS %r)", name, address, host)
    if shared:
        cache.set(cache_key, int(verified), CACHE_SECONDS)
    return verified


def shared_cache() -> bool:
    """Whether Django's cache is shared by every worker (Redis), so a verdict may be kept."""
    return bool(settings.REDIS_URL)
