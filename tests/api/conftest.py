import pytest
from django.core.cache import cache

from masthead.accounts.actions import issue_app_token
from masthead.core import clock


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters, meters and cached epochs live in the cache: start each test empty."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def bearer():
    """`bearer(user)` -> the Authorization header of a fresh app token for `user`."""

    def make(user) -> dict[str, str]:
        _, raw = issue_app_token(user, name="Test app", now=clock.now())
        return {"Authorization": f"Bearer {raw}"}

    return make
