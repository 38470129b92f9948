"""One suite, both counter backends (the `store` fixture runs each test on each)."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from masthead.metering.models import MeteredRead, MeterPolicy, PeriodKind
from masthead.metering.policy import month_window
from masthead.metering.stores import MeterState, Outcome, RecordResult
from tests.metering.support import SEPT_15

pytestmark = pytest.mark.django_db

MONTHLY = MeterPolicy()
ROLLING = MeterPolicy(period_kind=PeriodKind.ROLLING_DAYS, rolling_days=30)
ROLLING_2_DAYS = MeterPolicy(period_kind=PeriodKind.ROLLING_DAYS, rolling_days=2)


def record(store, key, article, now, allowance=3, policy=MONTHLY):
    return store.record(key, article, allowance=allowance, now=now, policy=policy)


def test_reads_count_until_the_allowance_is_spent(store):
    outcomes = [record(store, "a:one", article, SEPT_15) for article in (1, 2, 3, 4)]
    assert [(r.outcome, r.used) for r in outcomes] == [
        (Outcome.COUNTED, 1),
        (Outcome.COUNTED, 2),
        (Outcome.COUNTED, 3),
        (Outcome.REFUSED, 3),
    ]
    assert store.state("a:one", 4, now=SEPT_15, policy=MONTHLY) == MeterState(3, False)


def test_rereading_a_counted_article_is_free(store):
    record(store, "a:one", 1, SEPT_15)
    for _ in range(3):
        assert record(store, "a:one", 1, SEPT_15).outcome is Outcome.REREAD
    assert store.state("a:one", 1, now=SEPT_15, policy=MONTHLY) == MeterState(1, True)
    # Even with the allowance spent, a counted article can be read again.
    record(store, "a:one", 2, SEPT_15)
    record(store, "a:one", 3, SEPT_15)
    assert record(store, "a:one", 1, SEPT_15).outcome is Outcome.REREAD


def test_readers_do_not_share_a_meter(store):
    for article in (1, 2, 3):
        record(store, "a:one", article, SEPT_15)
    assert store.state("a:two", 1, now=SEPT_15, policy=MONTHLY) == MeterState(0, False)
    assert record(store, "a:two", 1, SEPT_15).outcome is Outcome.COUNTED


def test_a_new_month_in_the_site_time_zone_brings_a_new_allowance(store, settings):
    settings.TIME_ZONE = "America/New_York"
    end_of_september = datetime(2026, 10, 1, 3, 59, tzinfo=UTC)  # 23:59 Sep. 30 in New York
    for article in (1, 2, 3):
        record(store, "a:one", article, end_of_september)
    assert record(store, "a:one", 4, end_of_september).outcome is Outcome.REFUSED
    october = end_of_september + timedelta(minutes=1)
    assert store.state("a:one", 1, now=october, policy=MONTHLY) == MeterState(0, False)
    assert record(store, "a:one", 4, october).outcome is Outcome.COUNTED


def test_rolling_window_lasts_its_days_from_the_first_read(store):
    first = SEPT_15
    for offset, article in enumerate((1, 2, 3)):
        record(store, "a:one", article, first + timedelta(days=offset), policy=ROLLING)
    day_29 = first + timedelta(days=29, hours=23)
    assert record(store, "a:one", 4, day_29, policy=ROLLING).outcome is Outcome.REFUSED
    day_30 = first + timedelta(days=30)
    assert store.state("a:one", 1, now=day_30, policy=ROLLING) == MeterState(0, False)
    result = record(store, "a:one", 4, day_30, policy=ROLLING)
    assert (result.outcome, result.used) == (Outcome.COUNTED, 1)


def test_carry_over_makes_the_account_count_the_union(store):
    for article in (1, 2):
        record(store, "a:cookie", article, SEPT_15)
    record(store, "u:7", 2, SEPT_15)
    record(store, "u:7", 3, SEPT_15)
    assert store.carry_over("a:cookie", "u:7", now=SEPT_15, policy=MONTHLY) == 1
    assert store.state("u:7", 1, now=SEPT_15, policy=MONTHLY) == MeterState(3, True)
    assert record(store, "u:7", 4, SEPT_15).outcome is Outcome.REFUSED


def test_carry_over_twice_changes_nothing_the_second_time(store):
    record(store, "a:cookie", 1, SEPT_15)
    assert store.carry_over("a:cookie", "u:7", now=SEPT_15, policy=MONTHLY) == 1
    assert store.carry_over("a:cookie", "u:7", now=SEPT_15, policy=MONTHLY) == 0
    assert store.state("u:7", 2, now=SEPT_15, policy=MONTHLY) == MeterState(1, False)


def test_carry_over_of_an_empty_meter_carries_nothing(store):
    assert store.carry_over("a:nobody", "u:7", now=SEPT_15, policy=MONTHLY) == 0
    assert store.state("u:7", 1, now=SEPT_15, policy=MONTHLY) == MeterState(0, False)


def test_carry_over_ignores_last_months_reads(store):
    record(store, "a:cookie", 1, SEPT_15)
    october = datetime(2026, 10, 15, tzinfo=UTC)
    assert store.carry_over("a:cookie", "u:7", now=october, policy=MONTHLY) == 0


def test_carry_over_in_a_rolling_window_keeps_the_anonymous_window_end(store):
    record(store, "a:cookie", 1, SEPT_15, policy=ROLLING)
    later = SEPT_15 + timedelta(days=10)
    assert store.carry_over("a:cookie", "u:7", now=later, policy=ROLLING) == 1
    assert store.state("u:7", 1, now=SEPT_15 + timedelta(days=29), policy=ROLLING).used == 1
    assert store.state("u:7", 1, now=SEPT_15 + timedelta(days=30), policy=ROLLING).used == 0


def test_database_reads_are_append_only_history(store):
    record(store, "a:cookie", 1, SEPT_15)
    record(store, "a:cookie", 1, SEPT_15)
    store.carry_over("a:cookie", "u:7", now=SEPT_15, policy=MONTHLY)
    rows = list(
        MeteredRead.objects.order_by("id").values_list("reader_key", "article_id", "source")
    )
    assert rows == [("a:cookie", 1, "read"), ("u:7", 1, "carried_over")]


example_numbers = itertools.count()
reads = st.lists(st.tuples(st.integers(1, 8), st.integers(0, 72 * 3600)), min_size=1, max_size=25)


@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=reads, allowance=st.integers(0, 4), rolling=st.booleans())
def test_no_reader_ever_reads_more_than_the_allowance_per_period(
    store, sequence, allowance, rolling
):
    """Any reads over any span: counted articles per period <= allowance; re-reads never count.

    The store must agree, read by read, with a plain model of the rules.
    """
    policy = ROLLING_2_DAYS if rolling else MONTHLY
    key = f"a:example-{next(example_numbers)}"  # examples share the test's database
    now = datetime(2026, 9, 28, tzinfo=UTC)  # sequences cross the month end
    counted: dict[object, set[int]] = {}
    window_opened: datetime | None = None
    for article, step in sequence:
        now += timedelta(seconds=step)
        if rolling and window_opened and now >= window_opened + timedelta(days=2):
            window_opened = None
        period = (window_opened or now) if rolling else month_window(now).key
        seen = counted.setdefault(period, set())
        result = record(store, key, article, now, allowance=allowance, policy=policy)
        if article in seen:
            assert result.outcome is Outcome.REREAD
        elif len(seen) < allowance:
            assert result.outcome is Outcome.COUNTED
            seen.add(article)
            if rolling and window_opened is None:
                window_opened = now
                counted[now] = counted.pop(period)
        else:
            assert result.outcome is Outcome.REFUSED
        assert store.state(key, article, now=now, policy=policy).used == len(seen) <= allowance


def test_a_change_of_period_starts_a_new_window_in_both_stores(store):
    """3 reads under a monthly policy, then a 30-day rolling window, then 7 days: each new
    period definition opens its own window, in either store, and both agree read by read."""
    for article in (1, 2, 3):
        record(store, "a:switch", article, SEPT_15, policy=MONTHLY)
    assert record(store, "a:switch", 4, SEPT_15, policy=MONTHLY).outcome is Outcome.REFUSED
    later = SEPT_15 + timedelta(hours=1)
    assert store.state("a:switch", 4, now=later, policy=ROLLING) == MeterState(0, False)
    assert record(store, "a:switch", 4, later, policy=ROLLING) == RecordResult(Outcome.COUNTED, 1)
    assert record(store, "a:switch", 1, later, policy=ROLLING) == RecordResult(Outcome.COUNTED, 2)
    weekly = MeterPolicy(period_kind=PeriodKind.ROLLING_DAYS, rolling_days=7)
    assert store.state("a:switch", 4, now=later, policy=weekly) == MeterState(0, False)
    assert record(store, "a:switch", 5, later, policy=weekly).outcome is Outcome.COUNTED
    # Back to the month: its reads are still there.
    assert store.state("a:switch", 1, now=later, policy=MONTHLY) == MeterState(3, True)
    assert record(store, "a:switch", 6, later, policy=MONTHLY).outcome is Outcome.REFUSED
    assert store.state("a:switch", 4, now=later, policy=ROLLING) == MeterState(2, True)


def test_every_counted_read_is_in_the_database(store):
    """The database is the durable record whichever store counts (Redis writes through)."""
    for article in (1, 2, 3, 4):
        record(store, "a:durable", article, SEPT_15)
    record(store, "a:durable", 1, SEPT_15)  # a re-read adds nothing
    rows = MeteredRead.objects.filter(reader_key="a:durable")
    assert sorted(rows.values_list("article_id", flat=True)) == [1, 2, 3]
    assert set(rows.values_list("period_key", flat=True)) == {month_window(SEPT_15).key}
