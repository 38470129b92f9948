"""Every change to a reader's sign-in state goes through these functions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from masthead.accounts.models import AccountEvent, AppToken, PersonalToken, SessionEpoch
from masthead.core.mailboxes import canonical_mailbox
from masthead.core.models import ReaderMailbox

TOKEN_SCHEME = "mh_"
PERSONAL_SCHEME = "mhp_"
PERSONAL_SCOPES = ("feed", "api")
# Where a browser session keeps the epoch it was signed in at.
SESSION_EPOCH_KEY = "masthead_session_epoch"
# Writing last_used_at on every API call would turn each read into a write.
LAST_USED_PRECISION = timedelta(minutes=5)
_EPOCH_CACHE_SECONDS = 300


def _epoch_cache_key(user_id: int) -> str:
    return f"accounts:session-epoch:{user_id}"


def current_session_epoch(user_id: int) -> int:
    """The reader's sign-in generation. Cached only in a shared cache (Redis): a per-process
    cache would let other workers keep honouring sessions after "log out everywhere"."""
    if settings.REDIS_URL:
        cached = cache.get(_epoch_cache_key(user_id))
        if cached is not None:
            return int(cached)
    epoch = SessionEpoch.objects.filter(user_id=user_id).values_list("epoch", flat=True).first()
    epoch = epoch or 0
    if settings.REDIS_URL:
        # add, not set: a value written by log_out_everywhere must win over this read.
        cache.add(_epoch_cache_key(user_id), epoch, _EPOCH_CACHE_SECONDS)
    return epoch


def _new_epoch(user: Any, *, now: datetime, kind: str, why: str) -> int:
    """Bump the reader's session epoch and revoke every live app token, with the history row.

    The cached epoch is dropped at once and rewritten once the row is committed: with set, so
    it wins over a concurrent reader's add of the old epoch."""
    with transaction.atomic():
        SessionEpoch.objects.get_or_create(user=user)
        SessionEpoch.objects.filter(user=user).update(epoch=F("epoch") + 1)
        epoch = SessionEpoch.objects.get(user=user).epoch
        revoked = AppToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        # Personal tokens end too: whoever held the account may have made one (decision 0031).
        personal = PersonalToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=now
        )
        detail = f"{why}: session epoch {epoch}; {revoked} app token(s) revoked"
        if personal:
            detail += f"; {personal} personal token(s) revoked"
        AccountEvent.objects.create(user=user, kind=kind, at=now, detail=detail)
        if settings.REDIS_URL:
            key = _epoch_cache_key(user.pk)
            cache.delete(key)
            transaction.on_commit(lambda: cache.set(key, epoch, _EPOCH_CACHE_SECONDS))
    return epoch


def log_out_everywhere(user: Any, *, now: datetime) -> int:
    """Invalidate every browser session and every app token of `user`; return the new epoch."""
    return _new_epoch(
        user, now=now, kind=AccountEvent.Kind.LOGGED_OUT_EVERYWHERE, why="logged out everywhere"
    )


def password_changed(user: Any, *, now: datetime) -> int:
    """A new password (changed, reset, set by staff or a command) ends every other way in:
    every session and app token signed in with the old one. The browser that changed it is
    re-stamped by `keep_session_signed_in`; returns the new epoch."""
    return _new_epoch(
        user, now=now, kind=AccountEvent.Kind.PASSWORD_CHANGED, why="password changed"
    )


def keep_session_signed_in(session: Any, user: Any) -> None:
    """Stamp `session` with the reader's current epoch (the session that changed the password
    stays signed in; Django's update_session_auth_hash has kept its auth hash current)."""
    session[SESSION_EPOCH_KEY] = current_session_epoch(user.pk)


def _digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def issue_app_token(user: Any, *, name: str, now: datetime) -> tuple[AppToken, str]:
    """Create an app token; the raw value is returned once and never stored."""
    raw = TOKEN_SCHEME + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = AppToken.objects.create(
            user=user,
            name=name,
            prefix=raw[: len(TOKEN_SCHEME) + 6],
            digest=_digest(raw),
            created_at=now,
        )
        AccountEvent.objects.create(
            user=user, kind=AccountEvent.Kind.TOKEN_ISSUED, at=now, detail=str(token)
        )
    return token, raw


def revoke_app_token(token: AppToken, *, now: datetime) -> bool:
    """Revoke `token`; False when it was already revoked (nothing changes twice)."""
    with transaction.atomic():
        changed = AppToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if changed:
            AccountEvent.objects.create(
                user_id=token.user_id,
                kind=AccountEvent.Kind.TOKEN_REVOKED,
                at=now,
                detail=str(token),
            )
    return bool(changed)


