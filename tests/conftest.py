"""Suite-wide: background tasks run as they are enqueued (the immediate backend), so a test
sees the e-mail an action queued once its transaction commits. The queue's own tests
(tests/core/test_queue*.py) switch to the database and Redis backends explicitly."""

from __future__ import annotations

from typing import Any

import pytest

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def fresh_cache() -> None:
    """Every test starts with an empty cache: allauth's rate limits (one confirmation e-mail per
    address in 3 minutes), our own counters and cached epochs would otherwise carry over from
    whichever test ran before in the same worker."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """A fast hasher: the production one (PBKDF2, a million rounds) costs about half a second
    per account made or password checked, which the suite does thousands of times. Tests of
    hashing itself set their own list (tests/accounts/test_new_password_ends_credentials.py)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def tasks_run_immediately(settings: Any) -> None:
    settings.TASKS = IMMEDIATE


@pytest.fixture(autouse=True)
def insights_batch_waits(settings: Any) -> Any:
    """Funnel events wait in the process's batch until it is full (50) or flushed: never on a
    timer mid-test, so the request-cost tests stay exact. tests/insights flushes on purpose."""
    from masthead.core import events

    settings.INSIGHTS_BATCH_SECONDS = 3600.0
    events.discard_local()
    yield
    events.discard_local()


# What a reader's browser sends. Django's test client sends no User-Agent at all, which the
# machine policy reads as an unidentified automated client (docs/machines.md); the suite's
# requests are a browser's unless a test sends its own (tests/metering/test_machines.py).
BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture(autouse=True, scope="session")
def test_client_is_a_browser() -> Any:
    from django.test.client import RequestFactory

    base = RequestFactory._base_environ

    def with_browser(self: Any, **request: Any) -> dict[str, Any]:
        environ = base(self, **request)
        environ.setdefault("HTTP_USER_AGENT", BROWSER)
        return environ

    RequestFactory._base_environ = with_browser  # type: ignore[method-assign]
    yield
    RequestFactory._base_environ = base  # type: ignore[method-assign]
