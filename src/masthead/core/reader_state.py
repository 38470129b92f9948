"""A signed-in reader's state (their user row, their latest subscription) kept in the shared
cache, stamped with the reader's version, so a subscriber's request needs no SQL to know who
they are and what they may read.

Every entry is stored as `(stamp, value)` where the stamp is `(everyone's version, the
reader's version)`, read in the same `MGET` as the entry. Any change that may alter what the
entry says bumps the reader's version (`bump(user_id)`: a user save, a group or permission
change, any subscription save, `transitions.transition()`), or everyone's (`bump_everyone()`:
a group's permissions, a plan), now and again when the transaction commits: a request that
read the old row before the commit cached it under a version that the second bump retires.
A missing version starts at a random 48-bit value, never one an entry may still carry.

Only with Redis: without it the cache is per process, and another worker would keep honouring
a cancelled subscription; then every read goes to the database (`enabled()` is False). When
Redis cannot be reached the versions are unknown: the caller reads the database and keeps
nothing. Entries expire after `TIMEOUT` seconds whatever happens (a bump lost to an outage).
See docs/decisions/0025-narrow-path-and-signed-in-cache.md.
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar, Token
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

TIMEOUT = 600
EVERYONE = "reader-state:v"
MISSING = object()
Stamp = tuple[int, int]
# What this request already read of a reader's state (`remembered`/`remember`): the access
# decision, the gift box and the standing notice ask for the same subscription once. Set by
# `core.requestlog.RequestScope` (both the full stack and the narrow path) for one request
# only, and emptied for a reader by every `bump`, so a change made during the request is
# read again. None outside a request (jobs, commands): nothing is remembered there.
_memo: ContextVar[dict[tuple[int, str], Any] | None] = ContextVar("reader_state_memo", default=None)


def start_request() -> Token[dict[tuple[int, str], Any] | None]:
    return _memo.set({})


def end_request(token: Token[dict[tuple[int, str], Any] | None]) -> None:
    _memo.reset(token)


def remembered(user_id: int, part: str) -> Any:
    """What this request already read of `part` for this reader, or MISSING."""
    memo = _memo.get()
    return MISSING if memo is None else memo.get((user_id, part), MISSING)


def remember(user_id: int, part: str, value: Any) -> None:
    memo = _memo.get()
    if memo is not None:
        memo[(user_id, part)] = value


def _forget(user_id: int | None) -> None:
    memo = _memo.get()
    if memo:
        for key in [key for key in memo if user_id is None or key[0] == user_id]:
            del memo[key]


def enabled() -> bool:
    return bool(settings.REDIS_URL)


def _version_key(user_id: int) -> str:
    return f"reader-state:v:{user_id}"


def _key(user_id: int, part: str) -> str:
    return f"reader-state:{user_id}:{part}"


def _start(key: str) -> int | None:
    cache.add(key, secrets.randbits(48) + 1, None)
    value = cache.get(key)
    return int(value) if value is not None else None


def read(user_id: int, part: str) -> tuple[Stamp | None, Any]:
    """(stamp, value): the value kept under the current stamp, or MISSING. The stamp is None
    when the versions cannot be read (Redis down): then nothing may be kept."""
    version_key = _version_key(user_id)
    key = _key(user_id, part)
    found = cache.get_many([EVERYONE, version_key, key])
    everyone = found.get(EVERYONE)
    if everyone is None:
        everyone = _start(EVERYONE)
    mine = found.get(version_key)
    if mine is None:
        mine = _start(version_key)
    if everyone is None or mine is None:
        return None, MISSING
    stamp = (int(everyone), int(mine))
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == stamp:
        return stamp, entry[1]
    return stamp, MISSING


def keep(user_id: int, part: str, stamp: Stamp | None, value: Any) -> None:
    """Keep `value` (read from the database after `read` gave `stamp`)."""
    if stamp is not None:
        cache.set(_key(user_id, part), (stamp, value), TIMEOUT)


def _incr(key: str) -> None:
    try:
        done = cache.incr(key)
    except ValueError:  # missing: start again at a random value
        done = None
        cache.set(key, secrets.randbits(48) + 1, None)
    if done is None:
        cache.set(key, secrets.randbits(48) + 1, None)


def bump(user_id: int | None) -> None:
    """Retire what is kept for this reader, now and once the transaction commits."""
    if user_id is not None:
        _forget(user_id)
    if user_id is None or not enabled():
        return
    key = _version_key(user_id)
    _incr(key)
    transaction.on_commit(lambda: _incr(key))


def bump_everyone() -> None:
    _forget(None)
    if not enabled():
        return
    _incr(EVERYONE)
    transaction.on_commit(lambda: _incr(EVERYONE))