def live_token(raw_token: str, *, now: datetime) -> AppToken | None:
    """The live token (with its active reader) that `raw_token` is, or None."""
    if not raw_token.startswith(TOKEN_SCHEME) or len(raw_token) > 200:
        return None
    token = (
        AppToken.objects.select_related("user")
        .filter(digest=_digest(raw_token), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        AppToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def live_tokens_of(user: Any) -> list[AppToken]:
    return list(AppToken.objects.filter(user=user, revoked_at__isnull=True))


def remember_address(user: Any, address: str, *, now: datetime) -> None:
    """Record that `user` has (had) `address`, with its canonical mailbox; idempotent. Rows are
    never removed, so a reader who changes address stays the reader who had the trial."""
    address = address.strip().lower()
    if not address or user.pk is None:
        return
    ReaderMailbox.objects.get_or_create(
        user=user,
        address=address,
        defaults={"mailbox": canonical_mailbox(address), "first_seen_at": now},
    )


class PersonalTokenRefused(ValueError):
    """A personal token that cannot be made: the reason is the reader's message."""


def issue_personal_token(
    user: Any, *, name: str, scopes: set[str] | list[str], now: datetime
) -> tuple[PersonalToken, str]:
    """Create a personal token for `user`'s own tools; the raw value is returned once.

    Any signed-in, active reader may hold up to PERSONAL_TOKEN_LIMIT live ones: the token gives
    no access of its own (each fetch asks `access.decide` about its owner, decision 0031)."""
    name = " ".join(name.split())
    wanted = set(scopes)
    if not name:
        raise PersonalTokenRefused("Give the token a name, so you can tell your tokens apart.")
    if len(name) > 60:
        raise PersonalTokenRefused("Keep the name to 60 characters or fewer.")
    if not wanted or not wanted <= set(PERSONAL_SCOPES):
        raise PersonalTokenRefused("Choose what the token may do: the feed, the API, or both.")
    if user.pk is None or not user.is_active:
        raise PersonalTokenRefused("Sign in to create a personal token.")
    raw = PERSONAL_SCHEME + secrets.token_urlsafe(32)
    User = get_user_model()
    with transaction.atomic():
        # One reader's concurrent requests queue here, so the limit holds under races.
        User.objects.select_for_update().filter(pk=user.pk).first()
        live = PersonalToken.objects.filter(user=user, revoked_at__isnull=True).count()
        if live >= settings.PERSONAL_TOKEN_LIMIT:
            raise PersonalTokenRefused(
                f"You already have {live} personal tokens, the most you can have. "
                "Revoke one you no longer use first."
            )
        token = PersonalToken.objects.create(
            user=user,
            name=name,
            prefix=raw[: len(PERSONAL_SCHEME) + 6],
            digest=_digest(raw),
            feed="feed" in wanted,
            api="api" in wanted,
            created_at=now,
        )
        AccountEvent.objects.create(
            user=user,
            kind=AccountEvent.Kind.PERSONAL_TOKEN_ISSUED,
            at=now,
            detail=f"{token} scopes {' '.join(token.scopes)}",
        )
    return token, raw


def revoke_personal_token(token: PersonalToken, *, now: datetime) -> bool:
    """Revoke `token`; False when it was already revoked (nothing changes twice)."""
    with transaction.atomic():
        changed = PersonalToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=now
        )
        if changed:
            AccountEvent.objects.create(
                user_id=token.user_id,
                kind=AccountEvent.Kind.PERSONAL_TOKEN_REVOKED,
                at=now,
                detail=str(token),
            )
    return bool(changed)


def flag_shared_personal_token(token: PersonalToken, *, addresses: int, now: datetime) -> bool:
    """Mark `token` as fetched from `addresses` distinct addresses (more than allowed); the
    flag and its history row are written once, however many fetches find it shared."""
    with transaction.atomic():
        changed = PersonalToken.objects.filter(pk=token.pk, shared_at__isnull=True).update(
            shared_at=now
        )
        if changed:
            AccountEvent.objects.create(
                user_id=token.user_id,
                kind=AccountEvent.Kind.PERSONAL_TOKEN_SHARED,
                at=now,
                detail=f"{token} fetched from {addresses} addresses",
            )
    if changed:
        token.shared_at = now
    return bool(changed)


def personal_tokens_of(user: Any) -> list[PersonalToken]:
    return list(PersonalToken.objects.filter(user=user, revoked_at__isnull=True))
