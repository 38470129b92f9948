import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate-limit counters and cached session epochs live in the cache: start each test empty."""
    cache.clear()
    yield
    cache.clear()
