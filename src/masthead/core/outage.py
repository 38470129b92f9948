"""Shared stores that may fail: say once per outage that a store is down, and once that it is
back, instead of a traceback per request.

A store is named ("cache", "meter", "database"); `down` is called by whoever caught the
connection error and `up` by whoever next reached the store. The state is per process, so
each worker says it once.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("masthead.outage")
_down: dict[str, float] = {}
_lock = threading.Lock()


def down(store: str, error: BaseException) -> None:
    """Record that `store` could not be reached; logged once until it is reachable again."""
    with _lock:
        if store in _down:
            return
        _down[store] = time.monotonic()
    log.error("%s store is down (%s): serving without it until it is back", store, error)


def up(store: str) -> None:
    """Record that `store` answered; logs the end of an outage once."""
    if store not in _down:  # the common case: no lock, one dict lookup
        return
    with _lock:
        started = _down.pop(store, None)
    if started is not None:
        log.warning("%s store is back after %.1f s", store, time.monotonic() - started)


def is_down(store: str) -> bool:
    return store in _down


def reset() -> None:
    """Forget every outage (tests)."""
    with _lock:
        _down.clear()
