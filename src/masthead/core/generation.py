"""The site generation: one number every process agrees on, bumped by any change that may
alter what a door serves (publish, unpublish, move, view restriction, site, meter policy,
campaign).

Each process keeps what it rendered or loaded (routes, page shells, fragments, the meter
policy, the campaigns) stamped with the generation it was made under, and trusts it only while
the shared generation still says so. The number lives where every process can read it:

- with `REDIS_URL`, in the shared cache (one small GET, usually in the same round trip as
  the fragments). When the key is missing (Redis emptied) it starts again at a random 48-bit
  value, never one a process may still hold. When Redis cannot be reached the generation is
  unknown (None): callers then render fresh and keep nothing.
- on the embedded default (no Redis: the cache is per process), in the database
  (`core.SiteGeneration`, one primary-key SELECT). The bump is an UPDATE in the transaction
  of the change itself, so it commits with it.

`recent()` is for hot paths that are not the article page (the policy and campaigns on every
page): it reuses the value this process read in the last `RECENT_SECONDS`, so a narrowing
change reaches every worker within a second. See docs/decisions/0011-shared-generation.md.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F

from masthead.core import outage

CACHE_KEY = "core:generation"
RECENT_SECONDS = 0.5
log = logging.getLogger("masthead.generation")
_last: dict[str, tuple[float, int]] = {}
# What each process keeps under a generation (`kept`), by name.
_kept: dict[str, tuple[int, Any]] = {}
T = TypeVar("T")


def _in_cache() -> bool:
    return bool(settings.REDIS_URL)


def _random_start() -> int:
    return secrets.randbits(48) + 1


def _from_database() -> int | None:
    from masthead.core.models import SiteGeneration

    try:
        value = SiteGeneration.objects.filter(pk=1).values_list("value", flat=True).first()
        if value is None:
            try:
                with transaction.atomic():
                    SiteGeneration.objects.create(pk=1, value=_random_start())
            except IntegrityError:
                pass  # another process created it first
            value = SiteGeneration.objects.filter(pk=1).values_list("value", flat=True).first()
    except DatabaseError as error:
        outage.down("database", error)
        return None
    outage.up("database")
    return value


def read(keys: Iterable[str] = ()) -> tuple[int | None, dict[str, Any]]:
    """The generation now (None when it cannot be read) and the cache entries under `keys`,
    in one cache round trip when the generation lives in the cache."""
    keys = list(keys)
    generation: int | None
    if _in_cache():
        found = cache.get_many([CACHE_KEY, *keys])
        generation = found.pop(CACHE_KEY, None)
        if generation is None:
            cache.add(CACHE_KEY, _random_start(), None)
            generation = cache.get(CACHE_KEY)
        if generation is None:  # the cache is unreachable: nothing cached can be trusted
            return None, {}
        generation = int(generation)
    else:
        generation = _from_database()
        found = cache.get_many(keys) if keys and generation is not None else {}
    _last["value"] = (time.monotonic(), generation) if generation is not None else (0.0, 0)
    return generation, found


def current() -> int | None:
    return read()[0]


def recent() -> int | None:
    """The generation this process read less than `RECENT_SECONDS` ago, else read it now."""
    seen = _last.get("value")
    if seen and seen[0] and time.monotonic() - seen[0] < RECENT_SECONDS:
        return seen[1]
    return current()


def bump(**_: object) -> None:
    """Retire everything every process keeps: the next read of each is fresh."""
    _last.clear()
    if _in_cache():
        done: object
        try:
            done = cache.incr(CACHE_KEY)
        except ValueError:
            done = cache.add(CACHE_KEY, _random_start(), None) or None
        if done is None:
            log.error(
                "could not bump the site generation: the cache is unreachable; "
                "every process renders fresh until it is back"
            )
        return
    from masthead.core.models import SiteGeneration

    if not SiteGeneration.objects.filter(pk=1).update(value=F("value") + 1):
        try:
            with transaction.atomic():
                SiteGeneration.objects.create(pk=1, value=_random_start())
        except IntegrityError:
            SiteGeneration.objects.filter(pk=1).update(value=F("value") + 1)


def bump_now_and_on_commit(**_: object) -> None:
    """Bump now (this process sees the change at once) and again on commit (another process
    may have cached the old rows between the two)."""
    bump()
    transaction.on_commit(bump)


def forget() -> None:
    """Drop this process's last read (tests)."""
    _last.clear()


def kept(name: str, load: Callable[[], T]) -> T:
    """What `load()` returns, kept in this process under the generation it was loaded in and
    trusted while the shared generation (`recent`) still says so. While the generation cannot
    be read nothing is kept: `load()` runs each time. For rows read on every request (the meter
    policy, the offers, the running split tests, institutions' networks, the demo clock)."""
    stamp = recent()
    held = _kept.get(name)
    if held is not None and stamp is not None and held[0] == stamp:
        return held[1]
    value = load()
    if stamp is not None:
        _kept[name] = (stamp, value)
    return value


def held(name: str) -> Any | None:
    """What this process keeps under `name` now, if anything (tests)."""
    entry = _kept.get(name)
    return entry[1] if entry is not None else None


def drop(name: str) -> None:
    """Forget what this process keeps under `name`: the next `kept` loads it again."""
    _kept.pop(name, None)
