"""Test settings shared by every test: isolated Redis key prefix, local-only browser."""

from __future__ import annotations

import os
import uuid

import pytest

# Each test run gets its own Redis key prefix so runs (and helpers) never see each other's keys.
os.environ.setdefault("MASTHEAD_REDIS_PREFIX", f"mhtest-{uuid.uuid4().hex[:8]}")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Under pytest-xdist each worker gets a Redis database of its own: settings.py decides it,
# since Django reads its settings before this file runs.


def pytest_collection_modifyitems(config, items):
    """Tests under tests/browser/ carry the `browser` marker."""
    for item in items:
        if "/tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def _fresh_offer_catalogue():
    """The offer catalogue is kept per process for a few seconds; no test sees another's."""
    from masthead.subscriptions.offers import forget_catalogue

    forget_catalogue()
    yield
    forget_catalogue()
