"""50 parallel reads for 50 different metered articles with 3 left: exactly 3 are granted."""

import threading
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection

from masthead.metering.models import MeterPolicy
from masthead.metering.stores import DatabaseMeterStore, Outcome
from tests.metering.support import SEPT_15, drop_redis_keys, redis_store

PARALLEL = 50
POLICY = MeterPolicy(anonymous_allowance=5)


def race(store, reader_key: str) -> Counter:
    """Spend 2 of 5, then fire 50 concurrent reads of 50 new articles."""
    for article in (1001, 1002):
        store.record(reader_key, article, allowance=5, now=SEPT_15, policy=POLICY)
    start = threading.Barrier(PARALLEL)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def read(article: int) -> None:
        try:
            start.wait()
            result = store.record(reader_key, article, allowance=5, now=SEPT_15, policy=POLICY)
            with lock:
                outcomes.append(result.outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=read, args=(n,)) for n in range(PARALLEL)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(outcomes)


@pytest.mark.skipif(
    not settings.USING_POSTGRES,
    reason="needs PostgreSQL: SQLite serialises all writers, so it cannot show the race",
)
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_database_grants_exactly_the_reads_left_under_a_race():
    store = DatabaseMeterStore()
    assert race(store, "a:racer") == Counter({Outcome.COUNTED: 3, Outcome.REFUSED: 47})
    assert store.state("a:racer", 1, now=SEPT_15, policy=POLICY).used == 5


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_redis_grants_exactly_the_reads_left_under_a_race():
    store = redis_store()
    try:
        assert race(store, "a:racer") == Counter({Outcome.COUNTED: 3, Outcome.REFUSED: 47})
        assert store.state("a:racer", 1, now=SEPT_15, policy=POLICY).used == 5
    finally:
        drop_redis_keys(store)
