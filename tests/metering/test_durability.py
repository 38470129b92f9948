"""The Redis meter survives losing Redis's copy: every counted read is written through to the
database, and a hash Redis no longer has is rebuilt from it (docs/decisions/0012)."""

from datetime import timedelta

import pytest

from masthead.metering.models import MeteredRead, MeterPolicy, PeriodKind
from masthead.metering.stores import DatabaseMeterStore, MeterState, Outcome
from tests.metering.support import SEPT_15, drop_redis_keys, redis_store

pytestmark = [pytest.mark.redis, pytest.mark.django_db]
MONTHLY = MeterPolicy()
ROLLING = MeterPolicy(period_kind=PeriodKind.ROLLING_DAYS, rolling_days=30)


@pytest.fixture
def redis_meter():
    store = redis_store()
    yield store
    drop_redis_keys(store)


@pytest.mark.parametrize("policy", [MONTHLY, ROLLING], ids=["monthly", "rolling"])
def test_an_exhausted_reader_stays_exhausted_when_redis_loses_the_meter(redis_meter, policy):
    for article in (1, 2, 3):
        redis_meter.record("a:spent", article, allowance=3, now=SEPT_15, policy=policy)
    drop_redis_keys(redis_meter)  # a Redis restart with nothing on disk, or an eviction
    later = SEPT_15 + timedelta(days=2)
    assert redis_meter.state("a:spent", 2, now=later, policy=policy) == MeterState(3, True)
    refused = redis_meter.record("a:spent", 4, allowance=3, now=later, policy=policy)
    assert (refused.outcome, refused.used) == (Outcome.REFUSED, 3)
    reread = redis_meter.record("a:spent", 2, allowance=3, now=later, policy=policy)
    assert reread.outcome is Outcome.REREAD
    # Rebuilt once, Redis answers alone again; the database still has exactly three reads.
    assert len(list(redis_meter.client.scan_iter(match=f"{redis_meter.prefix}:*"))) == 1
    assert MeteredRead.objects.filter(reader_key="a:spent").count() == 3


def test_the_rebuilt_window_keeps_its_end(redis_meter):
    redis_meter.record("a:window", 1, allowance=3, now=SEPT_15, policy=ROLLING)
    drop_redis_keys(redis_meter)
    inside = SEPT_15 + timedelta(days=29)
    second = redis_meter.record("a:window", 2, allowance=3, now=inside, policy=ROLLING)
    assert (second.outcome, second.used) == (Outcome.COUNTED, 2)
    after_window = SEPT_15 + timedelta(days=30, seconds=1)  # 30 days from the first read
    fresh = redis_meter.record("a:window", 3, allowance=3, now=after_window, policy=ROLLING)
    assert (fresh.outcome, fresh.used) == (Outcome.COUNTED, 1)


def test_both_stores_agree_after_the_loss(redis_meter):
    for article in (1, 2):
        redis_meter.record("a:agree", article, allowance=3, now=SEPT_15, policy=MONTHLY)
    drop_redis_keys(redis_meter)
    database = DatabaseMeterStore()
    assert database.state("a:agree", 1, now=SEPT_15, policy=MONTHLY) == MeterState(2, True)
    assert redis_meter.state("a:agree", 1, now=SEPT_15, policy=MONTHLY) == MeterState(2, True)
