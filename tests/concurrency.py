"""Helpers for tests that run work at the same moment in several threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, connection

T = TypeVar("T")


def in_parallel(count: int, work: Callable[[int], Any]) -> list:
    """`work(index)` in `count` threads released together; each one's result or exception."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # reported by the caller's assertions
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def waiting_out_sqlite_locks(call: Callable[[], T], *, seconds: float) -> T:
    """`call()`, retried for up to `seconds` while SQLite reports a table locked.

    The SQLite test database is a shared-cache in-memory one (Django's live server shares it
    with its threads), which reports a lock at once instead of waiting out the busy timeout
    that a real site's database file waits: retrying is that wait. PostgreSQL waits itself."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except OperationalError as error:
            if settings.USING_POSTGRES or "locked" not in str(error):
                raise
            if time.monotonic() > deadline:
                raise
            time.sleep(0.005)
