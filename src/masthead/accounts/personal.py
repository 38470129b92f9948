"""What happens when a personal token is used: found, checked, limited, counted, watched.

`admit(raw, scope=..., address=..., now=...)` is called once per fetch by the private feed and
the API. In order: the token must exist (404), be live with an active owner (410), carry the
scope (403), not be shared (429) and be within its rate limit (429). An admitted fetch is
counted once a day per token (`PersonalTokenUse`, one UPDATE) and stamps the token's last use
and its coarse network every few minutes at most.

Sharing detection: the distinct client addresses (`core.clientip`, so trusted proxies only)
one token is fetched from in a window are kept in Redis (a set per token and window) or, without
Redis, in `PersonalTokenAddress`; more than PERSONAL_TOKEN_MAX_ADDRESSES throttles the token for
the rest of the window and flags it (once, with a history row) on the owner's account page.
Redis unreachable: the fetch goes through unwatched (a guard, never a reason to refuse).

What a token may read is never decided here: see `access.doors.peek_for` and decision 0031.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from masthead.accounts import actions
from masthead.accounts.models import PersonalToken, PersonalTokenAddress, PersonalTokenUse
from masthead.core import outage, ratelimit
from masthead.core.clientip import coarse_network
from masthead.metering.identity import ReaderIdentity, reads_as_staff

log = logging.getLogger("masthead.accounts")
STORE = "personal token addresses"


class Refusal(enum.StrEnum):
    UNKNOWN = "token_unknown"
    REVOKED = "token_revoked"
    SCOPE = "token_scope"
    SHARED = "token_shared"
    RATE_LIMITED = "rate_limited"


STATUS = {
    Refusal.UNKNOWN: 404,
    Refusal.REVOKED: 410,
    Refusal.SCOPE: 403,
    Refusal.SHARED: 429,
    Refusal.RATE_LIMITED: 429,
}


@dataclass(frozen=True)
class Admission:
    token: PersonalToken | None
    refusal: Refusal | None = None
    message: str = ""
    retry_after: int = 0

    @property
    def status(self) -> int:
        return STATUS[self.refusal] if self.refusal else 200


def is_personal(raw: str) -> bool:
    return raw.startswith(actions.PERSONAL_SCHEME)


def find(raw: str) -> PersonalToken | None:
    """The token `raw` is (live or revoked), with its owner; None for anything else."""
    if not is_personal(raw) or len(raw) > 200:
        return None
    return (
        PersonalToken.objects.select_related("user")
        .filter(digest=hashlib.sha256(raw.encode()).hexdigest())
        .first()
    )


def admit(raw: str, *, scope: str, address: str, now: datetime) -> Admission:
    token = find(raw)
    if token is None:
        return Admission(None, Refusal.UNKNOWN, "There is no personal token with this value.")
    if token.revoked_at is not None or not token.user.is_active:
        return Admission(
            token,
            Refusal.REVOKED,
            "This personal token was revoked and no longer works. Its owner can create a new "
            "one on their account page.",
        )
    if not getattr(token, scope, False):
        other = "the private feed" if scope == "api" else "the API"
        return Admission(
            token,
            Refusal.SCOPE,
            f"This personal token may only be used for {other}. Create a token with the "
            f"“{scope}” scope on your account page.",
        )
    shared = _shared(token, address, now)
    if shared:
        return Admission(
            token,
            Refusal.SHARED,
            "This personal token is being used from more than "
            f"{settings.PERSONAL_TOKEN_MAX_ADDRESSES} places at once, so it is paused for now. "
            "Personal tokens are for your own tools: if you did not share it, revoke it on your "
            "account page and create a new one.",
            shared,
        )
    limit = ratelimit.limit_named("personal_token")
    if limit is not None:
        verdict = ratelimit.hit(limit, f"pt{token.pk}", now=now.timestamp())
        if not verdict.allowed:
            return Admission(
                token,
                Refusal.RATE_LIMITED,
                f"Too many requests with this token: at most {limit.requests} every "
                f"{limit.seconds} seconds. Try again in {verdict.retry_after} seconds.",
                verdict.retry_after,
            )
    _count(token, address, now)
    return Admission(token)


def identity_of(user: Any) -> ReaderIdentity:
    """The reader a token's owner is to `access.decide`: their account, no cookie, no meter
    of their browser (a token's fetch never counts a read)."""
    return ReaderIdentity(
        user_id=user.pk,
        anonymous_id=None,
        is_staff=reads_as_staff(user),
    )


def _address_key(address: str) -> str:
    """A keyed digest of the address: the set tells addresses apart without holding them."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:32]


def _window(now: datetime) -> tuple[int, int]:
    return ratelimit.fixed_window(settings.PERSONAL_TOKEN_ADDRESS_WINDOW, now.timestamp())


def distinct_addresses(token: PersonalToken, address: str, now: datetime) -> int | None:
    """Note `address` for `token` in this window; how many distinct ones it has now (None:
    the store is unreachable)."""
    start, left = _window(now)
    digest = _address_key(address)
    if settings.REDIS_URL:
        key = f"{settings.REDIS_KEY_PREFIX}:pt:addr:{token.pk}:{start}"
        try:
            pipe = ratelimit.redis_client().pipeline(transaction=True)
            pipe.sadd(key, digest)
            pipe.expire(key, left + 1, nx=True)
            pipe.scard(key)
            count = int(pipe.execute()[2])
        except redis.RedisError as error:
            outage.down(STORE, error)
            return None
        outage.up(STORE)
        return count
    PersonalTokenAddress.objects.bulk_create(
        [PersonalTokenAddress(token=token, window=start, address=digest)], ignore_conflicts=True
    )
    count = PersonalTokenAddress.objects.filter(token=token, window=start).count()
    if count == 1:  # the token's first fetch of a window: forget its ended windows
        PersonalTokenAddress.objects.filter(token=token, window__lt=start).delete()
    return count


def _shared(token: PersonalToken, address: str, now: datetime) -> int:
    """Seconds until the window ends when the token counts as shared, else 0."""
    count = distinct_addresses(token, address, now)
    if count is None or count <= settings.PERSONAL_TOKEN_MAX_ADDRESSES:
        return 0
    if actions.flag_shared_personal_token(token, addresses=count, now=now):
        log.warning("personal token %s fetched from %s addresses: throttled", token.pk, count)
    return _window(now)[1]


def _count(token: PersonalToken, address: str, now: datetime) -> None:
    day = now.date()
    bump = PersonalTokenUse.objects.filter(token=token, day=day)
    if not bump.update(fetches=F("fetches") + 1):
        try:
            with transaction.atomic():
                PersonalTokenUse.objects.create(token=token, day=day, fetches=1)
        except IntegrityError:  # another fetch started the day first
            bump.update(fetches=F("fetches") + 1)
    network = coarse_network(address)
    stale = token.last_used_at is None or now - token.last_used_at >= actions.LAST_USED_PRECISION
    if stale or network != token.last_network:
        PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now, last_network=network)
        token.last_used_at, token.last_network = now, network
