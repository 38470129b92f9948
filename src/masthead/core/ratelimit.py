"""Rate limits per client on search, API reads and token creation.

A fixed window per client and limit: the first request of a window starts it, each request
adds one, the request after the limit is refused until the window ends (Retry-After says
when). Counters live where every process sees them: in Redis (one atomic INCR + EXPIRE) when
REDIS_URL is set, else in the database (`RateCounter`, one conditional UPDATE with F()). A
Redis that cannot be reached lets requests through (logged once per outage): a limit is a
guard, never a reason to refuse every reader. The client is `core.clientip.client_ip`.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from masthead.core import outage
from masthead.core.clientip import client_ip
from masthead.core.redis_clients import client_for

log = logging.getLogger("masthead.ratelimit")
STORE = "rate limits"
API_PREFIX = "/api/"


@dataclass(frozen=True)
class Limit:
    name: str
    requests: int
    seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int


def parse(name: str, value: str) -> Limit | None:
    """ "30/60" -> 30 requests per 60 seconds; "off" (or empty) -> no limit."""
    if value.strip().lower() in {"", "off", "0"}:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ValueError(
            f"rate limit {name} must look like 30/60 (requests/seconds), got {value!r}"
        )
    return Limit(name, int(match[1]), int(match[2]))


def limit_named(name: str) -> Limit | None:
    return parse(name, settings.RATE_LIMITS.get(name, "off"))


def fixed_window(seconds: int, now: float) -> tuple[int, int]:
    """(window start, seconds until it ends) of the fixed `seconds`-long window `now` is in
    (at least 1 second long, and at least 1 second left)."""
    seconds = max(1, seconds)
    start = int(now // seconds) * seconds
    return start, max(1, math.ceil(start + seconds - now))


def _window(limit: Limit, now: float) -> tuple[int, int]:
    return fixed_window(limit.seconds, now)


def _redis() -> redis.Redis:
    return client_for(settings.REDIS_URL)


def redis_client() -> redis.Redis:
    """The shared Redis client this module uses (for other guards kept beside the limits)."""
    return _redis()


def _count_redis(key: str, ttl: int) -> int | None:
    try:
        pipe = _redis().pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, ttl + 1, nx=True)
        count = int(pipe.execute()[0])
    except redis.RedisError as error:
        outage.down(STORE, error)
        return None
    outage.up(STORE)
    return count


def _count_database(key: str, expires: datetime, now: datetime) -> int:
    from masthead.core.models import RateCounter

    with transaction.atomic():
        updated = RateCounter.objects.filter(key=key).update(count=F("count") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    RateCounter.objects.create(key=key, count=1, expires_at=expires)
                    # A new window: forget the windows that have ended (any client's).
                    RateCounter.objects.filter(expires_at__lt=now).delete()
                return 1
            except IntegrityError:  # another process started this window first
                RateCounter.objects.filter(key=key).update(count=F("count") + 1)
        return int(RateCounter.objects.values_list("count", flat=True).get(key=key))


def hit(limit: Limit, client: str, *, now: float | None = None) -> Verdict:
    """Count one request of `client` against `limit`."""
    now = time.time() if now is None else now
    start, left = _window(limit, now)
    key = f"{settings.REDIS_KEY_PREFIX}:rl:{limit.name}:{client}:{start}"
    if settings.REDIS_URL:
        count = _count_redis(key, left)
        if count is None:
            return Verdict(True, 0, 0)
    else:
        expires = datetime.fromtimestamp(start + limit.seconds, tz=UTC) + timedelta(seconds=1)
        count = _count_database(key, expires, datetime.fromtimestamp(now, tz=UTC))
    return Verdict(count <= limit.requests, count, left)


def limit_for(request: HttpRequest) -> Limit | None:
    """Which limit, if any, this request counts against."""
    path, method = request.path_info, request.method
    if path == "/search/" and method in ("GET", "HEAD"):
        return limit_named("search")
    if path.rstrip("/") == "/api/v1/auth/token" and method == "POST":
        return limit_named("api_token")
    if path.startswith("/api/v1/") and method in ("GET", "HEAD"):
        return limit_named("api_read")
    return None


def too_many(request: HttpRequest, limit: Limit, verdict: Verdict) -> HttpResponse:
    """A JSON 429 with a code for the API; the site's page, in its design, for readers."""
    response: HttpResponse
    if request.path_info.startswith(API_PREFIX):
        response = JsonResponse(
            {
                "error": {
                    "code": "rate_limited",
                    "message": f"Too many requests: at most {limit.requests} every "
                    f"{limit.seconds} seconds. Try again in {verdict.retry_after} seconds.",
                    "retry_after": verdict.retry_after,
                }
            },
            status=429,
        )
    else:
        response = render(
            request,
            "429.html",
            {"retry_after": verdict.retry_after, "what": WHAT.get(limit.name, "pages")},
            status=429,
        )
    response["Retry-After"] = str(verdict.retry_after)
    response["Cache-Control"] = "no-store"
    return response


WHAT = {"search": "searches"}


class RateLimitMiddleware:
    """Counts the requests that fall under a limit; the one over it gets a 429."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = limit_for(request)
        if limit is not None:
            verdict = hit(limit, client_ip(request))
            if not verdict.allowed:
                if verdict.count == limit.requests + 1:  # one line per client and window
                    log.warning(
                        "rate limit %s reached by %s (%s requests in %ss)",
                        limit.name,
                        client_ip(request),
                        limit.requests,
                        limit.seconds,
                    )
                return too_many(request, limit, verdict)
        return self.get_response(request)
