"""Shared fixtures for the access and metering tests: both counter backends, clean caches."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core.cache import cache

from masthead.access import campaigns
from masthead.core import generation, outage
from masthead.metering import policy as policy_module
from masthead.metering.models import MeterPolicy
from masthead.metering.stores import DatabaseMeterStore, MeterStore, RedisMeterStore
from masthead.subscriptions.offers import forget_catalogue

SEPT_15 = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """Policy and campaign lists are kept per process; no test may see another's."""
    policy_module.forget_policy()
    campaigns.forget_campaigns()
    generation.forget()
    outage.reset()
    forget_catalogue()
    cache.clear()
    yield
    policy_module.forget_policy()
    campaigns.forget_campaigns()
    forget_catalogue()


def redis_store() -> RedisMeterStore:
    if not settings.REDIS_URL:
        pytest.skip("Redis backend: REDIS_URL is not set (the PostgreSQL+Redis run covers it)")
    store = RedisMeterStore(
        settings.REDIS_URL, prefix=f"{settings.REDIS_KEY_PREFIX}-{uuid.uuid4().hex[:8]}"
    )
    return store


def drop_redis_keys(store: RedisMeterStore) -> None:
    for key in store.client.scan_iter(match=f"{store.prefix}:*"):
        store.client.delete(key)


@pytest.fixture(params=["database", "redis"])
def store(request, monkeypatch) -> Iterator[MeterStore]:
    """Each backend in turn, installed as the store every caller uses."""
    chosen: MeterStore = redis_store() if request.param == "redis" else DatabaseMeterStore()
    monkeypatch.setattr("masthead.metering.actions.get_store", lambda: chosen)
    monkeypatch.setattr("masthead.access.decision.get_store", lambda: chosen)
    yield chosen
    if isinstance(chosen, RedisMeterStore):
        drop_redis_keys(chosen)


def save_policy(**fields: object) -> MeterPolicy:
    """Save the policy as staff would (validated), and make it the one in force."""
    policy = MeterPolicy.objects.first() or MeterPolicy()
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.full_clean()
    policy.save()
    return policy
